// The watchdog's decision core: step(state, observations, now) -> { state, actions, log }.
// Pure: no I/O, no clock; the caller persists the returned state BEFORE executing the actions, so a restart
// never replays a command it has not recorded (see durable-state.ts).
import type { GuestRecord, PoolRecord } from "./ha-record";
import { startFence, fenceDeadline } from "./fence";
import { chooseTarget, byPriority, type Candidate } from "./placement";
import {
  hasQuorum,
  initialServerStatus,
  isPlacementTarget,
  isReachable,
  type ServerStatus,
} from "./server-state";
import { isOnServer, reservedOn, type GuestEntry } from "./guest-state";
import type { Action, GuestName, LogLine, Observation, PlannedOp, RunningGuest, ServerName } from "./types";

export const STATE_FORMAT_VERSION = 1;

/**
 * A start with no answer (or whose answer died with a previous watchdog process) counts as failed only when its
 * target still does not list the guest this long after it was issued: an `xm create` whose SSH session outlived
 * the old watchdog may still complete. The real environment must give up on `xm create` well before this.
 */
export const START_ANSWER_TIMEOUT_MS = 30000;

export interface ManagerState {
  formatVersion: typeof STATE_FORMAT_VERSION;
  pool: PoolRecord;
  records: Record<GuestName, GuestRecord>;
  servers: Record<ServerName, ServerStatus & { awaitingOff?: boolean; fenceImpossible?: boolean }>;
  /** HA guests only (guest flag on); others are never acted upon. */
  guests: Record<GuestName, GuestEntry>;
  quorum: boolean;
  started: boolean;
  /** Set by restore(): the next step says so in the log. */
  resumed?: boolean;
}

export interface StepResult {
  state: ManagerState;
  actions: Action[];
  log: LogLine[];
}

export function createManagerState(pool: PoolRecord, guests: GuestRecord[], now: number): ManagerState {
  const state: ManagerState = {
    formatVersion: STATE_FORMAT_VERSION,
    pool,
    records: {},
    servers: {},
    guests: {},
    quorum: true,
    started: false,
  };
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
  for (const g of guests) if (g.ha && !state.guests[g.name]) state.guests[g.name] = { status: { state: "unknown" }, attempts: [] };
  for (const name of Object.keys(state.guests)) if (!state.records[name]?.ha) delete state.guests[name];
}

class Step {
  readonly actions: Action[] = [];
  readonly log: LogLine[] = [];
  constructor(
    readonly s: ManagerState,
    readonly now: number,
  ) {}

  get timing() {
    return this.s.pool.timing;
  }
  get order(): ServerName[] {
    return this.s.pool.servers.map((x) => x.name);
  }
  say(event: string, reason: string, who: { server?: ServerName; guest?: GuestName } = {}, loud = false): void {
    const line: LogLine = { t: this.now, event, ...who, reason };
    if (loud) line.loud = true;
    this.log.push(line);
  }
  haGuestsOn(server: ServerName): GuestName[] {
    return Object.keys(this.s.guests)
      .filter((g) => isOnServer(this.s.guests[g].status, server))
      .sort();
  }
  mem(guest: GuestName): number {
    return this.s.records[guest].memoryMb;
  }

  run(observations: Observation[]): void {
    if (this.s.resumed) {
      this.say("watchdog-resumed", "state restored from durable storage; commands in flight are settled by the next heartbeats");
      this.s.resumed = false;
    }
    if (!this.s.started) {
      this.s.started = true;
      this.say(
        "watchdog-start",
        `pool ${this.s.pool.name}: ${this.order.length} servers, ${Object.keys(this.s.guests).length} HA guests, pool HA ${this.s.pool.haEnabled ? "on" : "off"}, heartbeat ${this.timing.heartbeatIntervalMs} ms x ${this.timing.heartbeatMisses}`,
      );
    }
    for (const o of observations) this.observe(o);
    this.evaluateQuorum();
    this.serverTransitions();
    if (!this.s.quorum) return; // fence nobody, start nothing, move nothing: the fault may be ours
    if (!this.s.pool.haEnabled) {
      this.passPlannedOpsThrough();
      return;
    }
    this.fencing();
    this.placeAndDrain();
  }

