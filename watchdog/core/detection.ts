// Detection: which servers answer, which are degraded (SSH answers, xm does not), which are lost, and whether the
// watchdog is in contact with enough of the pool to act on anyone's silence at all.
import type { PollObservation, ServerName } from "./types";
import { quorum, type ServerStatus } from "./server-state";
import type { StepContext } from "./step-context";
import { diskKnownOff } from "./disk-evidence";

/** Is this heartbeat outcome older than one already taken into account? (answers can overtake each other) */
export function isStale(st: ServerStatus, sentAt: number): boolean {
  return st.contactSentAt !== undefined && sentAt < st.contactSentAt;
}

/** No contact at all: a miss. */
export function missed(c: StepContext, o: Extract<PollObservation, { ok: false }>): void {
  const st = c.server(o.server);
  if (!st || st.state === "removed" || isStale(st, o.sentAt)) return;
  st.contactSentAt = o.sentAt;
  st.misses += 1;
  st.silentSince ??= o.sentAt;
  st.firstMissAt ??= c.now;
  delete st.awaitingOff;
}

/**
 * An answer that came after its heartbeat was counted missed: the server was alive after it was sent, so the misses
 * so far were slowness, not loss of contact (fencing needs loss of contact). Misses count again from later rounds.
 */
export function lateContact(c: StepContext, o: Extract<PollObservation, { ok: false }>): void {
  const st = c.server(o.server);
  if (!st || st.state === "removed" || st.misses === 0) return;
  if (!isStale(st, o.sentAt)) st.contactSentAt = o.sentAt;
  c.say("heartbeat-late", `answered ${o.answeredAt - o.sentAt} ms after it was asked: alive, so ${st.misses} missed heartbeat(s) start over`, { server: o.server });
  contact(st);
}

/** SSH answered but xm failed or was too slow: contact, so no miss; but no listing either, and not a target. */
export function xmFailed(c: StepContext, o: Extract<PollObservation, { ok: false }>): void {
  const st = c.server(o.server);
  if (!st || st.state === "removed" || isStale(st, o.sentAt)) return;
  st.contactSentAt = o.sentAt;
  contact(st);
  const detail = o.detail ?? "xm did not answer";
  st.xmMisses = (st.xmMisses ?? 0) + 1;
  // One slow answer under load is no news (the late listing still counts when it comes); a run of them is.
  if (st.xmMisses < c.timing.heartbeatMisses) return;
  if (!st.degraded) {
    st.degraded = { since: c.now, detail };
    c.say("server-degraded", `SSH answers but xm does not (${detail}): not a target, and never fenced for this; its guests cannot be seen`, { server: o.server }, true);
  } else st.degraded.detail = detail;
}

/**
 * A listing answered: the server-side part (state transitions). Returns whether the server restarted while the
 * watchdog was not looking (its guests died with it).
 */
export function listed(c: StepContext, o: Extract<PollObservation, { ok: true }>): { rebooted: boolean } {
  const st = c.server(o.server)!;
  const server = o.server;
  st.listingSentAt = o.sentAt;
  st.totalMemoryMb = o.totalMemoryMb;
  st.freeMemoryMb = o.freeMemoryMb;
  st.guests = o.guests.map((g) => ({ ...g }));
  const listedNames = new Set(o.guests.map((g) => g.name));
  const lostGuest = Object.entries(c.s.guests).some(([g, e]) => e.status.state === "running" && e.status.server === server && !listedNames.has(g));
  // Silent (no SSH at all) before this listing was sent: SSH-only answers since (xend not up yet after a boot)
  // ended the misses, not the doubt that it restarted meanwhile.
  const silent = st.silentSince !== undefined && o.sentAt >= st.silentSince;
  // A listing that arrives after newer heartbeat outcomes (a late answer) is evidence about guests as of when it
  // was sent, but says nothing about whether the server answers now.
  if (isStale(st, o.sentAt)) {
    // Still proof of life after it was sent: misses counted meanwhile were slowness, not loss of contact.
    contact(st);
    if (!(silent && lostGuest)) return { rebooted: false };
    st.rebootSeen = true; // the next timely listing makes it recovering
    return { rebooted: true };
  }
  st.contactSentAt = o.sentAt;
  delete st.xmMisses;
  const firstAnswer = st.lastOkAt === undefined;
  const afterMisses = st.misses > 0 || silent;
  const rebootSeen = st.rebootSeen === true;
  if (silent) delete st.silentSince;
  delete st.rebootSeen;
  const cpuDropped = o.dom0CpuSeconds !== undefined && st.dom0CpuSeconds !== undefined && o.dom0CpuSeconds < st.dom0CpuSeconds;
  contact(st);
  st.lastOkAt = c.now;
  if (o.dom0CpuSeconds !== undefined) st.dom0CpuSeconds = o.dom0CpuSeconds;
  if (st.degraded) {
    c.say("server-healthy", `xm answers again (degraded for ${c.now - st.degraded.since} ms)`, { server });
    delete st.degraded;
  }
  if (firstAnswer && st.state === "up") {
    c.say("server-up", `first heartbeat answered (${o.freeMemoryMb} of ${o.totalMemoryMb} MB free)`, { server });
  }
  const rebooted = cpuDropped || rebootSeen || (afterMisses && lostGuest);
  switch (st.state) {
    case "suspect": {
      if (rebooted) {
        // Its guests vanished while it was silent: it restarted, so it is not trusted yet.
        delete st.suspectFrom;
        recovering(c, server, st);
        break;
      }
      const back = st.suspectFrom ?? "up";
      st.state = back;
      if (back === "recovering") st.since = c.now; // stability window starts over
      delete st.suspectFrom;
      c.say("server-back", `answered again before being declared failed${back === "recovering" ? "; stability window restarts" : ""}`, { server });
      break;
    }
    case "down":
      if (!st.awaitingOff) recovering(c, server, st);
      break;
    case "failed":
      recovering(c, server, st);
      break;
    case "fenced":
      delete st.fence;
      recovering(c, server, st);
      break;
    case "up":
    case "recovering":
    case "draining":
      if (cpuDropped) recovering(c, server, st);
      break;
    default:
      break; // fencing: a power fence in flight; its result decides
  }
  return { rebooted };
}

