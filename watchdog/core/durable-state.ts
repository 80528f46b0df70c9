// The manager's state as JSON, for a watchdog that restarts mid-failover.
// Contract: persist the state returned by step() BEFORE executing its actions. Then a restart can only lose
// answers, never commands: whatever was issued is recorded as in flight and settled by the next heartbeats.
import { z } from "zod";
import { GuestRecordSchema, PoolRecordSchema } from "./ha-record";
import { STATE_FORMAT_VERSION, type ManagerState } from "./manager";

const Envelope = z.object({
  formatVersion: z.literal(STATE_FORMAT_VERSION, { error: `formatVersion must be ${STATE_FORMAT_VERSION}` }),
  pool: PoolRecordSchema,
  records: z.record(z.string(), GuestRecordSchema),
  servers: z.record(z.string(), z.object({ state: z.string(), since: z.number(), misses: z.number() }).loose()),
  guests: z.record(
    z.string(),
    z.object({ status: z.object({ state: z.string() }).loose(), attempts: z.array(z.number()) }),
  ),
  quorum: z.boolean(),
  started: z.boolean(),
});

export function serializeState(state: ManagerState): string {
  return JSON.stringify(state);
}

/**
 * Parses a saved state. Answers to commands in flight died with the old process: they are marked "lost", so the
 * next heartbeat of the server concerned settles them (a start is never re-issued while it may have worked), and
 * a power fence in flight is issued again (powering off twice is harmless).
 */
export function restoreState(json: string): ManagerState {
  const parsed = Envelope.safeParse(JSON.parse(json));
  if (!parsed.success) {
    throw new Error(`durable state is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const state = JSON.parse(json) as ManagerState;
  for (const e of Object.values(state.guests)) {
    const st = e.status;
    if ((st.state === "starting" || st.state === "migrating" || st.state === "stopping") && st.result === undefined) {
      st.result = "lost";
    }
  }
  for (const st of Object.values(state.servers)) {
    if (st.state === "fencing" && st.fence?.issuedAt !== undefined) {
      st.state = "failed";
      st.fence = { attempt: st.fence.attempt, retryAt: 0 };
    }
  }
  state.resumed = true;
  return state;
}
