// What the watchdog believes about each server, with the time each belief started.
import type { PlannedOp, RunningGuest, ServerName } from "./types";

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
  /** Power fence in flight since. */
  issuedAt?: number;
  /** After a failure: next attempt not before. */
  retryAt?: number;
}

export interface ServerStatus {
  state: ServerStateName;
  since: number;
  /** The state a suspect server returns to when it answers again. */
  suspectFrom?: "up" | "recovering" | "draining";
  /** Heartbeats in a row with no contact at all (SSH did not answer). */
  misses: number;
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
  awaitingOff?: boolean;
  fenceImpossible?: boolean;
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
  return s.state !== "fenced" && s.state !== "down" && s.state !== "removed";
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
export function quorum(servers: ServerStatus[], misses: number): QuorumVerdict {
  const base = servers.filter(inQuorumBase);
  const lost = base.filter((s) => s.misses >= misses).length;
  const reachable = base.length - lost;
  if (reachable * 2 > base.length) return { ok: true, reachable, base: base.length };
  const why =
    reachable * 2 === base.length
      ? `an exact half: the silent servers may have died, or the watchdog may be cut off from them, and nothing here tells which`
      : `a minority: the fault is most likely on the watchdog's side`;
  return { ok: false, reachable, base: base.length, why };
}
