// The watchdog's own configuration file (JSON): how to reach the pool, fence commands, timing overrides, where
// to keep its state, metrics and logs. Everything about servers and guests comes from the pool's HA record.
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { DEFAULT_TIMING, TimingSchema } from "../../ha/ha-record";
import { secretFileProblem } from "./secret-files";
import { EtcdConfigSchema, resolveEtcdPaths } from "../replica/etcd-config";

const ms = (key: string, min: number) =>
  z
    .number({ error: `${key} must be a number of milliseconds` })
    .int({ error: `${key} must be a whole number of milliseconds` })
    .min(min, { error: `${key} must be at least ${min} ms` });

const port = (key: string) =>
  z
    .number({ error: `${key} must be a number` })
    .int({ error: `${key} must be a whole number` })
    .min(0, { error: `${key} must be 0..65535` })
    .max(65535, { error: `${key} must be 0..65535` });

// A power fence method. Two forms, both confirmed by a status query (see README "Fencing: the command contract"):
// - commands: `off` and `status` argv (ipmitool style). The password reaches them through `env` (ipmitool -E
//   reads IPMI_PASSWORD) or as a file (`-f {passwordFile}`), never through an argument.
// - a fence agent (fence-agents convention, as Pacemaker runs them): `agent` argv, and `options` written as
//   key=value lines on its standard input, with action=off, then action=status.
// Placeholders: {server}, {address} everywhere; {passwordFile} everywhere; {password} only in `env` values and
// agent `options` values (the environment and stdin are private to the process; arguments are not).
const SAFE_FORM =
  'pass it the way the tool reads it: "env": {"IPMI_PASSWORD": "{password}"} with ipmitool -E, or "-f", "{passwordFile}" (ipmitool reads the file), ' +
  'or a fence agent: "agent": ["fence_ipmilan"], "options": {"password": "{password}", ...} (key=value lines on its stdin)';
const NEW_FORM =
  '{"off": ["ipmitool", "-I", "lanplus", "-H", "{server}-ilo", "-U", "admin", "-E", "chassis", "power", "off"], ' +
  '"status": ["ipmitool", "-I", "lanplus", "-H", "{server}-ilo", "-U", "admin", "-E", "chassis", "power", "status"], ' +
  '"env": {"IPMI_PASSWORD": "{password}"}, "passwordFile": "/etc/ovm-ha/ipmi-password"}';

const argvOf = (key: string) =>
  z
    .array(z.string({ error: `${key} arguments must be strings` }), { error: `${key} must be a list of arguments (argv)` })
    .min(1, { error: `${key} must not be empty` });

