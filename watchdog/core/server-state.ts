// What the watchdog believes about each server, with the time each belief started.
import type { PlannedOp, RunningGuest, ServerName, SlotReading } from "./types";

/**
 * up: answering, trusted as a target.            suspect: missed at least one heartbeat, not yet failed.
 * failed: missed `heartbeatMisses` in a row; not known off (fence not needed, impossible, failed, or pending).
 * fencing: a power fence is in flight.            fenced: known off; its guests are free.
 * draining: planned operation requested; its HA guests are leaving.    down: drained and handed over (planned).
 * recovering: answering again after failed/fenced/down; not a target until stable for `stabilityMs`.
 * removed: no longer part of the pool.
 * Orthogonal to these, `degraded`: SSH answers but xm fails or is too slow. Not a target, never fenced for it.
 */
export type ServerStateName =
  | "up"
  | "suspect"
  | "failed"
  | "fencing"
  | "fenced"
  | "draining"
  | "down"
  | "recovering"
  | "removed";

export interface FenceProgress {
  attempt: number;
  /** Fence (power: the command; storage: the first pill write) in flight since. */
  issuedAt?: number;
  /** After a failure: next attempt not before. */
  retryAt?: number;
  /** Index of the fencing level tried now (fenceLevels(); absent: the first). */
  level?: number;
  /** The level in flight (power, storage). */
  method?: "power" | "storage";
  /** Storage fence: the poison pill, aimed at `bootId`; `answeredAt` once a write of it answered ok. */
  pill?: { bootId: string | null; sentAt: number; answeredAt?: number; retryAt?: number };
}

/**
 * The disk heartbeat of a server as the watchdog has read it (watchdog/core/disk-evidence.ts). Times are the
 * watchdog's own; the agent's clock is never used.
 */
export interface DiskHeartbeat {
  /** The slot the last successful read showed (null: no slot file). */
  slot: SlotReading | null;
  /** answeredAt of the first read that showed this very slot (same bootId and seq). */
  firstReadAt: number;
  /** sentAt of the latest read that showed it. */
  lastReadSentAt: number;
  /** The agent wrote after this time: the sentAt of the read before the one that first showed this slot. */
  wroteAfter?: number;
}

export interface ServerStatus {
  state: ServerStateName;
  since: number;
  /** The state a suspect server returns to when it answers again. */
  suspectFrom?: "up" | "recovering" | "draining";
  /** Heartbeats in a row with no contact at all (SSH did not answer). */
  misses: number;
  /**
   * sentAt of the first heartbeat with no contact at all since the last timely listing: an SSH-only answer (xend
   * not up yet after a boot) ends the misses but not the doubt that the server restarted meanwhile.
   */
  silentSince?: number;
  /** A late listing sent after that silence lacked its guests: the next timely listing makes it recovering. */
  rebootSeen?: boolean;
  /** When the last listing answered (sentAt of it in `listingSentAt`). */
  lastOkAt?: number;
  /** sentAt of the newest listing taken into account: an older one arriving later is stale and ignored. */
  listingSentAt?: number;
  /** sentAt of the newest heartbeat outcome taken into account (miss, xm failure or listing). */
  contactSentAt?: number;
  /** Heartbeats in a row where SSH answered but xm did not (degraded after `heartbeatMisses` of them). */
  xmMisses?: number;
  firstMissAt?: number;
  /** SSH answers but xm does not (xend down or slow): since when, and what it said. */
  degraded?: { since: number; detail: string };
  /** From the last answered listing. */
  totalMemoryMb?: number;
  freeMemoryMb?: number;
  guests?: RunningGuest[];
  dom0CpuSeconds?: number;
  fence?: FenceProgress;
  planned?: PlannedOp;
  /** Guests moved (or stopped) by the drain in progress: the drain is done when each is confirmed. */
  drained?: string[];
  /** The last "drain waiting" alarm, said once per set of guests. */
  drainWaitSaid?: string;
  /** The drain is waiting for a target that is only briefly unavailable (said once per drain). */
  targetWaitSaid?: boolean;
  awaitingOff?: boolean;
  fenceImpossible?: boolean;
  /** The agent's slot, as read through the shared storage (absent: never read). */
  disk?: DiskHeartbeat;
  /** Network silent while its disk heartbeat goes on: alive and cut off (since when this was said). */
  cutOff?: { since: number };
}

export function initialServerStatus(now: number): ServerStatus {
  // Not trusted as a target until its first heartbeat is answered (no memory figures yet).
  return { state: "up", since: now, misses: 0 };
}

export function isReachable(s: ServerStatus): boolean {
  return s.misses === 0 && s.lastOkAt !== undefined && s.state !== "removed";
}

/** Servers not known to be off count in the majority; known-off ones (fenced, drained, removed) do not. */
export function inQuorumBase(s: ServerStatus): boolean {
  if (s.state === "removed") return false;
  // Known off (fenced, drained) counts only while it still answers: then it is contact like any other server
  // (a drained server left running tells the watchdog it is not the one cut off).
  if (s.state === "fenced" || s.state === "down") return isReachable(s);
  return true;
}

export function isPlacementTarget(s: ServerStatus): boolean {
  return s.state === "up" && isReachable(s) && !s.degraded && s.freeMemoryMb !== undefined;
}

export type QuorumVerdict = { ok: true; reachable: number; base: number } | { ok: false; reachable: number; base: number; why: string };

/**
 * Symmetric and independent of any list order: the watchdog acts on a server's silence only while it is in
 * contact with a strict majority of the servers not known off. Contact is lost after `misses` heartbeats without
 * any answer (a degraded server still answers). An exact half is not a majority: "they died" and "I am cut off"
 * look the same from here, so the watchdog holds.
 */
export function quorum(servers: ServerStatus[], misses: number, knownOff: (s: ServerStatus) => boolean = () => false): QuorumVerdict {
  // A server proven off by its own disk heartbeat (read through a server that answers) is known off like a fenced
  // one: that evidence does not depend on the watchdog's network, so it settles an exact half.
  const base = servers.filter((s) => inQuorumBase(s) && !(knownOff(s) && !isReachable(s)));
  const lost = base.filter((s) => s.misses >= misses).length;
  const reachable = base.length - lost;
  if (reachable * 2 > base.length) return { ok: true, reachable, base: base.length };
  const why =
    reachable * 2 === base.length
      ? `an exact half: the silent servers may have died, or the watchdog may be cut off from them, and nothing here tells which`
      : `a minority: the fault is most likely on the watchdog's side`;
  return { ok: false, reachable, base: base.length, why };
}
