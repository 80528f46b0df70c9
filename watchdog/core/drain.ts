// Planned operations (shutdown, restart, remove): the server drains, i.e. its HA guests live-migrate away (or are
// shut down cleanly when there is nowhere to go), and only when each of them is confirmed running on its target
// (or confirmed stopped) may the operation go ahead. A guest in doubt keeps the drain waiting: answering "done"
// while it may still be on the server would let the operation kill it.
import { isOnServer } from "./guest-state";
import type { StepContext } from "./step-context";
import type { PlannedOp, ServerName } from "./types";
import type { ServerStatus } from "./server-state";

export function request(c: StepContext, server: ServerName, op: PlannedOp): void {
  const st = c.server(server);
  if (!st || st.state === "removed") {
    c.say("request-refused", `${op}: unknown server`, { server });
    return;
  }
  if (st.state !== "up" && st.state !== "recovering") {
    c.say("request-refused", `${op}: ${server} is ${st.state}`, { server });
    return;
  }
  st.state = "draining";
  st.since = c.now;
  st.planned = op;
  const ha = c.haGuestsOn(server);
  st.drained = [...ha];
  const haOn = c.s.pool.haEnabled;
  c.say(
    "server-draining",
    `${op} requested: ${!haOn ? "pool HA off: guests are not migrated" : ha.length ? `migrating ${ha.join(", ")} away first` : "no HA guests on it"}`,
    { server },
  );
  for (const g of (st.guests ?? []).map((x) => x.name).sort()) {
    if (!c.s.guests[g] || !haOn) {
      c.say("guest-unprotected", `${haOn ? "HA off for this guest" : "pool HA off"}: left to the ${op} of ${server}`, { guest: g, server });
    }
  }
}

/** A guest leaving a draining server: remember it, so the drain waits for its confirmation. */
export function leaving(st: ServerStatus, guest: string): void {
  st.drained ??= [];
  if (!st.drained.includes(guest)) st.drained.push(guest);
}

/** Drained servers whose guests are all confirmed elsewhere (or stopped) may now go. */
export function proceedWhenDrained(c: StepContext): void {
  for (const name of c.order) {
    const st = c.s.servers[name];
    if (st.state !== "draining" || !st.planned) continue;
    if (c.haGuestsOn(name).length > 0) continue; // a start or migration headed here must land first; then it moves on
    const waiting = (st.drained ?? []).filter((g) => {
      const e = c.s.guests[g];
      if (!e) return false;
      const s = e.status.state;
      return !(s === "running" || s === "powered-off" || s === "stopped" || s === "error") || isOnServer(e.status, name);
    });
    if (waiting.length > 0) {
      const unsure = waiting.filter((g) => c.s.guests[g].status.state === "in-doubt");
      if (unsure.length > 0) {
        const where = unsure.map((g) => {
          const d = c.s.guests[g].status as { servers: string[] };
          return `${g} (may be on ${d.servers.join(", ")})`;
        });
        if (st.drainWaitSaid !== where.join()) {
          st.drainWaitSaid = where.join();
          c.say("drain-waiting", `not done: ${where.join("; ")} not yet confirmed on a target`, { server: name }, true);
        }
      }
      continue;
    }
    proceed(c, name, st, "every HA guest confirmed off it");
  }
}

export function passPlannedOpsThrough(c: StepContext): void {
  for (const name of c.order) {
    const st = c.s.servers[name];
    if (st.state === "draining" && st.planned) proceed(c, name, st, "pool HA off");
  }
}

function proceed(c: StepContext, name: ServerName, st: ServerStatus, reason: string): void {
  const op = st.planned!;
  c.act({ kind: "proceed", server: name, op });
  // Only with pool HA off can HA guests still be here: they go down with the server.
  for (const g of c.haGuestsOn(name)) c.s.guests[g].status = { state: "stopped", since: c.now };
  if (op === "remove") {
    st.state = "removed";
    c.say("server-removed", `${reason}; removed from the pool`, { server: name });
  } else {
    st.state = "down";
    st.awaitingOff = true;
    c.say("server-drained", `${reason}; ${op} may go ahead`, { server: name });
  }
  st.since = c.now;
  delete st.planned;
  delete st.drained;
  delete st.drainWaitSaid;
  delete st.targetWaitSaid;
}