const FenceMethodSchema = z
  .object(
    {
      off: argvOf("off").optional(),
      status: argvOf("status").optional(),
      agent: argvOf("agent").optional(),
      options: z.record(z.string(), z.string({ error: "agent option values must be strings" }), { error: "options must map option names to strings" }).optional(),
      env: z.record(z.string(), z.string({ error: "env values must be strings" }), { error: "env must map variable names to strings" }).optional(),
      // Where the watchdog reads the password: a file (mode 0600, checked at start) or its own environment.
      passwordFile: z.string({ error: "passwordFile must be a path" }).min(1).optional(),
      passwordFromEnv: z.string({ error: "passwordFromEnv must be an environment variable name" }).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "passwordFromEnv must be an environment variable name" }).optional(),
      // The whole fence (off, then status until it says off) must end within this; default timing.fenceTimeoutMs.
      timeoutMs: ms("timeoutMs", 100).optional(),
      // Pause between two status queries while the status does not say off yet.
      statusIntervalMs: ms("statusIntervalMs", 50).optional(),
      // Forms that are refused with a message showing the safe form (z.unknown so that the message is ours).
      command: z.unknown().optional(),
      password: z.unknown().optional(),
      passwordEnv: z.unknown().optional(),
    },
    { error: 'a fence method must be an object: {"off": [...], "status": [...], ...} or {"agent": [...], "options": {...}, ...}' },
  )
  .strict()
  .superRefine((f, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
    if (f.command !== undefined) issue(["command"], `the one-command form is refused: a power fence is confirmed by a status query now. Give "off" and "status" (secrets out of the arguments), e.g. ${NEW_FORM}`);
    if (f.password !== undefined) issue(["password"], 'a password written in the config is refused: put it in a file only the watchdog\'s user can read (chmod 600) and give "passwordFile"');
    if (f.passwordEnv !== undefined) issue(["passwordEnv"], 'renamed "passwordFromEnv" (the watchdog\'s own environment variable that holds the password); hand it to the command with "env": {"IPMI_PASSWORD": "{password}"}');
    const commandForm = f.off !== undefined || f.status !== undefined;
    if (f.command !== undefined) return;
    if (commandForm && f.agent !== undefined) issue([], 'give either "off" + "status" (commands) or "agent" (a fence agent), not both');
    else if (commandForm) {
      if (!f.off) issue(["off"], 'missing: the command that powers the server off (e.g. [..., "chassis", "power", "off"])');
      if (!f.status) issue(["status"], 'missing: the query that confirms the server is off (e.g. [..., "chassis", "power", "status"]); "off" exiting 0 is not proof');
      if (f.options !== undefined) issue(["options"], 'options are for a fence agent ("agent"); commands take arguments and "env"');
    } else if (f.agent === undefined) issue([], `give "off" and "status" commands, or a fence "agent"; e.g. ${NEW_FORM}`);
    const argvs: [string, string[] | undefined][] = [["off", f.off], ["status", f.status], ["agent", f.agent]];
    for (const [key, argv] of argvs) {
      argv?.forEach((a, i) => {
        if (a.includes("{password}")) issue([key, i], `"{password}" in a command's arguments is refused (any local user sees arguments with ps): ${SAFE_FORM}`);
      });
    }
    for (const [k, v] of Object.entries(f.env ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) issue(["env", k], "not an environment variable name");
      if (/[\0\n]/.test(v)) issue(["env", k], "values must be one line");
    }
    for (const [k, v] of Object.entries(f.options ?? {})) {
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(k)) issue(["options", k], "agent option names are letters, digits, _ . - (one key=value line each on the agent's stdin)");
      if (k === "action" || k === "option") issue(["options", k], "set by the watchdog (off, then status)");
      if (/[\0\r\n]/.test(v)) issue(["options", k], "values must be one line");
    }
    if (f.passwordFile !== undefined && f.passwordFromEnv !== undefined) issue(["passwordFile"], 'give "passwordFile" or "passwordFromEnv", not both');
    const texts = [...(f.off ?? []), ...(f.status ?? []), ...(f.agent ?? []), ...Object.values(f.env ?? {}), ...Object.values(f.options ?? {})];
    const usesPassword = texts.some((t) => t.includes("{password}"));
    const usesFile = texts.some((t) => t.includes("{passwordFile}"));
    if (usesPassword && f.passwordFile === undefined && f.passwordFromEnv === undefined) issue([], 'uses {password} but gives neither "passwordFile" nor "passwordFromEnv"');
    if (usesFile && f.passwordFile === undefined) issue([], 'uses {passwordFile} but gives no "passwordFile"');
    if ((f.passwordFile !== undefined || f.passwordFromEnv !== undefined) && !usesPassword && !usesFile) {
      issue([], `a password is given but never handed to the command: ${SAFE_FORM}`);
    }
  })
  .transform(({ command: _c, password: _p, passwordEnv: _e, ...method }) => method);
export type FenceMethodConfig = z.infer<typeof FenceMethodSchema>;

const Endpoint = z
  .object({
    address: z.string({ error: "address must be a host name or IP address" }).min(1, { error: "address must not be empty" }),
    port: port("port").default(22),
  })
  .strict();

