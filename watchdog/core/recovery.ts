// Recovery: one pass in priority order over the guests that need a server: powered-off ones (after a fence, a
// lost start, a planned stop) get a target by the seed's placement rule; those on a draining server are moved
// live (or shut down when there is nowhere to go). Memory already promised to a start or migration is not offered.
import { byPriority, chooseTarget, slotAllowsTarget, type Candidate, type PlacementGuest } from "../../ha/placement";
import { fenceLevels } from "../../ha/ha-record";
import { diskView } from "./disk-evidence";
import type { ManagerState } from "./step-context";
import { leaving } from "./drain";
import { reservedOn, type GuestEntry } from "./guest-state";
import { isPlacementTarget } from "./server-state";
import type { StepContext } from "./step-context";
import type { ServerName } from "./types";

/** A target: up, answering, not degraded, memory known; and, with an agent, its slot `ready` and renewed (seed 9.4). */
export function isFailoverTarget(s: ManagerState, name: ServerName, now: number): boolean {
  const st = s.servers[name];
  const ps = s.pool.servers.find((x) => x.name === name);
  if (!st || !ps || !isPlacementTarget(st)) return false;
  const view = diskView(st, s.pool.timing, now);
  // `unknown` (read once since this watchdog started: not yet seen renewed, nor stale) does not bar a target: the
  // server answers its heartbeats, and a just-started watchdog would otherwise find no target for a lease and power
  // off the guests of a drained server instead of moving them (seen on the lab: a drain 0.8 s after the start).
  const slot = view.kind === "none" ? undefined : { state: view.slot.state, renewed: view.kind === "alive" || view.kind === "unknown" };
  return slotAllowsTarget(fenceLevels(ps.fence).includes("storage"), slot).ok;
}

export function candidates(c: StepContext): Candidate[] {
  const reserved: Record<ServerName, number> = {};
  for (const [g, e] of Object.entries(c.s.guests)) {
    const to = reservedOn(e.status);
    if (to !== undefined) reserved[to] = (reserved[to] ?? 0) + c.mem(g);
  }
  return c.order
    .filter((n) => isFailoverTarget(c.s, n, c.now))
    .map((n) => ({ name: n, freeMemoryMb: c.s.servers[n].freeMemoryMb! - (reserved[n] ?? 0) }));
}

function budgetLeft(c: StepContext, e: GuestEntry): boolean {
  const { max, windowMs } = c.timing.restartBudget;
  e.attempts = e.attempts.filter((t) => c.now - t < windowMs);
  return e.attempts.length < max;
}

/** How long a drain waits for a briefly unavailable target before shutting guests down: two detection bounds. */
function briefWaitMs(c: StepContext): number {
  return 2 * c.timing.heartbeatIntervalMs * c.timing.heartbeatMisses;
}

/**
 * A server that would take the guest but for a passing condition: up (or suspect from up), memory known, and only
 * degraded (SSH answers, xm slow) or short of a heartbeat or two. Not a recovering server: it must prove stable.
 */
function briefTarget(c: StepContext, g: PlacementGuest, from: ServerName, available: Candidate[]): ServerName | undefined {
  const soon = c.order
    .filter((n) => n !== from && !available.some((x) => x.name === n))
    .filter((n) => {
      const st = c.s.servers[n];
      const upish = st.state === "up" || (st.state === "suspect" && st.suspectFrom === "up");
      return upish && st.freeMemoryMb !== undefined && (st.degraded !== undefined || st.misses > 0);
    })
    .map((n) => ({ name: n, freeMemoryMb: c.s.servers[n].freeMemoryMb! }));
  const choice = chooseTarget(g, [...available, ...soon]);
  return soon.some((x) => x.name === choice.server) ? choice.server : undefined;
}

