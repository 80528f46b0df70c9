// The disk heartbeat: the contract between `ovm-ha agent` (one per server, the writer of its slot) and the
// watchdog (the reader of every slot, the only writer of poison pills). Both live on the pool's shared storage,
// under <cluster root>/.ovm-ha/slots/. See HA-RECORD.md ("Disk heartbeat") for the prose version.
//
// Why two files per server and not one: each file has exactly one writer (the agent its slot, the watchdog the
// pill), so no read-modify-write race can lose a pill. Both are written atomically (temporary file, rename).
//
// Why a counter and not a time stamp: the watchdog never compares its clock with a server's. A slot is alive when
// its `seq` changes between two reads; it is stale when the same `seq` has been read for longer than the lease
// (measured on the watchdog's own clock, from the first read that showed it).
import * as path from "path";
import { z } from "zod";

export const DISK_HEARTBEAT_SCHEMA_VERSION = 1;

export function slotsDir(clusterRoot: string): string {
  return path.posix.join(clusterRoot, ".ovm-ha", "slots");
}
/** Written by the agent on `server` only. */
export function slotFile(clusterRoot: string, server: string): string {
  return path.posix.join(slotsDir(clusterRoot), `${server}.json`);
}
/** Written by the watchdog only (or `ovm-ha fence --storage`); read by the agent on `server`. */
export function pillFile(clusterRoot: string, server: string): string {
  return path.posix.join(slotsDir(clusterRoot), `${server}.pill`);
}

const ms = (what: string, min: number) =>
  z
    .number({ error: `${what} must be a number of milliseconds` })
    .int({ error: `${what} must be a whole number of milliseconds` })
    .min(min, { error: `${what} must be at least ${min} ms` });

/**
 * The agent's timing, in the pool record (`timing.agent`). Defaults: a write every 1 s; a server that has not
 * renewed its slot for 3 s stops feeding its watchdog device, which resets it 4 s later at the latest. So a pill
 * (or a stale slot) proves the server off after 7 s plus a margin for clock rates (`messageWaitMs`).
 */
export const AgentTimingSchema = z
  .object({
    intervalMs: ms("timing.agent.intervalMs", 100).default(1000),
    leaseMs: ms("timing.agent.leaseMs", 500).default(3000),
    deviceTimeoutMs: ms("timing.agent.deviceTimeoutMs", 1000).default(4000),
  })
  .superRefine((t, ctx) => {
    if (t.leaseMs < 2 * t.intervalMs) {
      ctx.addIssue({
        code: "custom",
        path: ["leaseMs"],
        message: `timing.agent.leaseMs (${t.leaseMs}) must be at least twice timing.agent.intervalMs (${t.intervalMs}): one slow write must not reset a server`,
      });
    }
  });
export type AgentTiming = z.infer<typeof AgentTimingSchema>;
export const DEFAULT_AGENT_TIMING: AgentTiming = { intervalMs: 1000, leaseMs: 3000, deviceTimeoutMs: 4000 };

/** Clocks may run apart by this fraction over a message wait (SBD and sanlock allow for the same). */
export const CLOCK_RATE_MARGIN = 0.1;

/**
 * How long after a pill was written (or a slot was first read stale) the server is known off: the agent either read
 * the pill (within one interval) or failed to renew (within its lease), then stopped feeding the device, which resets
 * the server within its timeout.
 */
export function messageWaitMs(t: AgentTiming): number {
  // The 1e-6 keeps floating-point noise (7000 * 1.1 = 7700.000000000001) from adding a millisecond.
  return Math.ceil((Math.max(t.leaseMs, t.intervalMs) + t.deviceTimeoutMs) * (1 + CLOCK_RATE_MARGIN) - 1e-6);
}

/** The agent's slot: `<slots>/<server>.json`. */
export const SlotSchema = z.object({
  schemaVersion: z.literal(DISK_HEARTBEAT_SCHEMA_VERSION, {
    error: `schemaVersion must be ${DISK_HEARTBEAT_SCHEMA_VERSION}`,
  }),
  server: z.string(),
  /** The server's boot id (Linux: /proc/sys/kernel/random/boot_id); a new boot is a new id. */
  bootId: z.string().min(1),
  /** Increases by one on every write of this boot. */
  seq: z.number().int().min(0),
  /** The agent's wall clock at the write, for people reading the file; never compared by the watchdog. */
  writtenAt: z.number(),
  /**
   * `starting`: checking the server against the pool record (seed 9.4). `ready`: cluster.conf and repositories
   * match the pool's record: a failover target. `mismatch`: they do not (see `reason`); not a target.
   * `self-fencing`: the agent's last write: it read a pill or lost its lease, destroyed its guests and stopped
   * feeding the device. `stopped`: the agent was stopped cleanly and disarmed the device (magic close): from then
   * on this slot proves nothing, so a storage fence of this server is impossible until an agent runs again.
   * Every other state means "armed": the device resets the server unless the agent keeps renewing this slot.
   */
  state: z.enum(["starting", "ready", "mismatch", "self-fencing", "stopped"]),
  reason: z.string().optional(),
});
export type Slot = z.infer<typeof SlotSchema>;

/** The poison pill: `<slots>/<server>.pill`. */
export const PillSchema = z.object({
  schemaVersion: z.literal(DISK_HEARTBEAT_SCHEMA_VERSION, {
    error: `schemaVersion must be ${DISK_HEARTBEAT_SCHEMA_VERSION}`,
  }),
  server: z.string(),
  /**
   * The boot the pill is aimed at (the bootId of the last slot the writer read), or null when it never read one:
   * an agent obeys a pill aimed at its boot or at no boot; a pill aimed at an earlier boot already took effect
   * (that boot ended), so the agent removes it at start.
   */
  bootId: z.string().nullable(),
  /** Who wrote it and why, for people and logs. */
  writer: z.string(),
  reason: z.string(),
  writtenAt: z.number(),
});
export type Pill = z.infer<typeof PillSchema>;

/** Whether the agent that wrote `slot` had the device armed (so a stale slot means the server resets itself). */
export function slotArmed(slot: Slot): boolean {
  return slot.state !== "stopped";
}

/** Whether an agent running in boot `bootId` must obey `pill`. */
export function pillAppliesTo(pill: Pill, server: string, bootId: string): boolean {
  return pill.server === server && (pill.bootId === null || pill.bootId === bootId);
}

export function renderSlot(s: Slot): string {
  return JSON.stringify(SlotSchema.parse(s)) + "\n";
}
export function renderPill(p: Pill): string {
  return JSON.stringify(PillSchema.parse(p)) + "\n";
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };
function parseWith<T>(schema: z.ZodType<T>, text: string, what: string): Parsed<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `${what} is not JSON: ${(e as Error).message}` };
  }
  const r = schema.safeParse(raw);
  return r.success
    ? { ok: true, value: r.data }
    : { ok: false, error: `${what}: ${r.error.issues.map((i) => `${i.path.join(".") || "(file)"}: ${i.message}`).join("; ")}` };
}
export const parseSlot = (text: string, what = "slot"): Parsed<Slot> => parseWith(SlotSchema, text, what);
export const parsePill = (text: string, what = "pill"): Parsed<Pill> => parseWith(PillSchema, text, what);
