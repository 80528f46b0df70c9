// The storage fence (one fencing level): the watchdog writes a poison pill into the server's slot on the shared
// storage, aimed at the boot it last read there. The agent on that server reads it within one interval, destroys its
// guests and stops feeding its watchdog device; an agent that cannot read (storage lost, dom0 hung) misses its lease
// and stops feeding too. So the server is known off one message wait after the pill was written, or one message wait
// after its slot was first read stale (disk-evidence.ts), whichever comes first. Only an armed slot makes this
// true: no slot, or a cleanly stopped agent (device disarmed), and a storage fence is impossible.
import { messageWaitMs } from "../../ha/disk-heartbeat";
import { armed, short, withMargin } from "./disk-evidence";
import { fenced, fenceFailed, levelFailed } from "./fencing";
import { isReachable, type ServerStatus } from "./server-state";
import { recovering } from "./detection";
import type { StepContext } from "./step-context";
import type { Observation, ServerName } from "./types";

export function startStorageFence(c: StepContext, name: ServerName, st: ServerStatus, held: string[], at: { attempt: number; level: number; of: string; last: boolean }): void {
  // No read of the slots yet (a watchdog just started): wait for one rather than call the fence impossible.
  if (st.disk === undefined) return;
  const slot = st.disk.slot;
  if (!slot || !armed(slot)) {
    const why = !slot
      ? `storage fence impossible: no agent slot for ${name} on the shared storage (is ovm-ha agent running there?)`
      : `storage fence impossible: ${name}'s agent stopped cleanly and disarmed its watchdog device, so nothing would reset it`;
    st.fence = { attempt: at.attempt, level: at.level };
    if (!at.last) return levelFailed(c, name, why);
    if (at.level > 0) return fenceFailed(c, name, why);
    if (st.fenceImpossible) return; // said once; checked again every step (an agent may start)
    st.fenceImpossible = true;
    const text = `${why}: cannot know ${name} is off, so ${held.join(", ")} must stay on it`;
    c.say("fence-unavailable", text, { server: name }, true);
    c.act({ kind: "mark-server", server: name, state: "fence-unavailable", reason: text });
    for (const g of held) c.act({ kind: "mark", guest: g, state: "held", reason: text });
    return;
  }
  delete st.fenceImpossible;
  st.state = "fencing";
  st.since = c.now;
  st.fence = { attempt: at.attempt, level: at.level, method: "storage", issuedAt: c.now, pill: { bootId: slot.bootId, sentAt: c.now } };
  const wait = messageWaitMs(c.timing.agent);
  c.act({ kind: "pill", server: name, bootId: slot.bootId, reason: `storage fence by the watchdog (attempt ${at.attempt})` });
  c.say("fence-start", `storage fence${at.of}, attempt ${at.attempt}: poison pill into its slot, aimed at boot ${short(slot.bootId)}; known off ${wait} ms (the message wait) after it is written, or sooner if its disk heartbeat proves it`, { server: name });
}

export function pillResult(c: StepContext, o: Extract<Observation, { kind: "pill-result" }>): void {
  const st = c.server(o.server);
  const pill = st?.fence?.pill;
  if (!st || st.state !== "fencing" || st.fence?.method !== "storage" || !pill || pill.answeredAt !== undefined || o.sentAt < pill.sentAt) return;
  if (o.outcome === "ok") {
    pill.answeredAt = o.answeredAt;
    delete pill.retryAt;
    const wait = messageWaitMs(c.timing.agent);
    c.say("pill-written", `poison pill written in its slot: known off in ${Math.max(0, o.answeredAt + wait - c.now)} ms (message wait ${wait} ms)`, { server: o.server });
    return;
  }
  pill.retryAt = c.now + c.timing.heartbeatIntervalMs;
  const what = o.outcome === "unknown" ? "may or may not have been written (no answer)" : "was not written";
  c.say("pill-failed", `poison pill ${what}${o.detail ? ` (${o.detail})` : ""}: it proves nothing; writing it again through another server in ${c.timing.heartbeatIntervalMs} ms`, { server: o.server }, true);
}

/** A storage fence in flight: done once the message wait after the pill has passed; re-aimed or re-written as needed. */
export function storageProgress(c: StepContext, name: ServerName, st: ServerStatus): void {
  const fence = st.fence!;
  const pill = fence.pill!;
  const d = st.disk;
  const slot = d?.slot;
  if (!slot || !armed(slot)) {
    return levelFailed(c, name, `storage fence abandoned: ${slot ? "its agent stopped cleanly and disarmed its device" : "its slot is gone"}, so the pill proves nothing`);
  }
  if (pill.answeredAt === undefined && isReachable(st)) {
    // It answers again before any pill was confirmed written: fencing needs loss of contact, so no pill is written
    // again (one still on its way may yet land: then its agent self-fences, and its guests count as lost).
    delete st.fence;
    c.say("fence-cancelled", "answers again before the poison pill was written: no pill written again", { server: name });
    return recovering(c, name, st);
  }
  if (slot.bootId !== pill.bootId && isReachable(st)) {
    // It answers again, in a new boot: the boot the pill was aimed at is gone, and its guests with it (the
    // listing shows what runs now). The fence is moot.
    delete st.fence;
    c.say("fence-moot", `answers again in a new boot (${short(slot.bootId)}): the boot the poison pill was aimed at is gone, and its guests with it`, { server: name });
    return recovering(c, name, st);
  }
  if (slot.bootId !== pill.bootId) {
    // A new boot: the boot the pill was aimed at has ended, and every guest of it with it. No guest can be in the
    // new boot: a server whose fence uses the storage is a target only once its slot in that boot was read ready
    // (seed 9.4), the pill was aimed at the last boot read, and a fencing server is no target. Aiming again at
    // the new boot would only reset a server that has just booted, again and again.
    st.listingSentAt = Math.max(st.listingSentAt ?? 0, c.now);
    return fenced(c, name, `storage fence: its slot shows a new boot (${short(slot.bootId)}, not ${pill.bootId === null ? "none" : short(pill.bootId)}): the boot the poison pill was aimed at has ended, and its guests with it`);
  }
  if (pill.answeredAt !== undefined) {
    // The agent reads the pill within one interval; a renewal later than that means it does not obey.
    if (slot.state !== "self-fencing" && d!.wroteAfter !== undefined && d!.wroteAfter >= pill.answeredAt + withMargin(c.timing.agent.intervalMs)) {
      return levelFailed(c, name, `storage fence not obeyed: its agent renewed its slot (seq ${slot.seq}) after it must have read the poison pill`);
    }
    const wait = messageWaitMs(c.timing.agent);
    if (c.now >= pill.answeredAt + wait) {
      st.listingSentAt = Math.max(st.listingSentAt ?? 0, c.now);
      return fenced(c, name, `storage fence: poison pill written ${c.now - pill.answeredAt} ms ago, past the message wait (${wait} ms): its agent self-fenced or its watchdog device reset it`);
    }
    return;
  }
  if (pill.retryAt !== undefined && c.now >= pill.retryAt) {
    fence.pill = { bootId: slot.bootId, sentAt: c.now };
    c.act({ kind: "pill", server: name, bootId: slot.bootId, reason: `storage fence by the watchdog (attempt ${fence.attempt}, rewritten)` });
  }
}
