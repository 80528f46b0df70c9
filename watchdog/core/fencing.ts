// Fencing: a failed server with HA guests tied to it (running, held, or possibly there after a command with no
// answer) is powered off before any of them starts elsewhere. Only "off" from the fence frees them; a fence that
// fails, hangs or is impossible keeps them where they are, loudly.
import { listedElsewhere, settledNowhere } from "./reconcile";
import type { StepContext } from "./step-context";
import type { FenceOutcome, ServerName } from "./types";

/** A power fence with no answer by then is treated as timed out (the environment should answer first). */
export function fenceDeadline(issuedAt: number, timing: { fenceTimeoutMs: number; heartbeatIntervalMs: number }): number {
  return issuedAt + timing.fenceTimeoutMs + timing.heartbeatIntervalMs;
}

export function fenceResult(c: StepContext, server: ServerName, outcome: FenceOutcome, answeredAt: number, detail?: string): void {
  const st = c.server(server);
  if (!st || st.state !== "fencing" || st.fence?.issuedAt === undefined) return; // stale answer
  if (outcome === "off") {
    // A listing sent before the power went off says nothing about the server from now on.
    st.listingSentAt = Math.max(st.listingSentAt ?? 0, answeredAt);
    return fenced(c, server, `power fence confirmed off${detail ? ` (${detail})` : ""}`);
  }
  fenceFailed(c, server, outcome === "timeout" ? `power fence timed out${detail ? ` (${detail})` : ""}` : `power fence failed${detail ? `: ${detail}` : ""}`);
}

export function fenced(c: StepContext, server: ServerName, reason: string): void {
  const st = c.s.servers[server];
  st.state = "fenced";
  st.since = c.now;
  delete st.fence;
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

export function fencing(c: StepContext): void {
  for (const name of c.order) {
    const st = c.s.servers[name];
    const held = c.haGuestsOn(name);
    if (st.state === "fencing" && st.fence?.issuedAt !== undefined) {
      if (c.now >= fenceDeadline(st.fence.issuedAt, c.timing)) fenceFailed(c, name, "power fence gave no answer");
      continue;
    }
    // Fencing needs loss of contact: a degraded server answers, so it is never fenced.
    if (st.state !== "failed" || held.length === 0 || st.fenceImpossible || st.misses === 0) continue;
    if (st.fence?.retryAt !== undefined && c.now < st.fence.retryAt) continue;
    const method = c.s.pool.servers.find((x) => x.name === name)!.fence;
    const attempt = (st.fence?.attempt ?? 0) + 1;
    if (method.method === "power") {
      st.state = "fencing";
      st.since = c.now;
      st.fence = { attempt, issuedAt: c.now };
      c.act({ kind: "fence", server: name });
      c.say("fence-start", `power fence, attempt ${attempt}`, { server: name });
    } else {
      st.fenceImpossible = true;
      const text = `no fence method configured: cannot know ${name} is off, so ${held.join(", ")} must stay on it until it answers again`;
      c.say("fence-unavailable", text, { server: name }, true);
      c.act({ kind: "mark-server", server: name, state: "fence-unavailable", reason: text });
      for (const g of held) c.act({ kind: "mark", guest: g, state: "held", reason: text });
    }
  }
}
