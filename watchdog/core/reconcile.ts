// Reconciling what was observed with what the watchdog believes about each guest. The rule: an answer sent before
// an action ended cannot tell what the action did. A listing settles a command only if it was sent after the
// command's answer came (or after the watchdog gave up on one); a guest whose command has no answer stays in doubt
// on every server it may be on until each has been seen without it, or fenced.
import type { GuestEntry, InDoubt } from "./guest-state";
import { isReachable } from "./server-state";
import type { StepContext } from "./step-context";
import type { CommandOutcome, GuestName, Observation, RunningGuest, ServerName } from "./types";

// ---- command results ---------------------------------------------------------------------------------------

type Result<K extends string> = Extract<Observation, { kind: K }>;

export function startResult(c: StepContext, o: Result<"start-result">): void {
  const e = c.s.guests[o.guest];
  if (!e || e.status.state !== "starting" || e.status.server !== o.server) return;
  if (o.outcome !== "ok") {
    c.say("guest-start-unsettled", `start on ${o.server} ${describe(o.outcome, o.detail)}: asking ${o.server} whether it runs it`, { guest: o.guest, server: o.server }, o.outcome === "unknown");
  }
  e.status = doubt("start", [o.server], o.server, o.outcome, o.answeredAt, Math.max(o.answeredAt, o.mayRunUntil ?? 0), c.now, o.detail, e.attempts[e.attempts.length - 1]);
  c.listNow(o.server);
}

export function migrateResult(c: StepContext, o: Result<"migrate-result">): void {
  const e = c.s.guests[o.guest];
  if (!e || e.status.state !== "migrating" || e.status.to !== o.to) return;
  if (o.outcome !== "ok") {
    c.say("guest-migrate-unsettled", `live migration ${o.from} -> ${o.to} ${describe(o.outcome, o.detail)}: asking both where it is`, { guest: o.guest, server: o.from }, o.outcome === "unknown");
  }
  e.status = doubt("migrate", [o.from, o.to], o.to, o.outcome, o.answeredAt, Math.max(o.answeredAt, o.mayRunUntil ?? 0), c.now, o.detail, e.attempts[e.attempts.length - 1]);
  c.listNow(o.to);
  c.listNow(o.from);
}

export function stopResult(c: StepContext, o: Result<"stop-result">): void {
  const e = c.s.guests[o.guest];
  if (!e || e.status.state !== "stopping" || e.status.server !== o.server || e.status.outcome !== undefined) return;
  if (o.outcome === "failed") {
    c.say("guest-stop-failed", `shutdown on ${o.server} failed${o.detail ? `: ${o.detail}` : ""}`, { guest: o.guest, server: o.server }, true);
  }
  e.status = { ...e.status, outcome: o.outcome, after: Math.max(o.answeredAt, o.mayRunUntil ?? 0) };
  c.listNow(o.server);
}

function describe(outcome: CommandOutcome, detail?: string): string {
  if (outcome === "unknown") return `got no answer${detail ? ` (${detail})` : ""}, so it may have run`;
  return `failed${detail ? `: ${detail}` : ""}`;
}

function doubt(command: InDoubt["command"], servers: ServerName[], target: ServerName, outcome: CommandOutcome, after: number, absentAfter: number, now: number, detail?: string, attemptAt?: number): InDoubt {
  const d: InDoubt = { state: "in-doubt", command, servers, target, outcome, after, absentAfter, since: now };
  if (detail !== undefined) d.detail = detail;
  if (attemptAt !== undefined) d.attemptAt = attemptAt;
  return d;
}

// ---- listings -----------------------------------------------------------------------------------------------

/** The guest part of an answered listing of `server`, sent at `sentAt`. */
export function reconcileListing(c: StepContext, server: ServerName, listed: RunningGuest[], sentAt: number, answeredAt: number, rebooted: boolean): void {
  const plain = new Set(listed.filter((g) => !g.migrating).map((g) => g.name));
  const paused = new Set(listed.filter((g) => g.paused).map((g) => g.name));
  const present = new Set(listed.map((g) => g.name));
  for (const [name, e] of Object.entries(c.s.guests)) {
    if (plain.has(name)) {
      const s = e.sightings[server];
      if (s) s.lastSentAt = sentAt;
      else e.sightings[server] = { firstAnsweredAt: answeredAt, lastSentAt: sentAt };
    } else delete e.sightings[server];
  }
  for (const name of Object.keys(c.s.guests).sort()) {
    const e = c.s.guests[name];
    if (present.has(name)) seen(c, name, e, server, plain.has(name), sentAt, paused.has(name));
    else notSeen(c, name, e, server, sentAt, rebooted);
  }
}

