// Fencing: a failed server with HA guests tied to it (running, held, or possibly there after a command with no
// answer) is known off before any of them starts elsewhere. Known off means: a power fence confirmed off, a storage
// fence's message wait passed (storage-fence.ts), or its own disk heartbeat proves it (disk-evidence.ts). A server
// whose disk heartbeat goes on while its network is silent is alive and cut off: never fenced for that. Fencing
// levels, as Pacemaker's topology: each level in order (power, then storage) until one succeeds; a fence that
// fails, hangs or is impossible keeps the guests where they are, loudly.
import { fenceLevels, type FenceLevel } from "../../ha/ha-record";
import { aliveAfterSilence, diskKnownOff, diskKnownOffAt, diskView } from "./disk-evidence";
import { listedElsewhere, settledNowhere } from "./reconcile";
import type { ServerStatus } from "./server-state";
import type { StepContext } from "./step-context";
import { startStorageFence, storageProgress } from "./storage-fence";
import type { FenceOutcome, ServerName } from "./types";

/** A power fence with no answer by then is treated as timed out (the environment should answer first). */
export function fenceDeadline(issuedAt: number, timing: { fenceTimeoutMs: number; heartbeatIntervalMs: number }): number {
  return issuedAt + timing.fenceTimeoutMs + timing.heartbeatIntervalMs;
}

export function levelsOf(c: StepContext, server: ServerName): FenceLevel[] {
  const ps = c.s.pool.servers.find((x) => x.name === server);
  return ps ? fenceLevels(ps.fence) : [];
}

export function fenceResult(c: StepContext, server: ServerName, outcome: FenceOutcome, answeredAt: number, detail?: string): void {
  const st = c.server(server);
  if (!st || st.state !== "fencing" || st.fence?.issuedAt === undefined || st.fence.method === "storage") return; // stale answer
  if (outcome === "off") {
    // A listing sent before the power went off says nothing about the server from now on.
    st.listingSentAt = Math.max(st.listingSentAt ?? 0, answeredAt);
    return fenced(c, server, `power fence confirmed off${detail ? ` (${detail})` : ""}`);
  }
  levelFailed(c, server, outcome === "timeout" ? `power fence timed out${detail ? ` (${detail})` : ""}` : `power fence failed${detail ? `: ${detail}` : ""}`);
}

export function fenced(c: StepContext, server: ServerName, reason: string): void {
  const st = c.s.servers[server];
  st.state = "fenced";
  st.since = c.now;
  delete st.fence;
  delete st.cutOff;
  st.guests = [];
  c.say("server-fenced", reason, { server });
  for (const g of c.haGuestsOn(server)) {
    const e = c.s.guests[g];
    const status = e.status;
    if (status.state === "in-doubt") {
      status.servers = status.servers.filter((s) => s !== server);
      if (status.servers.length === 0) settledNowhere(c, g, e, status, `${server} is fenced`);
      continue;
    }
    if (status.state === "migrating") {
      // The other end may hold it: in doubt there until a listing sent from now on says.
      const other = status.from === server ? status.to : status.from;
      e.status = { state: "in-doubt", command: "migrate", servers: [other], target: status.to, outcome: "unknown", after: c.now, absentAfter: c.now, since: c.now, detail: `${server} fenced mid-migration` };
      c.listNow(other);
      continue;
    }
    // A migration away from the fenced server may have left the guest on an answering server.
    const elsewhere = listedElsewhere(c, g, server);
    if (elsewhere !== undefined) {
      c.say("guest-running", `found on ${elsewhere}: not restarted`, { guest: g, server: elsewhere });
      e.status = { state: "running", server: elsewhere, since: c.now };
      continue;
    }
    e.status = { state: "powered-off", since: c.now, announced: false, reason: `${server} fenced` };
  }
}

/** This level failed: the next one at once (logged), or, after the last, all levels again after `fenceRetryMs`. */
export function levelFailed(c: StepContext, server: ServerName, reason: string): void {
  const st = c.s.servers[server];
  const levels = levelsOf(c, server);
  const next = (st.fence?.level ?? 0) + 1;
  if (next < levels.length) {
    st.state = "failed";
    st.since = c.now;
    st.fence = { attempt: st.fence?.attempt ?? 1, level: next };
    c.say("fence-level-failed", `${reason}: level ${next} of ${levels.length} (${levels[next - 1]}) failed; trying level ${next + 1} (${levels[next]})`, { server }, true);
    return;
  }
  fenceFailed(c, server, reason);
}