  // ---- observations -------------------------------------------------------------------------------------

  observe(o: Observation): void {
    switch (o.kind) {
      case "poll":
        if (o.ok) this.answered(o.server, o.guests, o.totalMemoryMb, o.freeMemoryMb);
        else this.missed(o.server);
        return;
      case "fence-result":
        return this.fenceResult(o.server, o.outcome, o.detail);
      case "start-result": {
        const e = this.s.guests[o.guest];
        if (!e || e.status.state !== "starting" || e.status.server !== o.server) return;
        if (o.ok) {
          e.status.result = "ok"; // the next heartbeat of the target confirms it
          return;
        }
        this.say("guest-start-failed", `start on ${o.server} failed${o.detail ? `: ${o.detail}` : ""}`, { guest: o.guest, server: o.server });
        e.status = { state: "powered-off", since: this.now, announced: false, reason: "start failed", avoid: o.server, notBefore: this.now + this.timing.heartbeatIntervalMs };
        return;
      }
      case "migrate-result": {
        const e = this.s.guests[o.guest];
        if (!e || e.status.state !== "migrating" || e.status.to !== o.to) return;
        if (o.ok) {
          e.status.result = "ok";
          return;
        }
        this.say("guest-migrate-failed", `live migration ${o.from} -> ${o.to} failed${o.detail ? `: ${o.detail}` : ""}; still on ${o.from}`, { guest: o.guest, server: o.from });
        e.status = { state: "running", server: o.from, since: this.now };
        return;
      }
      case "stop-result": {
        const e = this.s.guests[o.guest];
        if (!e || e.status.state !== "stopping" || e.status.server !== o.server) return;
        if (o.ok) {
          e.status.result = "ok";
          return;
        }
        this.say("guest-stop-failed", `shutdown on ${o.server} failed${o.detail ? `: ${o.detail}` : ""}`, { guest: o.guest, server: o.server }, true);
        e.status = { state: "running", server: o.server, since: this.now };
        return;
      }
      case "request":
        return this.request(o.server, o.op);
      case "config": {
        const newGeneration = o.pool.generation !== this.s.pool.generation;
        applyConfig(this.s, o.pool, o.guests, this.now);
        this.say("config-updated", `generation ${o.pool.generation}`);
        if (!newGeneration) return;
        // A new generation is a human's answer to an error state: try again with a fresh budget.
        for (const [g, e] of Object.entries(this.s.guests)) {
          if (e.status.state !== "error") continue;
          e.status = { state: "powered-off", since: this.now, announced: false, reason: "records changed" };
          e.attempts = [];
          this.say("guest-retry", `records changed (generation ${o.pool.generation}): restart budget renewed`, { guest: g });
        }
        return;
      }
    }
  }