export const WatchdogConfigSchema = z
  .object({
    pool: z
      .object({
        // Where to read the HA record first; afterwards any server of the pool that answers.
        addresses: z
          .array(z.union([z.string().min(1).transform((address) => ({ address, port: 22 })), Endpoint]), {
            error: "pool.addresses must be a list of server addresses",
          })
          .min(1, { error: "pool.addresses must list at least one server address" }),
        // The cluster root repository (Oracle VM: /OVS): .ovm-ha/pool.json and running_pool/*/ha.json.
        clusterRoot: z.string({ error: "pool.clusterRoot must be a path" }).startsWith("/", { error: "pool.clusterRoot must be an absolute path" }).default("/OVS"),
      })
      .strict(),
    ssh: z
      .object({
        user: z.string({ error: "ssh.user must be a string" }).min(1).default("root"),
        privateKeyFile: z.string({ error: "ssh.privateKeyFile must be a path" }).optional(),
        passphrase: z.string({ error: "ssh.passphrase must be a string" }).optional(),
        passphraseFile: z.string({ error: "ssh.passphraseFile must be a path" }).optional(),
        agent: z.union([z.literal(true), z.string()], { error: "ssh.agent must be true or a socket path" }).optional(),
        knownHostsFile: z.string({ error: "ssh.knownHostsFile must be a path" }).optional(),
        // Pinned SHA256 fingerprints by server name or address; win over known_hosts.
        hostKeyFingerprints: z.record(z.string(), z.string().regex(/^SHA256:/, { error: "fingerprints look like SHA256:..." })).default({}),
        sudo: z.boolean({ error: "ssh.sudo must be true or false" }).default(false),
        // Source address of the watchdog's SSH connections (a host with several addresses; the lab's partition --from).
        localAddress: z.string({ error: "ssh.localAddress must be an IP address of this host" }).min(1).optional(),
      })
      .strict()
      .superRefine((s, ctx) => {
        if (!s.privateKeyFile && !s.agent) ctx.addIssue({ code: "custom", path: ["privateKeyFile"], message: "give ssh.privateKeyFile or ssh.agent" });
        if (!s.knownHostsFile && Object.keys(s.hostKeyFingerprints).length === 0) {
          ctx.addIssue({ code: "custom", path: ["knownHostsFile"], message: "give ssh.knownHostsFile or ssh.hostKeyFingerprints (host keys are always verified)" });
        }
        if (s.passphrase !== undefined && s.passphraseFile !== undefined) ctx.addIssue({ code: "custom", path: ["passphrase"], message: "give ssh.passphrase or ssh.passphraseFile, not both" });
      }),
    // Power fence per server name; "*" applies to every server without its own entry.
    fence: z.record(z.string(), FenceMethodSchema, { error: "fence must map server names (or \"*\") to fence methods" }).default({}),
    timing: z
      .object({
        heartbeatIntervalMs: z.number().optional(),
        heartbeatMisses: z.number().optional(),
        stabilityMs: z.number().optional(),
        restartBudget: z.object({ max: z.number(), windowMs: z.number() }).optional(),
        leaseMs: z.number().optional(),
        fenceTimeoutMs: z.number().optional(),
        fenceRetryMs: z.number().optional(),
      })
      .strict()
      .default({}),
    heartbeat: z
      .object({
        // `xm info` (free memory) every N rounds; in between, free memory follows the listed guests' memory.
        infoEveryRounds: z.number().int().min(1, { error: "heartbeat.infoEveryRounds must be at least 1" }).default(5),
      })
      .strict()
      .default({ infoEveryRounds: 5 }),
    commands: z
      .object({
        startTimeoutMs: ms("commands.startTimeoutMs", 1000).max(25000, { error: "commands.startTimeoutMs must be at most 25000 ms (the core waits 30 s for a lost start)" }).default(20000),
        migrateTimeoutMs: ms("commands.migrateTimeoutMs", 1000).default(120000),
        stopTimeoutMs: ms("commands.stopTimeoutMs", 1000).default(90000),
      })
      .strict()
      .default({ startTimeoutMs: 20000, migrateTimeoutMs: 120000, stopTimeoutMs: 90000 }),
    stateFile: z.string({ error: "stateFile must be a path" }).min(1).default("/var/lib/ovm-ha/watchdog-state.json"),
    // /metrics and /status over HTTP. Loopback unless said otherwise; beyond it, /status needs a bearer token.
    metrics: z
      .object({
        port: port("metrics.port"),
        host: z.string({ error: "metrics.host must be an IP address or host name" }).min(1).default("127.0.0.1"),
        // A file holding the token (mode 0600): /status then answers only "Authorization: Bearer <token>".
        statusTokenFile: z.string({ error: "metrics.statusTokenFile must be a path" }).min(1).optional(),
      })
      .strict()
      .superRefine((m, ctx) => {
        if (!isLoopbackHost(m.host) && m.statusTokenFile === undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["statusTokenFile"],
            message: `required when metrics.host is "${m.host}" (reachable beyond this machine): /status tells every server, guest and fence event of the pool. Create one: openssl rand -hex 32 > /etc/ovm-ha/status-token && chmod 600 /etc/ovm-ha/status-token; or listen on 127.0.0.1 (the default)`,
          });
        }
      })
      .optional(),
    log: z
      .object({
        level: z.enum(["fatal", "error", "warn", "info", "debug", "trace"], { error: "log.level must be one of fatal, error, warn, info, debug, trace" }).default("info"),
        file: z.string().optional(),
      })
      .strict()
      .default({ level: "info" }),
    // Replicas: leader election and durable state in etcd (watchdog/replica). Absent: one watchdog, state file.
    etcd: EtcdConfigSchema.optional(),
  })
  .strict();