function seen(c: StepContext, name: GuestName, e: GuestEntry, server: ServerName, plain: boolean, sentAt: number, paused: boolean): void {
  const st = e.status;
  const running = (why: string) => {
    c.say("guest-running", why, { guest: name, server });
    e.status = { state: "running", server, since: c.now };
    delete e.duplicateOn;
    if (e.migrationFailed && e.migrationFailed.from !== server) delete e.migrationFailed;
  };
  switch (st.state) {
    case "running":
      if (st.server !== server && plain) return twoPlaces(c, name, e, st.server, server);
      for (const other of Object.keys(e.sightings).sort()) {
        const o = c.s.servers[other];
        if (other !== server && o && isReachable(o)) twoPlaces(c, name, e, server, other);
      }
      return;
    case "held":
      return running(st.server === server ? `found alive on ${server}: it was never started elsewhere` : `found on ${server}`);
    case "starting":
    case "migrating":
      return; // the command's answer comes first; a listing taken meanwhile proves nothing either way
    case "stopping":
      // Still there after the shutdown answered: it did not take; the drain asks again.
      if (st.outcome !== undefined && st.after !== undefined && sentAt >= st.after && plain) e.status = { state: "running", server, since: c.now };
      return;
    case "in-doubt": {
      if (sentAt < st.after || !plain) return; // older than the command's end, or a migration still under way
      // After a migration that failed or went unanswered, a paused domain on the target is xend's incoming copy whose
      // restore never finished (the channel cut after the target reserved it): not the guest running there. It
      // settles nothing until it runs or goes (lab: taken for the guest, it went 30 s later and the guest was lost).
      if (st.command === "migrate" && st.outcome !== "ok" && server === st.target && paused) return;
      {
        const how = st.command === "start" ? (server === st.target ? `started on ${server}` : `found on ${server} while starting on ${st.target}`) : server === st.target ? `migrated live to ${server}` : `still on ${server}: the live migration to ${st.target} did not happen`;
        if (st.command === "migrate" && server !== st.target) {
          const before = e.migrationFailed?.from === server ? e.migrationFailed.to : [];
          e.migrationFailed = { from: server, to: [...new Set([...before, st.target])], at: c.now };
        }
        return running(st.outcome === "ok" ? how : `${how} (settled by a listing sent after the command ${st.outcome === "unknown" ? "went unanswered" : "failed"})`);
      }
      return;
    }
    default:
      if (!plain) return;
      // Stopped at `since` (a planned operation went ahead): a listing sent before then still showed it.
      if (st.state === "stopped" && sentAt <= st.since) return;
      return running(st.state === "unknown" ? `found running on ${server}` : `running on ${server} (started outside the watchdog, was ${st.state})`);
  }
}