/** Any answer over SSH: the server is in contact. */
function contact(st: ServerStatus): void {
  st.misses = 0;
  delete st.firstMissAt;
}

export function recovering(c: StepContext, server: ServerName, st: ServerStatus): void {
  const from = st.state;
  st.state = "recovering";
  st.since = c.now;
  delete st.planned;
  delete st.drained;
  delete st.fenceImpossible;
  delete st.cutOff;
  c.say("server-recovering", `answering again after being ${from}; not a target until stable for ${c.timing.stabilityMs} ms`, { server });
}

export function evaluateQuorum(c: StepContext): void {
  const q = quorum(c.order.map((n) => c.s.servers[n]), c.timing.heartbeatMisses, (s) => diskKnownOff(s, c.timing, c.now));
  if (q.ok === c.s.quorum) return;
  c.s.quorum = q.ok;
  if (!q.ok) {
    c.say("quorum-lost", `in contact with ${q.reachable} of ${q.base} servers, ${q.why}: fencing nobody, starting nothing until more answer`, {}, true);
    for (const name of c.order) c.act({ kind: "mark-server", server: name, state: "quorum-lost", reason: `watchdog in contact with ${q.reachable} of ${q.base}: ${q.why}` });
  } else {
    const offByDisk = c.order.filter((n) => diskKnownOff(c.s.servers[n], c.timing, c.now) && c.s.servers[n].misses > 0);
    c.say("quorum-regained", `in contact with ${q.reachable} of ${q.base} servers${offByDisk.length ? ` (${offByDisk.join(", ")} known off by their disk heartbeat, read through a server that answers)` : ""}; detection starts over for the silent ones`);
    // Heartbeats missed while the watchdog could not tell who was at fault say nothing: count afresh.
    for (const name of c.order) {
      const st = c.s.servers[name];
      if (st.misses > 0 && st.state !== "removed") {
        st.misses = 1;
        st.firstMissAt = c.now;
      }
    }
  }
}

export function serverTransitions(c: StepContext): void {
  const n = c.timing.heartbeatMisses;
  for (const name of c.order) {
    const st = c.s.servers[name];
    if (st.misses > 0 && (st.state === "up" || st.state === "recovering" || st.state === "draining")) {
      st.suspectFrom = st.state;
      st.state = "suspect";
      st.since = c.now;
      c.say("server-suspect", `missed a heartbeat (${st.misses} of ${n})`, { server: name });
    }
    if (st.state === "suspect" && st.misses >= n && c.s.quorum) declareFailed(c, name, st);
    if (st.state === "recovering" && st.misses === 0 && c.now - st.since >= c.timing.stabilityMs) {
      st.state = "up";
      st.since = c.now;
      c.say("server-up", `stable for ${c.timing.stabilityMs} ms: a target again`, { server: name });
    }
  }
}

function declareFailed(c: StepContext, server: ServerName, st: ServerStatus): void {
  st.state = "failed";
  st.since = c.now;
  delete st.suspectFrom;
  delete st.planned;
  delete st.drained;
  const ha = c.haGuestsOn(server);
  const haOn = c.s.pool.haEnabled;
  c.say(
    "server-failed",
    `${st.misses} heartbeats missed (${c.timing.heartbeatIntervalMs} ms interval)${!haOn ? "; pool HA off: nothing done" : ha.length ? "" : "; no HA guests on it: not fenced"}`,
    { server },
  );
  for (const g of (st.guests ?? []).map((x) => x.name).sort()) {
    if (!c.s.guests[g] || !haOn) {
      c.say("guest-unprotected", haOn ? "HA off for this guest: not restarted" : "pool HA off: not restarted", { guest: g, server });
    }
  }
  if (!haOn) return;
  for (const g of ha) {
    const e = c.s.guests[g];
    if (e.status.state !== "running") continue; // commands and doubts keep their own state; the fence settles them
    e.status = { state: "held", server, since: c.now };
    c.say("guest-held", `left on ${server} until it is known off`, { guest: g, server });
  }
}