  answered(server: ServerName, guests: RunningGuest[], totalMemoryMb: number, freeMemoryMb: number): void {
    const st = this.s.servers[server];
    if (!st || st.state === "removed") return;
    const firstAnswer = st.lastOkAt === undefined;
    const afterMisses = st.misses > 0;
    st.misses = 0;
    st.lastOkAt = this.now;
    delete st.firstMissAt;
    st.totalMemoryMb = totalMemoryMb;
    st.freeMemoryMb = freeMemoryMb;
    st.guests = guests.map((g) => ({ ...g }));
    if (firstAnswer && st.state === "up") {
      this.say("server-up", `first heartbeat answered (${freeMemoryMb} of ${totalMemoryMb} MB free)`, { server });
    }
    const listed = new Set(guests.map((g) => g.name));
    const rebooted =
      afterMisses &&
      Object.entries(this.s.guests).some(([g, e]) => e.status.state === "running" && e.status.server === server && !listed.has(g));
    switch (st.state) {
      case "suspect": {
        if (rebooted) {
          // Its guests vanished while it was silent: it restarted, so it is not trusted yet.
          delete st.suspectFrom;
          this.recovering(server, st);
          break;
        }
        const back = st.suspectFrom ?? "up";
        st.state = back;
        if (back === "recovering") st.since = this.now; // stability window starts over
        delete st.suspectFrom;
        this.say("server-back", `answered again before being declared failed${back === "recovering" ? "; stability window restarts" : ""}`, { server });
        break;
      }
      case "down":
        if (st.awaitingOff) break; // still going down after the planned operation
        this.recovering(server, st);
        break;
      case "failed":
        this.recovering(server, st);
        break;
      case "fenced":
        delete st.fence;
        this.recovering(server, st);
        break;
      case "fencing":
        if (st.fence?.leaseUntil !== undefined) {
          // It answers, so it has not reset itself: alive, and its guests are where they were.
          delete st.fence;
          this.recovering(server, st);
        }
        break; // a power fence in flight: its result decides
      default:
        break;
    }
    this.guestsSeen(server, guests, afterMisses);
  }

  recovering(server: ServerName, st: ServerStatus): void {
    const from = st.state;
    st.state = "recovering";
    st.since = this.now;
    delete st.planned;
    delete (st as ManagerState["servers"][string]).fenceImpossible;
    this.say("server-recovering", `answering again after being ${from}; not a target until stable for ${this.timing.stabilityMs} ms`, { server });
  }

  guestsSeen(server: ServerName, listed: RunningGuest[], afterMisses: boolean): void {
    const names = new Set(listed.map((g) => g.name));
    for (const name of [...names].sort()) {
      const e = this.s.guests[name];
      if (!e) continue;
      const st = e.status;
      switch (st.state) {
        case "running":
          if (st.server === server) break;
          if (this.listedByOtherReachable(name, server, st.server)) {
            this.say("guest-duplicate", `listed by both ${st.server} and ${server}: a guest runs twice; a human must decide which to destroy`, { guest: name, server }, true);
            break;
          }
          this.say("guest-running", `now on ${server} (moved outside the watchdog)`, { guest: name, server });
          e.status = { state: "running", server, since: this.now };
          break;
        case "held":
          this.say("guest-running", st.server === server ? `found alive on ${server}: it was never started elsewhere` : `found on ${server}`, { guest: name, server });
          e.status = { state: "running", server, since: this.now };
          break;
        case "starting":
          this.say("guest-running", st.server === server ? `started on ${server}` : `found on ${server} while starting on ${st.server}`, { guest: name, server });
          e.status = { state: "running", server, since: this.now };
          break;
        case "migrating":
          if (server === st.to) {
            this.say("guest-running", `migrated live from ${st.from} to ${server}`, { guest: name, server });
            e.status = { state: "running", server, since: this.now };
          } else if (server === st.from && (st.result === "failed" || st.result === "lost")) {
            e.status = { state: "running", server, since: this.now };
          }
          break;
        case "stopping":
          break;
        default:
          this.say("guest-running", st.state === "unknown" ? `found running on ${server}` : `running on ${server} (started outside the watchdog, was ${st.state})`, { guest: name, server });
          e.status = { state: "running", server, since: this.now };
      }
    }
    // Guests this server should have but does not list.
    for (const name of Object.keys(this.s.guests).sort()) {
      if (names.has(name)) continue;
      const e = this.s.guests[name];
      const st = e.status;
      if (st.state === "running" && st.server === server && afterMisses) {
        // It answers again after missed heartbeats without the guest: it rebooted and the guest died with it.
        this.say("guest-lost", `${server} answers again after missed heartbeats but no longer runs it: restarting it`, { guest: name, server });
        e.status = { state: "powered-off", since: this.now, announced: false, reason: `${server} lost it` };
      } else if (st.state === "running" && st.server === server) {
        this.say("guest-stopped", `no longer listed by ${server}; not restarted (HA covers server failures, not guest shutdowns)`, { guest: name, server });
        e.status = { state: "stopped", since: this.now };
      } else if (st.state === "held" && st.server === server) {
        // Its server answers and does not run it: it runs nowhere, so it may be started.
        this.say("guest-lost", `${server} answers but no longer runs it: restarting it`, { guest: name, server });
        e.status = { state: "powered-off", since: this.now, announced: false, reason: `${server} lost it` };
      } else if (st.state === "starting" && st.server === server) {
        const settled = (st.result !== undefined && st.result !== "lost") || this.now - st.since > START_ANSWER_TIMEOUT_MS;
        if (settled) {
          this.say("guest-start-failed", `not listed by ${server} after the start (${st.result ?? "no answer"})`, { guest: name, server });
          e.status = { state: "powered-off", since: this.now, announced: false, reason: "start failed", avoid: server };
        }
      } else if (st.state === "stopping" && st.server === server) {
        this.say("guest-powered-off", `shut down on ${server}; restarted when a server becomes available`, { guest: name, server });
        e.status = { state: "powered-off", since: this.now, announced: true, reason: `stopped to let ${server} go` };
        this.actions.push({ kind: "mark", guest: name, state: "powered-off", reason: `stopped to let ${server} go` });
      }
    }
  }

