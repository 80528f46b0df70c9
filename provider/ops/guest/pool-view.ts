// What the guests of one provider process know of their pool's servers: one shared probe (`xm list` + `xm info`
// per server) reused by every guest for a short while, and the memory that starts in flight will take. Guest
// placements of a pool are serialized, so 64 guests created at once never all pick the same "most free" server.
import type { ServerEndpoint } from "../../ssh";
import { probeServer, ServerProbe } from "../server-pool/server-probe";

export interface Snapshot {
  /** When the probe started: starts finished before this are in its figures. */
  at: number;
  probes: Map<string, ServerProbe | Error>;
}

interface Reservation {
  server: string;
  memoryMb: number;
  /** When the start finished (undefined while in flight). */
  doneAt?: number;
}

interface PoolView {
  snapshot?: Snapshot;
  probing?: Promise<Snapshot>;
  reservations: Set<Reservation>;
  lock: Promise<unknown>;
}

const views = new Map<string, PoolView>();

function viewOf(key: string): PoolView {
  let v = views.get(key);
  if (!v) {
    v = { reservations: new Set(), lock: Promise.resolve() };
    views.set(key, v);
  }
  return v;
}

/** A probe of every server no older than maxAgeMs (shared with concurrent callers). */
export async function snapshot(key: string, servers: readonly ServerEndpoint[], maxAgeMs: number): Promise<Snapshot> {
  const v = viewOf(key);
  const fresh = v.snapshot && Date.now() - v.snapshot.at <= maxAgeMs && servers.every((s) => v.snapshot!.probes.has(s.name));
  if (fresh) return v.snapshot!;
  if (v.probing && maxAgeMs > 0) return v.probing;
  const at = Date.now();
  const probing = Promise.all(servers.map((s) => probeServer(s).then((p) => [s.name, p] as const, (e: Error) => [s.name, e] as const))).then((entries) => {
    const snap = { at, probes: new Map<string, ServerProbe | Error>(entries) };
    if (!v.snapshot || v.snapshot.at <= at) v.snapshot = snap;
    return snap;
  });
  v.probing = probing;
  try {
    return await probing;
  } finally {
    if (v.probing === probing) v.probing = undefined;
  }
}

/** Forgets the shared probe (after this process changed where guests run). */
export function invalidate(key: string): void {
  viewOf(key).snapshot = undefined;
}

/** Free memory of a server in a snapshot, less the starts this process has in flight or finished since. */
export function freeMemory(key: string, snap: Snapshot, server: string): number | undefined {
  const p = snap.probes.get(server);
  if (!p || p instanceof Error) return undefined;
  let free = p.info.freeMemoryMb;
  for (const r of viewOf(key).reservations) if (r.server === server && (r.doneAt === undefined || r.doneAt >= snap.at)) free -= r.memoryMb;
  return free;
}

/** Runs fn alone among this pool's placements. */
export function withPlacementLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const v = viewOf(key);
  const next = v.lock.then(fn, fn);
  v.lock = next.catch(() => undefined);
  return next;
}

/** Holds memory on a server until the start is done (and a later probe includes it). */
export function reserve(key: string, server: string, memoryMb: number): { done(): void; cancel(): void } {
  const v = viewOf(key);
  const r: Reservation = { server, memoryMb };
  v.reservations.add(r);
  return {
    done: () => {
      r.doneAt = Date.now();
      // Kept a while for snapshots taken before the start completed; dropped after.
      setTimeout(() => v.reservations.delete(r), 30000).unref();
    },
    cancel: () => v.reservations.delete(r),
  };
}
