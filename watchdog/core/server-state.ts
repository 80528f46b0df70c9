// What the watchdog believes about each server, with the time each belief started.
import type { PlannedOp, RunningGuest, ServerName } from "./types";

/**
 * up: answering, trusted as a target.            suspect: missed at least one heartbeat, not yet failed.
 * failed: missed `heartbeatMisses` in a row; not known off (fence not needed, impossible, failed, or pending).
 * fencing: a fence is in flight (power) or being waited out (lease).   fenced: known off; its guests are free.
 * draining: planned operation requested; its HA guests are leaving.    down: drained and handed over (planned).
 * recovering: answering again after failed/fenced/down; not a target until stable for `stabilityMs`.
 * removed: no longer part of the pool.
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
  /** Lease method: the server has reset itself by then. */
  leaseUntil?: number;
  /** After a failure: next attempt not before. */
  retryAt?: number;
}

export interface ServerStatus {
  state: ServerStateName;
  since: number;
  /** The state a suspect server returns to when it answers again. */
  suspectFrom?: "up" | "recovering" | "draining";
  misses: number;
  lastOkAt?: number;
  firstMissAt?: number;
  /** From the last answered heartbeat. */
  totalMemoryMb?: number;
  freeMemoryMb?: number;
  guests?: RunningGuest[];
  fence?: FenceProgress;
  planned?: PlannedOp;
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
  return s.state === "up" && isReachable(s) && s.freeMemoryMb !== undefined;
}

/**
 * Majority of the servers not known off; an exact half counts only if it holds the first such server in
 * pool order (as o2cb breaks an even split by the lowest node number).
 */
export function hasQuorum(order: ServerName[], servers: Record<ServerName, ServerStatus>): {
  ok: boolean;
  reachable: number;
  base: number;
} {
  const base = order.filter((n) => inQuorumBase(servers[n]));
  const reachable = base.filter((n) => isReachable(servers[n]));
  const ok =
    reachable.length * 2 > base.length ||
    (base.length > 0 && reachable.length * 2 === base.length && isReachable(servers[base[0]]));
  return { ok, reachable: reachable.length, base: base.length };
}