  /** An answering server other than `except` whose last heartbeat listed the guest. */
  listedBy(guest: GuestName, except: ServerName): ServerName | undefined {
    return this.order.find((n) => n !== except && this.listedByOtherReachable(guest, except, n));
  }

  listedByOtherReachable(guest: GuestName, self: ServerName, other: ServerName): boolean {
    const o = this.s.servers[other];
    return !!o && other !== self && isReachable(o) && !!o.guests?.some((g) => g.name === guest);
  }

  missed(server: ServerName): void {
    const st = this.s.servers[server];
    if (!st || st.state === "removed") return;
    st.misses += 1;
    st.firstMissAt ??= this.now;
    if (st.awaitingOff) delete st.awaitingOff;
  }

  fenceResult(server: ServerName, outcome: "off" | "failed" | "timeout", detail?: string): void {
    const st = this.s.servers[server];
    if (!st || st.state !== "fencing" || st.fence?.issuedAt === undefined) return; // stale answer
    if (outcome === "off") return this.fenced(server, `power fence confirmed off${detail ? ` (${detail})` : ""}`);
    this.fenceFailed(server, outcome === "timeout" ? `power fence timed out${detail ? ` (${detail})` : ""}` : `power fence failed${detail ? `: ${detail}` : ""}`);
  }

  fenced(server: ServerName, reason: string): void {
    const st = this.s.servers[server];
    st.state = "fenced";
    st.since = this.now;
    delete st.fence;
    this.say("server-fenced", reason, { server });
    for (const g of this.haGuestsOn(server)) {
      // A migration away from (or towards) the fenced server may have left the guest on an answering server.
      const elsewhere = this.listedBy(g, server);
      if (elsewhere !== undefined) {
        this.say("guest-running", `found on ${elsewhere}: not restarted`, { guest: g, server: elsewhere });
        this.s.guests[g].status = { state: "running", server: elsewhere, since: this.now };
        continue;
      }
      this.s.guests[g].status = { state: "powered-off", since: this.now, announced: false, reason: `${server} fenced` };
    }
  }

  fenceFailed(server: ServerName, reason: string): void {
    const st = this.s.servers[server];
    st.state = "failed";
    st.since = this.now;
    const attempt = st.fence?.attempt ?? 1;
    st.fence = { attempt, retryAt: this.now + this.timing.fenceRetryMs };
    const held = this.haGuestsOn(server);
    const text = `${reason}: cannot know ${server} is off, so ${held.join(", ")} must stay on it; retry at t=${st.fence.retryAt}`;
    this.say("fence-failed", text, { server }, true);
    this.actions.push({ kind: "mark-server", server, state: "fence-failed", reason: text });
  }