export function fenceFailed(c: StepContext, server: ServerName, reason: string): void {
  const st = c.s.servers[server];
  st.state = "failed";
  st.since = c.now;
  const attempt = st.fence?.attempt ?? 1;
  st.fence = { attempt, retryAt: c.now + c.timing.fenceRetryMs };
  const held = c.haGuestsOn(server);
  const text = `${reason}: cannot know ${server} is off, so ${held.join(", ")} must stay on it; next attempt in ${c.timing.fenceRetryMs} ms`;
  c.say("fence-failed", text, { server }, true);
  c.act({ kind: "mark-server", server, state: "fence-failed", reason: text });
  for (const g of held) c.act({ kind: "mark", guest: g, state: "held", reason: text });
}

/** Its disk heartbeat goes on after its network went silent: say so (once), fence nothing, restart nothing. */
function cutOff(c: StepContext, server: ServerName, st: ServerStatus, held: string[]): void {
  if (st.cutOff) return;
  st.cutOff = { since: c.now };
  const text = `cut off (disk heartbeat alive): ${server} misses its network heartbeats but its agent still writes its slot, so it is alive and cut off from the watchdog, not dead; ${held.length ? `${held.join(", ")} keep running there: ` : ""}not fenced, nothing restarted elsewhere`;
  c.say("server-cut-off", text, { server }, true);
  c.act({ kind: "mark-server", server, state: "cut-off", reason: text });
  for (const g of held) c.act({ kind: "mark", guest: g, state: "held", reason: text });
}

export function fencing(c: StepContext): void {
  for (const name of c.order) {
    const st = c.s.servers[name];
    const held = c.haGuestsOn(name);
    if (st.cutOff && (st.misses === 0 || !aliveAfterSilence(st, c.timing, c.now))) delete st.cutOff;
    if (st.state === "fencing") {
      // Its own disk heartbeat may prove it off before the fence answers.
      if (diskKnownOff(st, c.timing, c.now)) {
        st.listingSentAt = Math.max(st.listingSentAt ?? 0, c.now);
        fenced(c, name, diskOffReason(c, st));
      } else if (st.fence?.method === "storage") storageProgress(c, name, st);
      else if (st.fence?.issuedAt !== undefined && c.now >= fenceDeadline(st.fence.issuedAt, c.timing)) levelFailed(c, name, "power fence gave no answer");
      continue;
    }
    // Fencing needs loss of contact: a degraded server answers, so it is never fenced.
    if (st.state !== "failed" || held.length === 0 || st.misses === 0) continue;
    if (aliveAfterSilence(st, c.timing, c.now)) {
      cutOff(c, name, st, held);
      continue;
    }
    if (diskKnownOff(st, c.timing, c.now)) {
      st.listingSentAt = Math.max(st.listingSentAt ?? 0, c.now);
      fenced(c, name, diskOffReason(c, st));
      continue;
    }
    // Written within the lease, just before the silence: wait for the next reads to tell cut off from dead.
    if (diskView(st, c.timing, c.now).kind === "alive") continue;
    if (st.fence?.retryAt !== undefined && c.now < st.fence.retryAt) continue;
    const levels = levelsOf(c, name);
    const level = st.fence?.level ?? 0;
    const attempt = st.fence?.retryAt !== undefined || st.fence === undefined ? (st.fence?.attempt ?? 0) + 1 : st.fence.attempt;
    if (levels.length === 0) {
      if (st.fenceImpossible) continue;
      st.fenceImpossible = true;
      const text = `no fence method configured: cannot know ${name} is off, so ${held.join(", ")} must stay on it until it answers again`;
      c.say("fence-unavailable", text, { server: name }, true);
      c.act({ kind: "mark-server", server: name, state: "fence-unavailable", reason: text });
      for (const g of held) c.act({ kind: "mark", guest: g, state: "held", reason: text });
      continue;
    }
    const method = levels[level];
    const of = levels.length > 1 ? `, level ${level + 1} of ${levels.length}` : "";
    if (method === "power") {
      delete st.fenceImpossible;
      st.state = "fencing";
      st.since = c.now;
      st.fence = { attempt, level, method: "power", issuedAt: c.now };
      c.act({ kind: "fence", server: name });
      c.say("fence-start", `power fence${of}, attempt ${attempt}`, { server: name });
      continue;
    }
    startStorageFence(c, name, st, held, { attempt, level, of, last: level === levels.length - 1 });
  }
}

function diskOffReason(c: StepContext, st: ServerStatus): string {
  const d = st.disk!;
  const at = diskKnownOffAt(st, c.timing)!;
  const what = d.slot!.state === "self-fencing" ? "its agent's last write says self-fencing" : `its armed slot (seq ${d.slot!.seq}) has not changed since it was first read ${c.now - d.firstReadAt} ms ago`;
  return `known off by its disk heartbeat: ${what}, and the message wait (${at - d.firstReadAt} ms) has passed: its watchdog device has reset it`;
}
