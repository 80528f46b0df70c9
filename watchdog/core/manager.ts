// The watchdog's decision core: step(state, observations, now) -> { state, actions, log }.
// Pure: no I/O, no clock; the caller persists the returned state BEFORE executing the actions, so a restart
// never replays a command it has not recorded (see durable-state.ts). Each concern reads on its own page:
// detection.ts (who answers, quorum), reconcile.ts (listings and command results), fencing.ts, recovery.ts
// (placement of guests needing a server), drain.ts (planned operations).
import type { GuestRecord, PoolRecord } from "../../ha/ha-record";
import { evaluateQuorum, lateContact, listed, missed, serverTransitions, xmFailed } from "./detection";
import { passPlannedOpsThrough, proceedWhenDrained, request } from "./drain";
import { fenceResult, fencing } from "./fencing";
import { lostToSelfFence, slotsRead } from "./disk-evidence";
import { pillResult } from "./storage-fence";
import { newGuestEntry } from "./guest-state";
import { placeAndMove } from "./recovery";
import { migrateResult, reconcileListing, startResult, stopResult } from "./reconcile";
import { initialServerStatus } from "./server-state";
import { STATE_FORMAT_VERSION, StepContext, type ManagerState } from "./step-context";
import type { Action, LogLine, Observation } from "./types";

export { STATE_FORMAT_VERSION, type ManagerState };

export interface StepResult {
  state: ManagerState;
  actions: Action[];
  log: LogLine[];
}

export function createManagerState(pool: PoolRecord, guests: GuestRecord[], now: number): ManagerState {
  const state: ManagerState = { formatVersion: STATE_FORMAT_VERSION, pool, records: {}, servers: {}, guests: {}, quorum: true, started: false };
  applyConfig(state, pool, guests, now);
  return state;
}

function applyConfig(state: ManagerState, pool: PoolRecord, guests: GuestRecord[], now: number): void {
  state.pool = pool;
  for (const s of pool.servers) if (!state.servers[s.name]) state.servers[s.name] = initialServerStatus(now);
  for (const name of Object.keys(state.servers)) {
    if (!pool.servers.some((s) => s.name === name)) state.servers[name] = { state: "removed", since: now, misses: 0 };
  }
  state.records = {};
  for (const g of guests) state.records[g.name] = g;
  for (const g of guests) if (g.ha && !state.guests[g.name]) state.guests[g.name] = newGuestEntry();
  for (const name of Object.keys(state.guests)) if (!state.records[name]?.ha) delete state.guests[name];
}

function observe(c: StepContext, o: Observation): void {
  switch (o.kind) {
    case "poll": {
      if (!o.ok) return o.contact === "ssh-only" ? xmFailed(c, o) : o.contact === "late-ssh" ? lateContact(c, o) : missed(c, o);
      const st = c.server(o.server);
      if (!st || st.state === "removed" || (st.listingSentAt !== undefined && o.sentAt < st.listingSentAt)) return; // overtaken
      const { rebooted } = listed(c, o);
      return reconcileListing(c, o.server, o.guests, o.sentAt, o.answeredAt, rebooted);
    }
    case "slots":
      return slotsRead(c, o);
    case "pill-result":
      return pillResult(c, o);
    case "fence-result":
      return fenceResult(c, o.server, o.outcome, o.answeredAt, o.detail);
    case "start-result":
      return startResult(c, o);
    case "migrate-result":
      return migrateResult(c, o);
    case "stop-result":
      return stopResult(c, o);
    case "request":
      return request(c, o.server, o.op);
    case "config": {
      const newGeneration = o.pool.generation !== c.s.pool.generation;
      applyConfig(c.s, o.pool, o.guests, c.now);
      c.say("config-updated", `generation ${o.pool.generation}`);
      if (!newGeneration) return;
      // A new generation is a human's answer to an error state: try again with a fresh budget.
      for (const [g, e] of Object.entries(c.s.guests)) {
        if (e.status.state !== "error") continue;
        e.status = { state: "powered-off", since: c.now, announced: false, reason: "records changed" };
        e.attempts = [];
        c.say("guest-retry", `records changed (generation ${o.pool.generation}): restart budget renewed`, { guest: g });
      }
      return;
    }
  }
}

function run(c: StepContext, observations: Observation[]): void {
  if (c.s.resumed) {
    c.say("watchdog-resumed", "state restored from durable storage; commands in flight are in doubt until a listing of each server concerned settles them");
    c.s.resumed = false;
  }
  if (!c.s.started) {
    c.s.started = true;
    c.say(
      "watchdog-start",
      `pool ${c.s.pool.name}: ${c.order.length} servers, ${Object.keys(c.s.guests).length} HA guests, pool HA ${c.s.pool.haEnabled ? "on" : "off"}, heartbeat ${c.timing.heartbeatIntervalMs} ms x ${c.timing.heartbeatMisses}`,
    );
  }
  for (const o of observations) observe(c, o);
  lostToSelfFence(c);
  evaluateQuorum(c);
  serverTransitions(c);
  if (!c.s.quorum) return; // fence nobody, start nothing, move nothing: the fault may be ours
  if (!c.s.pool.haEnabled) return passPlannedOpsThrough(c);
  fencing(c);
  placeAndMove(c);
  proceedWhenDrained(c);
}

export function step(state: ManagerState, observations: Observation[], now: number): StepResult {
  // The state is plain JSON by contract (it is persisted as such); a JSON copy is several times faster than
  // structuredClone here, which matters to the thousands of simulated schedules.
  const s = JSON.parse(JSON.stringify(state)) as ManagerState;
  const c = new StepContext(s, now);
  run(c, observations);
  return { state: s, actions: c.actions, log: c.log };
}