  request(server: ServerName, op: PlannedOp): void {
    const st = this.s.servers[server];
    if (!st || st.state === "removed") {
      this.say("request-refused", `${op}: unknown server`, { server });
      return;
    }
    if (st.state !== "up" && st.state !== "recovering") {
      this.say("request-refused", `${op}: ${server} is ${st.state}`, { server });
      return;
    }
    st.state = "draining";
    st.since = this.now;
    st.planned = op;
    const ha = this.haGuestsOn(server);
    const haOn = this.s.pool.haEnabled;
    this.say(
      "server-draining",
      `${op} requested: ${!haOn ? "pool HA off: guests are not migrated" : ha.length ? `migrating ${ha.join(", ")} away first` : "no HA guests on it"}`,
      { server },
    );
    for (const g of (st.guests ?? []).map((x) => x.name).sort()) {
      if (!this.s.guests[g] || !haOn) {
        this.say("guest-unprotected", `${haOn ? "HA off for this guest" : "pool HA off"}: left to the ${op} of ${server}`, { guest: g, server });
      }
    }
  }

  // ---- after the observations ---------------------------------------------------------------------------

  evaluateQuorum(): void {
    const q = hasQuorum(this.order, this.s.servers);
    if (q.ok === this.s.quorum) return;
    this.s.quorum = q.ok;
    if (!q.ok) {
      this.say("quorum-lost", `reaching ${q.reachable} of ${q.base} servers: assuming the fault is on the watchdog's side; fencing nobody, starting nothing`, {}, true);
      for (const name of this.order) {
        this.actions.push({ kind: "mark-server", server: name, state: "quorum-lost", reason: "watchdog lost the majority" });
      }
    } else {
      this.say("quorum-regained", `reaching ${q.reachable} of ${q.base} servers; detection starts over for the silent ones`);
      // Heartbeats missed while the watchdog itself was cut off say nothing about the servers: count afresh,
      // and never date a lease wait from before the watchdog could see them.
      for (const name of this.order) {
        const st = this.s.servers[name];
        if (st.misses > 0 && st.state !== "removed") {
          st.misses = 1;
          st.firstMissAt = this.now;
        }
      }
    }
  }

  serverTransitions(): void {
    const n = this.timing.heartbeatMisses;
    for (const name of this.order) {
      const st = this.s.servers[name];
      if (st.misses > 0 && (st.state === "up" || st.state === "recovering" || st.state === "draining")) {
        st.suspectFrom = st.state;
        st.state = "suspect";
        st.since = this.now;
        this.say("server-suspect", `missed a heartbeat (${st.misses} of ${n})`, { server: name });
      }
      if (st.state === "suspect" && st.misses >= n && this.s.quorum) this.declareFailed(name, st);
      if (st.state === "recovering" && st.misses === 0 && this.now - st.since >= this.timing.stabilityMs) {
        st.state = "up";
        st.since = this.now;
        this.say("server-up", `stable for ${this.timing.stabilityMs} ms: a target again`, { server: name });
      }
    }
  }

  declareFailed(server: ServerName, st: ServerStatus): void {
    st.state = "failed";
    st.since = this.now;
    delete st.suspectFrom;
    delete st.planned;
    const ha = this.haGuestsOn(server);
    const haOn = this.s.pool.haEnabled;
    this.say(
      "server-failed",
      `${st.misses} heartbeats missed (${this.timing.heartbeatIntervalMs} ms interval)${!haOn ? "; pool HA off: nothing done" : ha.length ? "" : "; no HA guests on it: not fenced"}`,
      { server },
    );
    for (const g of (st.guests ?? []).map((x) => x.name).sort()) {
      if (!this.s.guests[g] || !haOn) {
        this.say("guest-unprotected", haOn ? "HA off for this guest: not restarted" : "pool HA off: not restarted", { guest: g, server });
      }
    }
    if (!haOn) return;
    for (const g of ha) {
      this.s.guests[g].status = { state: "held", server, since: this.now };
      this.say("guest-held", `left on ${server} until it is known off`, { guest: g, server });
    }
  }

