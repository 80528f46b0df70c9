// The HA record: the contract between the Pulumi providers (writers) and the watchdog (reader).
// Pool record: <cluster root>/.ovm-ha/pool.json. Guest record: <repo>/running_pool/<guest>/ha.json.
// See HA-RECORD.md for the prose version; keep the two in step.
import { z } from "zod";
import { AgentTimingSchema, DEFAULT_AGENT_TIMING } from "./disk-heartbeat";

export const HA_RECORD_SCHEMA_VERSION = 1;

const name = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
      error: `${what} must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit`,
    });

const positiveMs = (what: string, min: number) =>
  z
    .number({ error: `${what} must be a number of milliseconds` })
    .int({ error: `${what} must be a whole number of milliseconds` })
    .min(min, { error: `${what} must be at least ${min} ms` });

/**
 * Why `lease` is refused: a lease fence would mean "the server reset itself because time passed" with nothing to
 * prove it. `storage` is its safe form: a poison pill in the server's slot on the shared storage, read by the
 * `ovm-ha agent` that feeds the server's watchdog device only while its disk heartbeat holds (disk-heartbeat.ts).
 */
export const LEASE_REFUSED =
  "fence.method 'lease' is not supported: use 'storage' (a poison pill read by the ovm-ha agent on every server, which feeds a watchdog device), 'power' (with a fence command in the watchdog's config), 'levels' (power, then storage) or 'none'";

const PowerFence = z.object({
  method: z.literal("power"),
  command: z.string({ error: "fence.command must be a string" }).optional(),
});
// A poison pill in the server's slot, then the message wait (disk-heartbeat.ts messageWaitMs).
const StorageFence = z.object({ method: z.literal("storage") });
const METHODS_ALLOWED = "fence.method must be one of 'power', 'storage', 'levels', 'none'";

export const FenceMethodSchema = z.discriminatedUnion(
  "method",
  [
    // Power the server off out of band (IPMI, PDU, ...); the command comes from the real environment.
    PowerFence,
    StorageFence,
    // Fencing levels, as Pacemaker's fencing topology: each level is tried in order until one succeeds.
    z.object({
      method: z.literal("levels"),
      levels: z
        .array(z.discriminatedUnion("method", [PowerFence, StorageFence], {
          error: "fence.levels[] entries must be {method: 'power'} or {method: 'storage'}",
        }), { error: "fence.levels must be a list" })
        .min(1, { error: "fence.levels must list at least one level" })
        .max(2, { error: "fence.levels lists at most two levels (power, storage)" })
        .refine((l) => new Set(l.map((x) => x.method)).size === l.length, {
          error: "fence.levels must not list a method twice",
        }),
    }),
    // No way to know the server is off: its guests are never started elsewhere while it is unreachable.
    z.object({ method: z.literal("none") }),
  ],
  {
    error: (iss) => {
      const m = iss.input !== null && typeof iss.input === "object" ? (iss.input as { method?: unknown }).method : undefined;
      return m === "lease" ? LEASE_REFUSED : METHODS_ALLOWED;
    },
  },
);
export type FenceMethod = z.infer<typeof FenceMethodSchema>;
export type FenceLevel = "power" | "storage";

/** The levels a fence method tries, in order: [] for none. */
export function fenceLevels(f: FenceMethod): FenceLevel[] {
  if (f.method === "none") return [];
  if (f.method === "levels") return f.levels.map((l) => l.method);
  return [f.method];
}

export const PoolServerSchema = z.object({
  name: name("server name"),
  address: z.string({ error: "server address must be a host name or IP address" }).min(1, {
    error: "server address must not be empty",
  }),
  sshPort: z
    .number({ error: "server sshPort must be a number" })
    .int({ error: "server sshPort must be a whole number" })
    .min(1, { error: "server sshPort must be 1..65535" })
    .max(65535, { error: "server sshPort must be 1..65535" })
    .default(22),
  role: z.enum(["master", "member"], { error: "server role must be 'master' or 'member'" }),
  fence: FenceMethodSchema.default({ method: "none" }),
});
export type PoolServer = z.infer<typeof PoolServerSchema>;

/** At most 1 s x 3 heartbeats to detect; a returning server must stay up 10 s; 3 restarts per 10 min. */
export const DEFAULT_TIMING = {
  heartbeatIntervalMs: 1000,
  heartbeatMisses: 3,
  stabilityMs: 10000,
  restartBudget: { max: 3, windowMs: 600000 },
  fenceTimeoutMs: 5000,
  fenceRetryMs: 5000,
  agent: { ...DEFAULT_AGENT_TIMING },
};