export type WatchdogConfig = z.infer<typeof WatchdogConfigSchema>;

export class ConfigError extends Error {}

/** Validates a parsed config; every problem is one `key.path: message` line. */
export function parseWatchdogConfig(raw: unknown, baseDir = process.cwd()): WatchdogConfig {
  const r = WatchdogConfigSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(config)"}: ${i.message}${i.code === "unrecognized_keys" ? ` (${(i as { keys?: string[] }).keys?.join(", ")})` : ""}`);
    throw new ConfigError(`invalid watchdog config:\n  ${lines.join("\n  ")}`);
  }
  const c = r.data;
  // Relative paths are relative to the config file.
  const abs = (p: string | undefined) => (p === undefined ? p : path.resolve(baseDir, p));
  c.ssh.privateKeyFile = abs(c.ssh.privateKeyFile);
  c.ssh.passphraseFile = abs(c.ssh.passphraseFile);
  c.ssh.knownHostsFile = abs(c.ssh.knownHostsFile);
  c.stateFile = abs(c.stateFile)!;
  if (c.log.file) c.log.file = abs(c.log.file);
  for (const f of Object.values(c.fence)) f.passwordFile = abs(f.passwordFile);
  if (c.metrics?.statusTokenFile !== undefined) c.metrics.statusTokenFile = abs(c.metrics.statusTokenFile);
  if (c.etcd) resolveEtcdPaths(c.etcd, baseDir);
  // Overrides must make a valid timing on top of the defaults (the record's own timing is checked on read).
  const t = TimingSchema.safeParse({ ...DEFAULT_TIMING, ...c.timing });
  if (!t.success) throw new ConfigError(`invalid watchdog config:\n  ${t.error.issues.map((i) => `timing.${i.path.join(".")}: ${i.message}`).join("\n  ")}`);
  return c;
}

export function loadWatchdogConfig(file: string): WatchdogConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(`cannot read watchdog config ${file}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`watchdog config ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const config = parseWatchdogConfig(raw, path.dirname(path.resolve(file)));
  // A passphrase written in the config makes the config itself a secret file.
  if (config.ssh.passphrase !== undefined) {
    const problem = secretFileProblem(file, "ssh.passphrase (written in the config)");
    if (problem) throw new ConfigError(`invalid watchdog config:\n  ${problem}; or move the passphrase to ssh.passphraseFile`);
  }
  return config;
}

/** 127.0.0.0/8, ::1 and localhost: reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The fence method configured for a server (its own entry, else "*"). */
export function fenceFor(config: WatchdogConfig, server: string): FenceMethodConfig | undefined {
  return config.fence[server] ?? config.fence["*"];
}

/** The status file written beside the state file each turn (what `ovm-ha status` reads). */
export function statusFilePath(config: WatchdogConfig): string {
  return config.stateFile.replace(/\.json$/, "") + ".status.json";
}