  passPlannedOpsThrough(): void {
    for (const name of this.order) {
      const st = this.s.servers[name];
      if (st.state === "draining" && st.planned) this.proceed(name, st, "pool HA off");
    }
  }

  fencing(): void {
    for (const name of this.order) {
      const st = this.s.servers[name] as ManagerState["servers"][string];
      const held = this.haGuestsOn(name);
      if (st.state === "fencing" && st.fence) {
        if (st.fence.leaseUntil !== undefined && this.now >= st.fence.leaseUntil) {
          this.fenced(name, `lease expired: it reset itself by t=${st.fence.leaseUntil}`);
        } else if (st.fence.issuedAt !== undefined && this.now >= fenceDeadline(st.fence.issuedAt, this.timing)) {
          this.fenceFailed(name, "power fence gave no answer");
        }
        continue;
      }
      if (st.state !== "failed" || held.length === 0 || st.fenceImpossible) continue;
      if (st.fence?.retryAt !== undefined && this.now < st.fence.retryAt) continue;
      const method = this.s.pool.servers.find((x) => x.name === name)!.fence;
      const plan = startFence(method, st, this.timing, this.now);
      const attempt = (st.fence?.attempt ?? 0) + 1;
      if (plan.kind === "issue") {
        st.state = "fencing";
        st.since = this.now;
        st.fence = { attempt, issuedAt: this.now };
        this.actions.push({ kind: "fence", server: name });
        this.say("fence-start", `power fence, attempt ${attempt}`, { server: name });
      } else if (plan.kind === "lease-wait") {
        st.state = "fencing";
        st.since = this.now;
        st.fence = { attempt, leaseUntil: plan.until };
        this.say("fence-lease-wait", `waiting until t=${plan.until} for its lease to expire`, { server: name });
      } else {
        st.fenceImpossible = true;
        const text = `${plan.reason}: cannot know ${name} is off, so ${held.join(", ")} must stay on it until it answers again`;
        this.say("fence-unavailable", text, { server: name }, true);
        this.actions.push({ kind: "mark-server", server: name, state: "fence-unavailable", reason: text });
        for (const g of held) this.actions.push({ kind: "mark", guest: g, state: "held", reason: text });
      }
    }
  }

  candidates(): Candidate[] {
    const reserved: Record<ServerName, number> = {};
    for (const [g, e] of Object.entries(this.s.guests)) {
      const to = reservedOn(e.status);
      if (to !== undefined) reserved[to] = (reserved[to] ?? 0) + this.mem(g);
    }
    return this.order
      .filter((n) => isPlacementTarget(this.s.servers[n]))
      .map((n) => ({ name: n, freeMemoryMb: this.s.servers[n].freeMemoryMb! - (reserved[n] ?? 0) }));
  }

  budgetLeft(e: GuestEntry): boolean {
    const { max, windowMs } = this.timing.restartBudget;
    e.attempts = e.attempts.filter((t) => this.now - t < windowMs);
    return e.attempts.length < max;
  }