export const TimingSchema = z
  .object({
    heartbeatIntervalMs: positiveMs("timing.heartbeatIntervalMs", 100).max(1000, {
      error: "timing.heartbeatIntervalMs must be at most 1000 ms (failover within seconds)",
    }),
    heartbeatMisses: z
      .number({ error: "timing.heartbeatMisses must be a number" })
      .int({ error: "timing.heartbeatMisses must be a whole number" })
      .min(1, { error: "timing.heartbeatMisses must be 1..3" })
      .max(3, { error: "timing.heartbeatMisses must be 1..3 (detection within 3 intervals)" }),
    stabilityMs: positiveMs("timing.stabilityMs", 0),
    restartBudget: z.object(
      {
        max: z
          .number({ error: "timing.restartBudget.max must be a number" })
          .int({ error: "timing.restartBudget.max must be a whole number" })
          .min(1, { error: "timing.restartBudget.max must be at least 1" }),
        windowMs: positiveMs("timing.restartBudget.windowMs", 1000),
      },
      { error: "timing.restartBudget must be an object {max, windowMs}" },
    ),
    // Kept readable for records written before lease was refused; unused.
    leaseMs: positiveMs("timing.leaseMs", 1000).optional(),
    fenceTimeoutMs: positiveMs("timing.fenceTimeoutMs", 100).default(5000),
    fenceRetryMs: positiveMs("timing.fenceRetryMs", 100).default(5000),
    // The ovm-ha agent's disk heartbeat (used by the storage fence and as a second channel of evidence).
    agent: AgentTimingSchema.default(() => ({ ...DEFAULT_AGENT_TIMING })),
  })
  .default(() => ({ ...DEFAULT_TIMING, restartBudget: { ...DEFAULT_TIMING.restartBudget }, agent: { ...DEFAULT_AGENT_TIMING } }));
export type Timing = z.infer<typeof TimingSchema>;

export const PoolRecordSchema = z
  .object({
    schemaVersion: z.literal(HA_RECORD_SCHEMA_VERSION, {
      error: `schemaVersion must be ${HA_RECORD_SCHEMA_VERSION}`,
    }),
    name: name("pool name"),
    haEnabled: z.boolean({ error: "haEnabled must be true or false" }),
    servers: z
      .array(PoolServerSchema, { error: "servers must be a list of servers" })
      .min(1, { error: "servers must list at least one server" }),
    timing: TimingSchema,
    generation: z
      .number({ error: "generation must be a number" })
      .int({ error: "generation must be a whole number" })
      .min(0, { error: "generation must not be negative" }),
  })
  .superRefine((pool, ctx) => {
    const seen = new Set<string>();
    for (const [i, s] of pool.servers.entries()) {
      if (seen.has(s.name)) {
        ctx.addIssue({ code: "custom", path: ["servers", i, "name"], message: `server name '${s.name}' is listed twice` });
      }
      seen.add(s.name);
    }
    if (pool.servers.filter((s) => s.role === "master").length > 1) {
      ctx.addIssue({ code: "custom", path: ["servers"], message: "at most one server may have role 'master'" });
    }
  });
export type PoolRecord = z.infer<typeof PoolRecordSchema>;

export const GuestRecordSchema = z.object({
  schemaVersion: z.literal(HA_RECORD_SCHEMA_VERSION, {
    error: `schemaVersion must be ${HA_RECORD_SCHEMA_VERSION}`,
  }),
  name: name("guest name"),
  ha: z.boolean({ error: "ha must be true or false" }),
  // Ordered list of server names (first that is up and has room wins) or "auto" (most free memory).
  preferred: z.union(
    [
      z.literal("auto"),
      z.array(name("preferred server name")).min(1, { error: "preferred must list at least one server, or be \"auto\"" }),
    ],
    { error: "preferred must be \"auto\" or a list of server names" },
  ),
  // Higher restarts first.
  priority: z
    .number({ error: "priority must be a number" })
    .int({ error: "priority must be a whole number" })
    .min(0, { error: "priority must be 0..1000" })
    .max(1000, { error: "priority must be 0..1000" })
    .default(0),
  memoryMb: z
    .number({ error: "memoryMb must be a number" })
    .int({ error: "memoryMb must be a whole number of MB" })
    .min(1, { error: "memoryMb must be at least 1" }),
  vcpus: z
    .number({ error: "vcpus must be a number" })
    .int({ error: "vcpus must be a whole number" })
    .min(1, { error: "vcpus must be at least 1" })
    .default(1),
  vmCfgPath: z.string({ error: "vmCfgPath must be a string" }).startsWith("/", { error: "vmCfgPath must be an absolute path" }),
});
export type GuestRecord = z.infer<typeof GuestRecordSchema>;

/** Validates a guest record against the pool: preferred servers must exist in the pool. */
export function checkGuestAgainstPool(guest: GuestRecord, pool: PoolRecord): string[] {
  if (guest.preferred === "auto") return [];
  const known = new Set(pool.servers.map((s) => s.name));
  return guest.preferred
    .filter((s) => !known.has(s))
    .map((s) => `guest '${guest.name}': preferred server '${s}' is not in pool '${pool.name}'`);
}

/** One line per issue, "path: message", for error output. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(record)"}: ${i.message}`);
}
