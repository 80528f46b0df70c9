// The self-fencing agent's decisions, pure: what it knows (when its last slot write and pill read that succeeded
// were started, the pill it read, whether it is fencing or stopping) and the time in; feed or not, fence or not,
// out. The I/O is in agent.ts.
//
// The safety argument (ha/disk-heartbeat.ts, messageWaitMs): the device is fed only while BOTH the last slot write
// and the last pill read that succeeded were started within the lease. So a pill written at time P is either read
// (by the first read started after P: at most one interval later, and then the agent stops feeding at once), or
// reads stop succeeding and feeding stops at most `leaseMs` after the last read started before P. Either way the
// last feed is before P + max(lease, interval), and the device resets the server at most `deviceTimeoutMs` later.
// Times are the agent's monotonic clock (ms); "started" times, never "finished" ones: a write that took long
// proves only that the storage answered at some point after it began.
import { Pill, pillAppliesTo } from "../../ha/disk-heartbeat";

export interface LeaseInput {
  now: number;
  leaseMs: number;
  /** When the device was opened (armed): the lease starts there, before any renewal. */
  armedAt: number;
  /** Start of the most recent slot write that succeeded (this boot). */
  lastWriteOkAt?: number;
  /** Start of the most recent pill read that succeeded (a missing pill is a successful read). */
  lastReadOkAt?: number;
}

/** Whether the disk heartbeat holds: both renewals within the lease (the arming counts for a first lease). */
export function leaseHolds(i: LeaseInput): boolean {
  const write = i.lastWriteOkAt ?? i.armedAt;
  const read = i.lastReadOkAt ?? i.armedAt;
  return i.now - write <= i.leaseMs && i.now - read <= i.leaseMs;
}

/** Why the lease does not hold, for the log and the last slot. */
export function leaseLostReason(i: LeaseInput): string {
  const write = i.lastWriteOkAt ?? i.armedAt;
  const read = i.lastReadOkAt ?? i.armedAt;
  const parts: string[] = [];
  if (i.now - write > i.leaseMs) parts.push(`no slot write succeeded for ${Math.round(i.now - write)} ms`);
  if (i.now - read > i.leaseMs) parts.push(`no pill read succeeded for ${Math.round(i.now - read)} ms`);
  return `lease lost (${parts.join(", ")}; lease ${i.leaseMs} ms)`;
}

/** What the agent read in its pill file. */
export type PillReading =
  | { kind: "none" }
  | { kind: "pill"; pill: Pill }
  /** The file exists but is not a pill: only the watchdog writes it (atomically), so it is obeyed. */
  | { kind: "unreadable"; error: string };

export type PillVerdict =
  | { kind: "ignore"; note?: string }
  | { kind: "obey"; reason: string }
  /** Aimed at an earlier boot of this server: that boot ended, the pill took effect; remove it. */
  | { kind: "remove"; note: string };

export function judgePill(r: PillReading, server: string, bootId: string): PillVerdict {
  if (r.kind === "none") return { kind: "ignore" };
  if (r.kind === "unreadable") return { kind: "obey", reason: `unreadable poison pill (${r.error}): obeyed, as only the watchdog writes that file` };
  const p = r.pill;
  if (p.server !== server) return { kind: "ignore", note: `the pill file names server '${p.server}', not ${server}: ignored` };
  if (pillAppliesTo(p, server, bootId)) {
    return { kind: "obey", reason: `poison pill from ${p.writer} (${p.reason})${p.bootId === null ? " aimed at any boot" : " aimed at this boot"}` };
  }
  return { kind: "remove", note: `poison pill from ${p.writer} aimed at boot ${p.bootId}, an earlier boot (this is ${bootId}): it took effect` };
}

export type AgentMode = "running" | "fencing" | "stopping";

export type FeedVerdict = { feed: true } | { feed: false; fence?: string };

/**
 * One feed decision (taken on the main thread, at every feed tick). Fencing: never feed again. Stopping (a clean
 * stop in progress): keep feeding while the lease holds, so that the stop's last slot write can land; the stop
 * disarms the device afterwards, or leaves it to reset the server if that write fails.
 */
export function feedVerdict(mode: AgentMode, lease: LeaseInput, pill: PillVerdict): FeedVerdict {
  if (mode === "fencing") return { feed: false };
  if (pill.kind === "obey") return { feed: false, fence: pill.reason };
  if (!leaseHolds(lease)) return { feed: false, fence: leaseLostReason(lease) };
  return { feed: true };
}

/** How often the device is fed: every interval, and at least four times per device timeout (jitter margin). */
export function feedPeriodMs(intervalMs: number, deviceTimeoutMs: number): number {
  return Math.max(50, Math.min(intervalMs, Math.floor(deviceTimeoutMs / 4)));
}