  /** One pass in priority order over guests needing a server: powered-off ones and those on draining servers. */
  placeAndDrain(): void {
    const free = this.candidates();
    const needing = Object.keys(this.s.guests).filter((g) => {
      const st = this.s.guests[g].status;
      if (st.state === "powered-off") return true;
      return st.state === "running" && this.s.servers[st.server]?.state === "draining";
    });
    const ordered = byPriority(needing.map((g) => ({ name: g, priority: this.s.records[g].priority })));
    for (const { name } of ordered) {
      const e = this.s.guests[name];
      const rec = this.s.records[name];
      const from = e.status.state === "running" ? e.status.server : undefined;
      if (e.status.state === "powered-off" && e.status.notBefore !== undefined && this.now < e.status.notBefore) continue;
      const avoid = e.status.state === "powered-off" ? e.status.avoid : undefined;
      const pool = free.filter((c) => c.name !== from);
      const g = { name, memoryMb: rec.memoryMb, preferred: rec.preferred, priority: rec.priority };
      // After a failed start, another server first; the same one only if there is no other.
      let choice = chooseTarget(g, pool.filter((c) => c.name !== avoid));
      if (choice.server === undefined && avoid !== undefined) choice = chooseTarget(g, pool);
      const budget = this.budgetLeft(e);
      if (from !== undefined) {
        if (choice.server !== undefined && budget) {
          free.find((c) => c.name === choice.server)!.freeMemoryMb -= rec.memoryMb;
          e.attempts.push(this.now);
          e.status = { state: "migrating", from, to: choice.server, since: this.now };
          this.actions.push({ kind: "migrate", guest: name, from, to: choice.server });
          this.say("guest-migrate", `live to ${choice.server}: ${choice.reason}`, { guest: name, server: from });
        } else {
          const why = budget ? choice.reason : "restart budget exhausted";
          e.status = { state: "stopping", server: from, since: this.now };
          this.actions.push({ kind: "stop", guest: name, server: from });
          this.say("guest-stop", `${why}: shutting it down (Power Off) so ${from} can go; restarted when a server becomes available`, { guest: name, server: from });
        }
        continue;
      }
      if (!budget) {
        const { max, windowMs } = this.timing.restartBudget;
        const reason = `${max} restarts within ${windowMs} ms: giving up until a human looks`;
        e.status = { state: "error", since: this.now, reason };
        this.say("guest-error", reason, { guest: name }, true);
        this.actions.push({ kind: "mark", guest: name, state: "error", reason });
        continue;
      }
      if (choice.server === undefined) {
        const st = e.status as Extract<GuestEntry["status"], { state: "powered-off" }>;
        if (!st.announced) {
          st.announced = true;
          this.say("guest-powered-off", `${choice.reason}; restarted when a server becomes available`, { guest: name });
          this.actions.push({ kind: "mark", guest: name, state: "powered-off", reason: choice.reason });
        }
        continue;
      }
      free.find((c) => c.name === choice.server)!.freeMemoryMb -= rec.memoryMb;
      e.attempts.push(this.now);
      e.status = { state: "starting", server: choice.server, since: this.now };
      this.actions.push({ kind: "start", guest: name, server: choice.server });
      this.say("guest-start", choice.reason, { guest: name, server: choice.server });
    }
    for (const name of this.order) {
      const st = this.s.servers[name];
      if (st.state !== "draining" || !st.planned) continue;
      // A start or migration headed here must land first; it is then moved on.
      if (this.haGuestsOn(name).length === 0) this.proceed(name, st, "no HA guest left on it");
    }
  }

  proceed(name: ServerName, st: ManagerState["servers"][string], reason: string): void {
    const op = st.planned!;
    this.actions.push({ kind: "proceed", server: name, op });
    // Only with pool HA off can HA guests still be here: they go down with the server.
    for (const g of this.haGuestsOn(name)) this.s.guests[g].status = { state: "stopped", since: this.now };
    if (op === "remove") {
      st.state = "removed";
      this.say("server-removed", `${reason}; removed from the pool`, { server: name });
    } else {
      st.state = "down";
      st.awaitingOff = true;
      this.say("server-drained", `${reason}; ${op} may go ahead`, { server: name });
    }
    st.since = this.now;
    delete st.planned;
  }
}

export function step(state: ManagerState, observations: Observation[], now: number): StepResult {
  const s = structuredClone(state);
  const run = new Step(s, now);
  run.run(observations);
  return { state: s, actions: run.actions, log: run.log };
}