function notSeen(c: StepContext, name: GuestName, e: GuestEntry, server: ServerName, sentAt: number, rebooted: boolean): void {
  const st = e.status;
  if (st.state === "running" && st.server === server) {
    const elsewhere = listedElsewhere(c, name, server);
    if (elsewhere !== undefined) {
      c.say("guest-running", `now on ${elsewhere} (moved outside the watchdog)`, { guest: name, server: elsewhere });
      e.status = { state: "running", server: elsewhere, since: c.now };
    } else if (rebooted) {
      c.say("guest-lost", `${server} restarted and no longer runs it: restarting it`, { guest: name, server });
      e.status = { state: "powered-off", since: c.now, announced: false, reason: `${server} lost it` };
    } else {
      c.say("guest-stopped", `no longer listed by ${server}; not restarted (HA covers server failures, not guest shutdowns)`, { guest: name, server });
      e.status = { state: "stopped", since: c.now, from: server };
    }
    delete e.duplicateOn;
  } else if (st.state === "held" && st.server === server) {
    // Its server answers and does not run it: it runs nowhere, so it may be started.
    c.say("guest-lost", `${server} answers but no longer runs it: restarting it`, { guest: name, server });
    e.status = { state: "powered-off", since: c.now, announced: false, reason: `${server} lost it` };
  } else if (st.state === "in-doubt" && st.servers.includes(server) && sentAt >= st.absentAfter) {
    st.servers = st.servers.filter((s) => s !== server);
    if (st.servers.length === 0) settledNowhere(c, name, e, st, `not listed by ${server} (listing sent after the command ended)`);
  } else if (st.state === "stopping" && st.server === server && st.outcome !== undefined && st.after !== undefined && sentAt >= st.after) {
    c.say("guest-powered-off", `shut down on ${server}; restarted when a server becomes available`, { guest: name, server });
    e.status = { state: "powered-off", since: c.now, announced: true, reason: `stopped to let ${server} go` };
    c.act({ kind: "mark", guest: name, state: "powered-off", reason: `stopped to let ${server} go` });
  }
}

/** Every server it might be on has been seen without it, or fenced: it runs nowhere. */
export function settledNowhere(c: StepContext, name: GuestName, e: GuestEntry, st: InDoubt, why: string): void {
  const server = st.target;
  if (st.command === "start" && st.outcome === "unknown") {
    // The start never happened: it does not count against the restart budget.
    if (st.attemptAt !== undefined) {
      const i = e.attempts.lastIndexOf(st.attemptAt);
      if (i >= 0) e.attempts.splice(i, 1);
    }
    c.say("guest-start-failed", `start on ${server} had no answer and ${why}: it never ran; trying again (not counted against the budget)`, { guest: name, server });
    e.status = { state: "powered-off", since: c.now, announced: false, reason: `start on ${server} had no answer`, avoid: server };
  } else if (st.command === "start") {
    c.say("guest-start-failed", `start on ${server} ${st.outcome === "ok" ? "answered ok but" : "failed and"} ${why}`, { guest: name, server });
    e.status = { state: "powered-off", since: c.now, announced: false, reason: "start failed", avoid: server, notBefore: c.now + c.timing.heartbeatIntervalMs };
  } else {
    c.say("guest-lost", `live migration to ${server} ended and it is listed by neither server: restarting it`, { guest: name, server });
    e.status = { state: "powered-off", since: c.now, announced: false, reason: `lost during a live migration to ${server}` };
  }
}

/** An answering server other than `except` whose latest listing showed the guest plainly. */
export function listedElsewhere(c: StepContext, guest: GuestName, except: ServerName): ServerName | undefined {
  return c.order.find((n) => {
    const o = c.s.servers[n];
    return n !== except && !!o && isReachable(o) && !o.degraded && !!o.guests?.some((g) => g.name === guest && !g.migrating);
  });
}

/**
 * Believed on `home`, listed plainly by `other`. Two listings taken at different moments are no proof of a
 * duplicate (a live migration moves a guest between them): the alarm needs an unbroken run of listings on each
 * server that overlap in time, i.e. listings sent after both copies appeared. Until then the next listings settle
 * it: a listing of `home` without the guest makes it "moved".
 */
function twoPlaces(c: StepContext, name: GuestName, e: GuestEntry, home: ServerName, other: ServerName): void {
  const a = e.sightings[home];
  const b = e.sightings[other];
  if (!a) {
    c.say("guest-running", `now on ${other} (moved outside the watchdog)`, { guest: name, server: other });
    e.status = { state: "running", server: other, since: c.now };
    return;
  }
  if (!b) return;
  const from = Math.max(a.firstAnsweredAt, b.firstAnsweredAt);
  const to = Math.min(a.lastSentAt, b.lastSentAt);
  if (from > to) return; // not yet proven: wait for the next listings of both
  const on = [home, other].sort();
  if (e.duplicateOn && e.duplicateOn.join() === on.join()) return;
  e.duplicateOn = on;
  c.say("guest-duplicate", `listed by both ${on[0]} and ${on[1]} in listings sent after both copies appeared: a guest runs twice; a human must decide which to destroy`, { guest: name, server: other }, true);
}
