// The watchdog's own configuration file (JSON): how to reach the pool, fence commands, timing overrides, where
// to keep its state, metrics and logs. Everything about servers and guests comes from the pool's HA record.
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { DEFAULT_TIMING, TimingSchema } from "../../ha/ha-record";

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

const FenceCommandSchema = z
  .object(
    {
      // argv run on the watchdog's host; {server}, {address} and {password} are replaced. Exit 0 = powered off.
      command: z
        .array(z.string({ error: "fence command arguments must be strings" }), { error: "command must be a list of arguments (argv)" })
        .min(1, { error: "command must not be empty" }),
      password: z.string({ error: "password must be a string" }).optional(),
      passwordFile: z.string({ error: "passwordFile must be a path" }).optional(),
      passwordEnv: z.string({ error: "passwordEnv must be an environment variable name" }).optional(),
      timeoutMs: ms("timeoutMs", 100).optional(),
    },
    { error: "a fence method must be an object {command: [...], password?, passwordFile?, passwordEnv?, timeoutMs?}" },
  )
  .strict()
  .superRefine((f, ctx) => {
    const sources = [f.password, f.passwordFile, f.passwordEnv].filter((x) => x !== undefined).length;
    if (sources > 1) ctx.addIssue({ code: "custom", path: [], message: "give at most one of password, passwordFile, passwordEnv" });
    const usesPassword = f.command.some((a) => a.includes("{password}"));
    if (usesPassword && sources === 0) ctx.addIssue({ code: "custom", path: ["command"], message: "uses {password} but no password, passwordFile or passwordEnv is given" });
  });
export type FenceCommandConfig = z.infer<typeof FenceCommandSchema>;

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
    fence: z.record(z.string(), FenceCommandSchema, { error: "fence must map server names (or \"*\") to fence methods" }).default({}),
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
    metrics: z
      .object({
        port: port("metrics.port"),
        host: z.string().default("127.0.0.1"),
      })
      .strict()
      .optional(),
    log: z
      .object({
        level: z.enum(["fatal", "error", "warn", "info", "debug", "trace"], { error: "log.level must be one of fatal, error, warn, info, debug, trace" }).default("info"),
        file: z.string().optional(),
      })
      .strict()
      .default({ level: "info" }),
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
  return parseWatchdogConfig(raw, path.dirname(path.resolve(file)));
}

/** The fence method configured for a server (its own entry, else "*"). */
export function fenceFor(config: WatchdogConfig, server: string): FenceCommandConfig | undefined {
  return config.fence[server] ?? config.fence["*"];
}

/** The status file written beside the state file each turn (what `ovm-ha status` reads). */
export function statusFilePath(config: WatchdogConfig): string {
  return config.stateFile.replace(/\.json$/, "") + ".status.json";
}
