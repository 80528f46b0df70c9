// The manager's state as JSON, for a watchdog that restarts mid-failover.
// Contract: persist the state returned by step() BEFORE executing its actions. Then a restart can only lose
// answers, never commands: whatever was issued is recorded as in flight and settled by the next listings.
import { z } from "zod";
import { GuestRecordSchema, PoolRecordSchema } from "../../ha/ha-record";
import { STATE_FORMAT_VERSION, type ManagerState } from "./manager";

const Envelope = z.object({
  formatVersion: z.literal(STATE_FORMAT_VERSION, { error: `formatVersion must be ${STATE_FORMAT_VERSION}` }),
  pool: PoolRecordSchema,
  records: z.record(z.string(), GuestRecordSchema),
  servers: z.record(z.string(), z.object({ state: z.string(), since: z.number(), misses: z.number() }).loose()),
  guests: z.record(
    z.string(),
    z.object({ status: z.object({ state: z.string() }).loose(), attempts: z.array(z.number()), sightings: z.record(z.string(), z.unknown()) }).loose(),
  ),
  quorum: z.boolean(),
  started: z.boolean(),
});

export function serializeState(state: ManagerState): string {
  return JSON.stringify(state);
}

/**
 * Parses a saved state at time `now`. Answers to commands in flight died with the old process: each such guest is
 * in doubt on every server the command concerned. A listing sent from now on that shows it settles it at once
 * (one heartbeat); one that does not show it counts only once the command has certainly ended (issued +
 * `commandDeadlineMs`: xend may finish a create after its client died). A start that turns out never to have
 * happened is given back to the restart budget.
 * A power fence in flight is issued again (powering off twice is harmless). Listings taken by the old process are
 * kept only as history: the duplicate evidence starts afresh.
 */
/** How long each kind of command may still run after it was issued: one figure for all, or one per kind. */
export type CommandDeadlines = number | { start: number; migrate: number; stop: number };

export function restoreState(json: string, now: number, commandDeadlineMs: CommandDeadlines = 0): ManagerState {
  const deadline = typeof commandDeadlineMs === "number" ? { start: commandDeadlineMs, migrate: commandDeadlineMs, stop: commandDeadlineMs } : commandDeadlineMs;
  const parsed = Envelope.safeParse(JSON.parse(json));
  if (!parsed.success) {
    throw new Error(`durable state is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const state = JSON.parse(json) as ManagerState;
  for (const e of Object.values(state.guests)) {
    const st = e.status;
    const attemptAt = e.attempts[e.attempts.length - 1];
    if (st.state === "starting") {
      e.status = { state: "in-doubt", command: "start", servers: [st.server], target: st.server, outcome: "unknown", after: now, absentAfter: Math.max(now, st.since + deadline.start), since: now, detail: "the watchdog restarted before the answer", attemptAt };
    } else if (st.state === "migrating") {
      e.status = { state: "in-doubt", command: "migrate", servers: [st.from, st.to], target: st.to, outcome: "unknown", after: now, absentAfter: Math.max(now, st.since + deadline.migrate), since: now, detail: "the watchdog restarted before the answer", attemptAt };
    } else if (st.state === "stopping" && st.outcome === undefined) {
      st.outcome = "unknown";
      st.after = Math.max(now, st.since + deadline.stop);
    }
    e.sightings = {};
    delete e.duplicateOn;
  }
  // Disk heartbeat evidence is relearned from this process's own reads: its times come from the clock of whoever
  // took them (another machine, for a replica), and stale-since compared across clocks proves nothing. Costs at
  // most one message wait before a storage fence can conclude; a pill already written is written again.
  delete state.slotsSentAt;
  for (const st of Object.values(state.servers)) {
    delete st.disk;
    delete st.cutOff;
    // Late answers to the old process's heartbeats (proof of life) died with it: its misses prove nothing now,
    // so detection starts over. A server already declared failed stays failed.
    if (st.misses > 0) {
      st.misses = 0;
      delete st.firstMissAt;
    }
    if (st.state === "fencing" && st.fence?.issuedAt !== undefined) {
      st.state = "failed";
      st.fence = { attempt: st.fence.attempt, retryAt: 0 };
    }
  }
  state.resumed = true;
  return state;
}