export function placeAndMove(c: StepContext): void {
  const free = candidates(c);
  const needing = Object.keys(c.s.guests).filter((g) => {
    const st = c.s.guests[g].status;
    if (st.state === "powered-off") return true;
    return st.state === "running" && c.s.servers[st.server]?.state === "draining";
  });
  const ordered = byPriority(needing.map((g) => ({ name: g, priority: c.s.records[g].priority })));
  for (const { name } of ordered) {
    const e = c.s.guests[name];
    const rec = c.s.records[name];
    const from = e.status.state === "running" ? e.status.server : undefined;
    if (e.status.state === "powered-off" && e.status.notBefore !== undefined && c.now < e.status.notBefore) continue;
    const failed = from !== undefined && e.migrationFailed?.from === from && c.now - e.migrationFailed.at < c.timing.restartBudget.windowMs ? e.migrationFailed.to : [];
    const avoid = e.status.state === "powered-off" && e.status.avoid !== undefined ? [e.status.avoid] : failed;
    const pool = free.filter((x) => x.name !== from);
    const g = { name, memoryMb: rec.memoryMb, preferred: rec.preferred, priority: rec.priority };
    // After a failed start or live migration, another server first; the same one only if there is no other.
    let choice = chooseTarget(g, pool.filter((x) => !avoid.includes(x.name)));
    if (choice.server === undefined && avoid.length) choice = chooseTarget(g, pool);
    const budget = budgetLeft(c, e);
    if (from !== undefined) {
      const st = c.s.servers[from];
      leaving(st, name);
      if (st.degraded) continue; // xm does not answer there: a migration or shutdown would fail; wait
      if (choice.server === undefined && budget && c.now - st.since < briefWaitMs(c)) {
        const soon = briefTarget(c, g, from, pool);
        if (soon !== undefined) {
          // Only briefly unavailable (xm slow under load, a missed heartbeat): a live migration in a moment beats a
          // Power Off now (seed 9.1 powers off when no server is available, not when one answers slowly).
          if (!st.targetWaitSaid) {
            st.targetWaitSaid = true;
            c.say("drain-target-wait", `no target right now; waiting up to ${briefWaitMs(c)} ms for ${soon} (${c.s.servers[soon].degraded ? "xm slow" : "a missed heartbeat"}) before shutting guests down`, { server: from }, true);
          }
          continue;
        }
      }
      if (choice.server !== undefined && budget) {
        free.find((x) => x.name === choice.server)!.freeMemoryMb -= rec.memoryMb;
        e.attempts.push(c.now);
        e.status = { state: "migrating", from, to: choice.server, since: c.now };
        c.act({ kind: "migrate", guest: name, from, to: choice.server });
        const skipped = failed.filter((x) => x !== choice.server);
        const note = skipped.length ? `; not ${skipped.join(", ")}: a live migration there from ${from} did not happen` : "";
        c.say("guest-migrate", `live to ${choice.server}: ${choice.reason}${note}`, { guest: name, server: from });
      } else {
        const why = budget ? choice.reason : "restart budget exhausted";
        e.status = { state: "stopping", server: from, since: c.now };
        c.act({ kind: "stop", guest: name, server: from });
        c.say("guest-stop", `${why}: shutting it down (Power Off) so ${from} can go; restarted when a server becomes available`, { guest: name, server: from });
      }
      continue;
    }
    if (!budget) {
      const { max, windowMs } = c.timing.restartBudget;
      const reason = `${max} restarts within ${windowMs} ms: giving up until a human looks`;
      e.status = { state: "error", since: c.now, reason };
      c.say("guest-error", reason, { guest: name }, true);
      c.act({ kind: "mark", guest: name, state: "error", reason });
      continue;
    }
    if (choice.server === undefined) {
      const st = e.status as Extract<GuestEntry["status"], { state: "powered-off" }>;
      if (!st.announced) {
        st.announced = true;
        c.say("guest-powered-off", `${choice.reason}; restarted when a server becomes available`, { guest: name });
        c.act({ kind: "mark", guest: name, state: "powered-off", reason: choice.reason });
      }
      continue;
    }
    free.find((x) => x.name === choice.server)!.freeMemoryMb -= rec.memoryMb;
    e.attempts.push(c.now);
    e.status = { state: "starting", server: choice.server, since: c.now };
    c.act({ kind: "start", guest: name, server: choice.server });
    c.say("guest-start", choice.reason, { guest: name, server: choice.server });
  }
}
