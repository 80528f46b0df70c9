// A simulated pool on a virtual clock, as hostile as the world: answers come late, get lost (the command ran, the
// answer never came) or overtake each other; a server can be cut off from the watchdog only; xend can be down or
// slow while SSH answers; a fence can lie (exit 0, server still on: the status query that follows says so); dom0
// can hang while its guests keep running. It executes the manager's actions and produces the observations the
// real environment would, each with when it was sent and answered. It knows where every guest really runs.
import type { Action, GuestMark, LogLine, Observation, RunningGuest } from "../core/types";
import type { WatchdogEnvironment } from "../core/environment";
import type { PoolRecord } from "../../ha/ha-record";
import { agentTick, bootAgent, type AgentHost, type SimAgent } from "./agents";
import { SimSharedStorage } from "./shared-storage";

export type FenceDeviceMode = "ok" | "fail" | "timeout" | "lies";

export interface SimServer {
  name: string;
  memoryMb: number;
  power: boolean;
  bootedAt: number;
  /** Dom0 frozen (sshd, xm, xend): no answers; its guests keep running. */
  hung: boolean;
  /** Cut off from everyone (watchdog and other servers); its guests keep running. */
  partitioned: boolean;
  /** Cut off from the watchdog only: other servers still reach it (a migration to it works). */
  cut: boolean;
  /** Cut off from the other servers only: the watchdog still reaches it; a live migration to or from it fails. */
  peersCut: boolean;
  removed: boolean;
  /** xend: up, down (xm fails at once), or slow by this many ms. */
  xend: "up" | "down" | number;
  /** The next N commands run, but their answers never arrive. */
  loseAnswers: number;
  /** A loaded server: every heartbeat answer over SSH comes this many ms late (late answers still come). */
  sshSlow: number;
  /** guest name -> memory MB: the processes that really run here. */
  guests: Map<string, number>;
  /** Guests live-migrating away: listed as migrating-NAME. */
  migratingOut: Set<string>;
  /**
   * Incoming domains left paused by a migration whose channel was cut mid-copy (after the target reserved them):
   * listed paused, holding their memory, not running, until xend gives the restore up.
   */
  incoming: Map<string, { memoryMb: number; until: number }>;
  fenceDevice: FenceDeviceMode;
  /** Writes to and reads from the shared storage fail (lab storage-loss). */
  storageLost: boolean;
  /** The ovm-ha agent and its watchdog device (servers whose hardware says `agent: true`). */
  agent?: SimAgent;
  hasAgent: boolean;
}

export interface SimOptions {
  migrateMs: number;
  /** How long `xm create` takes before the domain exists. */
  startMs: number;
  restartBootMs: number;
  /** Answers arrive this long after the work is done, plus a random 0..jitterMs. */
  answerMs: number;
  jitterMs: number;
  /** The environment gives up on a command with no answer after this (its outcome is then "unknown"). */
  commandDeadlineMs: number;
  seed: number;
}

/** How long a target's xend holds a paused incoming copy whose source went silent (the lab's xm-receive: 30 s). */
const INCOMING_GIVE_UP_MS = 30000;

const DEFAULTS: SimOptions = { migrateMs: 500, startMs: 300, restartBootMs: 3000, answerMs: 100, jitterMs: 0, commandDeadlineMs: 3000, seed: 1 };

export class SimWorld implements WatchdogEnvironment, AgentHost {
  t = 0;
  /** Slots and pills on the shared storage, read and written through one server that answers. */
  readonly storage: SimSharedStorage;
  /** Servers reset by their watchdog device, with why (what the world knows). */
  readonly resets: { t: number; server: string; why: string }[] = [];
  #boots = 0;
  readonly servers = new Map<string, SimServer>();
  watchdogIsolated = false;
  readonly startFails = new Set<string>();
  readonly marks = new Map<string, GuestMark>();
  readonly log: LogLine[] = [];
  /** Fences carried out on a server whose last heartbeat had answered (must never happen). */
  readonly falseFences: string[] = [];
  /** The last state persisted (step() never changes a state it returned, so keeping it is as good as its JSON). */
  lastState?: unknown;
  private inbox: { at: number; obs: Observation }[] = [];
  private timers: { at: number; run: () => void }[] = [];
  /** Per server: did the last heartbeat the watchdog has received from it get an answer (SSH at least)? */
  private answeredLast = new Map<string, boolean>();
  /** Since when each server has answered the watchdog over SSH, late or not (undefined: it does not now). */
  private answeringSince = new Map<string, number>();
  readonly opts: SimOptions;
  private rnd: () => number;
  /** Called after every change to where processes run (the invariant checker hooks here). */
  onChange: () => void = () => {};

  constructor(
    readonly pool: PoolRecord,
    hardware: Record<string, { memoryMb: number; fenceDevice?: FenceDeviceMode; power?: boolean; agent?: boolean }>,
    opts: Partial<SimOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts };
    this.rnd = mulberry32(this.opts.seed);
    for (const s of pool.servers) {
      const hw = hardware[s.name];
      if (!hw) throw new Error(`no hardware for server ${s.name}`);
      this.servers.set(s.name, {
        name: s.name,
        memoryMb: hw.memoryMb,
        power: hw.power ?? true,
        bootedAt: -3600000,
        hung: false,
        partitioned: false,
        peersCut: false,
        cut: false,
        removed: false,
        xend: "up",
        loseAnswers: 0,
        sshSlow: 0,
        guests: new Map(),
        incoming: new Map(),
        migratingOut: new Set(),
        fenceDevice: hw.fenceDevice ?? "ok",
        storageLost: false,
        hasAgent: hw.agent === true,
      });
    }
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const world = this;
    this.storage = new SimSharedStorage({
      get t() {
        return world.t;
      },
      servers: () => [...this.servers.values()].filter((x) => !x.removed),
      reachable: (n) => this.reachable(this.server(n)),
      deliver: (o, at) => this.deliver(o, at),
      latency: () => this.latency(),
      deadlineMs: () => this.deadlineMs,
    });
    // Agents write at different instants within the interval (as real ones do): 100 ms apart.
    let i = 0;
    for (const srv of this.servers.values()) if (srv.hasAgent && srv.power) bootAgent(this, srv, 100 * i++);
  }

  // ---- AgentHost: the agents' view of the world --------------------------------------------------------------

  timing() {
    return this.pool.timing.agent;
  }
  get slots() {
    return this.storage.slots;
  }
  get pills() {
    return this.storage.pills;
  }
  nextBoot(): number {
    return ++this.#boots;
  }
  destroyGuests(server: string, why: string): void {
    const s = this.server(server);
    if (s.guests.size === 0) return;
    this.note(`${server}: guests ${[...s.guests.keys()].join(", ")} destroyed (${why})`);
    s.guests.clear();
    s.migratingOut.clear();
    s.incoming.clear();
    this.onChange();
  }
  reset(server: string, why: string): void {
    const s = this.server(server);
    this.resets.push({ t: this.t, server, why });
    this.powerOff(s, `reset: ${why}`);
    this.later(this.opts.restartBootMs, () => {
      if (!s.power && !s.removed) this.powerOn(s);
    });
  }

  server(name: string): SimServer {
    const s = this.servers.get(name);
    if (!s) throw new Error(`unknown server ${name}`);
    return s;
  }
  note(reason: string): void {
    this.log.push({ t: this.t, event: "sim", reason });
  }
  /** Does the server's sshd answer the watchdog? */
  reachable(s: SimServer): boolean {
    return s.power && !s.hung && !s.partitioned && !s.cut && !s.removed && !this.watchdogIsolated;
  }
  /** Can another server's xend reach this one's (for a live migration)? */
  reachableFromPeers(s: SimServer): boolean {
    return s.power && !s.hung && !s.partitioned && !s.removed && s.xend === "up";
  }
  freeMb(s: SimServer): number {
    let used = 0;
    for (const m of s.guests.values()) used += m;
    for (const r of this.incomingNow(s).values()) used += r.memoryMb;
    return s.memoryMb - used;
  }
  /** The paused incoming copies xend still holds (it gives each up INCOMING_GIVE_UP_MS after the cut). */
  incomingNow(s: SimServer): Map<string, { memoryMb: number; until: number }> {
    for (const [g, r] of s.incoming) if (r.until <= this.t) s.incoming.delete(g);
    return s.incoming;
  }
  place(guest: string, server: string, memoryMb: number): void {
    this.server(server).guests.set(guest, memoryMb);
    this.onChange();
  }
  powerOff(s: SimServer, why: string): void {
    s.power = false;
    s.guests.clear();
    s.migratingOut.clear();
    this.note(`${s.name} powered off (${why})`);
    this.onChange();
  }
  powerOn(s: SimServer): void {
    s.power = true;
    s.hung = false;
    s.bootedAt = this.t;
    this.note(`${s.name} powered on`);
    if (s.hasAgent) bootAgent(this, s, 0);
  }
  latency(): number {
    return this.opts.answerMs + Math.floor(this.rnd() * (this.opts.jitterMs + 1));
  }
  deliver(obs: Observation, at: number): void {
    this.inbox.push({ at, obs });
  }
  /** A restarted watchdog never hears the answers its previous incarnation was waiting for. */
  dropAnswersInFlight(): number {
    const before = this.inbox.length;
    this.inbox = [];
    return before;
  }
  get deadlineMs(): number {
    const i = this.pool.timing.heartbeatIntervalMs;
    return Math.max(50, i - Math.min(100, Math.floor(i / 10)));
  }

  /** Time passes: timers fire in order. */
  advance(t: number): void {
    this.t = t;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= t).sort((a, b) => a.at - b.at);
      if (due.length === 0) break;
      this.timers = this.timers.filter((x) => !due.includes(x));
      for (const d of due) d.run();
    }
    for (const s of this.servers.values()) if (!s.removed) agentTick(this, s);
  }
  later(ms: number, run: () => void): void {
    this.timers.push({ at: this.t + ms, run });
  }

  // ---- WatchdogEnvironment ------------------------------------------------------------------------------

  now(): number {
    return this.t;
  }

  /** Keeps answeringSince up to date: answering = reachable, and its answers come within the rounds waited. */
  private trackAnswering(): void {
    for (const s of this.servers.values()) {
      // Every answer within two intervals, however late past the deadline: a server the watchdog hears from.
      const answers = this.reachable(s) && s.sshSlow + this.opts.answerMs + this.opts.jitterMs < 2 * this.pool.timing.heartbeatIntervalMs;
      if (!answers) this.answeringSince.delete(s.name);
      else if (!this.answeringSince.has(s.name)) this.answeringSince.set(s.name, this.t);
    }
  }

  collect(): Observation[] {
    this.trackAnswering();
    if (this.t % this.pool.timing.heartbeatIntervalMs === 0) {
      for (const s of this.servers.values()) if (!s.removed) this.listing(s, true);
      if (this.watchdogIsolated) {
        const at = this.t + this.deadlineMs;
        this.deliver({ kind: "slots", ok: false, detail: "watchdog cut off", sentAt: this.t, answeredAt: at }, at);
      } else if ([...this.servers.values()].some((x) => x.hasAgent)) this.storage.read(this.pool.servers.map((x) => x.name));
    }
    const due = this.inbox.filter((m) => m.at <= this.t).sort((a, b) => a.at - b.at);
    this.inbox = this.inbox.filter((m) => m.at > this.t);
    for (const { obs } of due) if (obs.kind === "poll") this.answeredLast.set(obs.server, obs.ok || obs.contact !== "none");
    return due.map((m) => m.obs);
  }

  /** One `xm list` + `xm info` of the server, as the watchdog's environment would produce it. */
  private listing(s: SimServer, heartbeat: boolean): void {
    const sentAt = this.t;
    const contact = this.reachable(s);
    if (!contact) {
      // An extra listing that gets no answer is not a missed heartbeat: nothing is reported.
      if (heartbeat) this.deliver({ kind: "poll", server: s.name, ok: false, contact: "none", detail: "ssh: no answer", sentAt, answeredAt: sentAt + this.deadlineMs }, sentAt + this.deadlineMs);
      return;
    }
    const slow = typeof s.xend === "number" ? s.xend : 0;
    const load = s.sshSlow;
    const rounds = 3 * this.pool.timing.heartbeatIntervalMs; // how long the environment keeps waiting for an answer
    if (load > 0 && load + this.opts.answerMs >= this.deadlineMs) {
      // As the daemon does: a miss at the deadline, then the SSH probe's late answer (proof of life), then the
      // listing itself if it comes within the rounds the environment waits for it.
      if (heartbeat) {
        this.deliver({ kind: "poll", server: s.name, ok: false, contact: "none", detail: `no answer within ${this.deadlineMs} ms`, sentAt, answeredAt: sentAt + this.deadlineMs }, sentAt + this.deadlineMs);
        const lateAt = sentAt + load + this.latency();
        // The environment waits for the probe this long, then gives up on it (as the daemon's SSH deadline does).
        if (lateAt - sentAt < rounds) this.deliver({ kind: "poll", server: s.name, ok: false, contact: "late-ssh", detail: "SSH answered after the deadline", sentAt, answeredAt: lateAt }, lateAt);
      }
      if (s.xend === "down" || load + slow >= rounds) return;
      const at = sentAt + load + slow + this.latency();
      this.deliver({ kind: "poll", server: s.name, ok: true, guests: this.listedGuests(s), totalMemoryMb: s.memoryMb, freeMemoryMb: this.freeMb(s), dom0CpuSeconds: (this.t - s.bootedAt) / 1000, sentAt, answeredAt: at }, at);
      return;
    }
    if (s.xend === "down") {
      const at = sentAt + load + this.latency();
      this.deliver({ kind: "poll", server: s.name, ok: false, contact: "ssh-only", detail: "Error: Unable to connect to xend: No such file or directory", sentAt, answeredAt: at }, at);
      return;
    }
    if (slow + this.opts.answerMs >= this.deadlineMs) {
      const at = sentAt + this.deadlineMs;
      if (heartbeat) this.deliver({ kind: "poll", server: s.name, ok: false, contact: "ssh-only", detail: `xm list gave no answer within ${this.deadlineMs} ms`, sentAt, answeredAt: at }, at);
      // The listing itself still comes, late, as the environment keeps waiting for it a few intervals.
      if (slow >= 3 * this.pool.timing.heartbeatIntervalMs) return;
    }
    const guests = this.listedGuests(s);
    const at = sentAt + load + slow + this.latency();
    this.deliver(
      { kind: "poll", server: s.name, ok: true, guests, totalMemoryMb: s.memoryMb, freeMemoryMb: this.freeMb(s), dom0CpuSeconds: (this.t - s.bootedAt) / 1000, sentAt, answeredAt: at },
      at,
    );
  }

  private listedGuests(s: SimServer): RunningGuest[] {
    const paused = [...this.incomingNow(s)].filter(([name]) => !s.guests.has(name)).map(([name, r]): RunningGuest => ({ name, memoryMb: r.memoryMb, paused: true }));
    return [...s.guests]
      .map(([name, memoryMb]): RunningGuest => (s.migratingOut.has(name) ? { name, memoryMb, migrating: true } : { name, memoryMb }))
      .concat(paused)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  persist(stateJson: string): void {
    this.lastState = JSON.parse(stateJson);
  }

  report(lines: LogLine[]): void {
    this.log.push(...lines);
  }

  execute(actions: Action[]): void {
    for (const a of actions) this.executeOne(a);
  }

  /**
   * Runs a command over SSH on `s`: not sent at all when the server does not answer (certain failure); otherwise
   * `work` runs after `ms` and its answer comes back, unless the server loses answers: then the environment gives up
   * at the deadline with outcome "unknown".
   */
  private command(s: SimServer, ms: number, work: () => { ok: boolean; detail?: string }, answer: (outcome: "ok" | "failed" | "unknown", sentAt: number, at: number, detail?: string) => Observation, abort: () => void = () => {}): void {
    const sentAt = this.t;
    if (!this.reachable(s)) {
      const at = sentAt + this.deadlineMs;
      return this.deliver(answer("failed", sentAt, at, "ssh: connect timed out (command not sent)"), at);
    }
    const lost = s.loseAnswers > 0;
    if (lost) s.loseAnswers--;
    const slow = typeof s.xend === "number" ? s.xend : 0;
    const deadline = this.opts.commandDeadlineMs;
    const unknown = (detail: string) => {
      const at = sentAt + deadline;
      // The environment bounds every command server-side: nothing it started happens after its deadline.
      this.deliver({ ...answer("unknown", sentAt, at, detail), mayRunUntil: sentAt + deadline } as Observation, at);
    };
    if (ms + slow >= deadline) {
      // xend too slow: the command is killed at its deadline, before it did anything.
      unknown(`no answer within ${deadline} ms`);
      this.later(deadline, abort);
      return;
    }
    if (lost) unknown("connection lost after the command was sent");
    this.later(ms + slow, () => {
      const r = s.xend === "down" ? (abort(), { ok: false, detail: "Error: Unable to connect to xend" }) : work();
      if (lost) return;
      const at = this.t + this.latency();
      this.deliver(answer(r.ok ? "ok" : "failed", sentAt, at, r.detail), at);
    });
  }

  private executeOne(a: Action): void {
    switch (a.kind) {
      case "start": {
        const s = this.server(a.server);
        const mem = this.guestMemory(a.guest);
        return this.command(
          s,
          this.opts.startMs,
          () => {
            if (!s.power) return { ok: false, detail: "connection lost" };
            if (this.startFails.has(a.guest)) return { ok: false, detail: "xm create: Error: Device 51712 (vbd) could not be connected" };
            if (s.guests.has(a.guest) || this.incomingNow(s).has(a.guest)) return { ok: false, detail: `Error: Domain '${a.guest}' already exists` };
            if (this.freeMb(s) < mem) return { ok: false, detail: "xm create: Error: Not enough free memory" };
            this.place(a.guest, a.server, mem);
            return { ok: true };
          },
          (outcome, sentAt, answeredAt, detail) => ({ kind: "start-result", guest: a.guest, server: a.server, outcome, detail, sentAt, answeredAt }),
        );
      }
      case "migrate": {
        const from = this.server(a.from);
        const to = this.server(a.to);
        const mem = this.guestMemory(a.guest);
        const answer = (outcome: "ok" | "failed" | "unknown", sentAt: number, answeredAt: number, detail?: string): Observation => ({ kind: "migrate-result", guest: a.guest, from: a.from, to: a.to, outcome, detail, sentAt, answeredAt });
        if (this.reachable(from) && from.guests.has(a.guest) && from.xend !== "down") from.migratingOut.add(a.guest);
        const cutBefore = from.peersCut || to.peersCut;
        return this.command(
          from,
          this.opts.migrateMs,
          () => {
            from.migratingOut.delete(a.guest);
            if (!from.power || !from.guests.has(a.guest)) return { ok: false, detail: "Error: Domain not running on source" };
            if (!this.reachableFromPeers(to) || this.freeMb(to) < mem) return { ok: false, detail: "Error: can't connect: (111, 'Connection refused')" };
            if (cutBefore) return { ok: false, detail: "Error: can't connect: (110, 'Connection timed out')" };
            if (from.peersCut || to.peersCut) {
              // Cut mid-copy: the source suspended its guest and lost it; the target keeps the paused incoming copy.
              from.guests.delete(a.guest);
              to.incoming.set(a.guest, { memoryMb: mem, until: this.t + INCOMING_GIVE_UP_MS });
              this.onChange();
              return { ok: false, detail: `Error: Migration of domain ${a.guest} failed: connection to ${a.to} lost after suspend` };
            }
            // Xen pauses the source for the final copy and switches over: never two live copies.
            from.guests.delete(a.guest);
            to.guests.set(a.guest, mem);
            this.onChange();
            return { ok: true };
          },
          answer,
          () => from.migratingOut.delete(a.guest), // xend renames the source back when a migration fails
        );
      }
      case "stop": {
        const s = this.server(a.server);
        return this.command(
          s,
          0,
          () => {
            if (!s.power || !s.guests.has(a.guest)) return { ok: false, detail: "Error: Domain does not exist" };
            s.guests.delete(a.guest);
            this.onChange();
            return { ok: true };
          },
          (outcome, sentAt, answeredAt, detail) => ({ kind: "stop-result", guest: a.guest, server: a.server, outcome, detail, sentAt, answeredAt }),
        );
      }
      case "list":
        return this.listing(this.server(a.server), false);
      case "pill": {
        this.checkFalseFence(this.server(a.server), "poison pill");
        if (this.watchdogIsolated) {
          const at = this.t + this.deadlineMs;
          return this.deliver({ kind: "pill-result", server: a.server, outcome: "failed", detail: "watchdog cut off", sentAt: this.t, answeredAt: at }, at);
        }
        return this.storage.writePill(a.server, a.bootId, "watchdog");
      }
      case "fence": {
        const s = this.server(a.server);
        this.checkFalseFence(s, "fence");
        const sentAt = this.t;
        const answer = (outcome: "off" | "failed" | "timeout", ms: number, detail?: string) =>
          this.deliver({ kind: "fence-result", server: a.server, outcome, detail, sentAt, answeredAt: sentAt + ms }, sentAt + ms);
        if (s.fenceDevice === "fail") return answer("failed", this.opts.answerMs, "ipmitool: Unable to establish IPMI v2 / RMCP+ session");
        if (s.fenceDevice === "timeout") return answer("timeout", this.pool.timing.fenceTimeoutMs, "no answer from the fence device");
        // The power-off command exits 0 either way; the status query after it tells the truth.
        if (s.fenceDevice === "lies") return answer("failed", this.opts.answerMs, "power off exited 0 but the status query still says on");
        if (s.power) this.powerOff(s, "fence device");
        return answer("off", this.opts.answerMs);
      }
      case "proceed": {
        const s = this.server(a.server);
        if (s.power) this.powerOff(s, `planned ${a.op}`);
        if (a.op === "remove") {
          s.removed = true;
          this.note(`${s.name} removed from the pool`);
        }
        if (a.op === "restart") this.later(this.opts.restartBootMs, () => this.powerOn(s));
        return;
      }
      case "mark":
        this.marks.set(a.guest, a.state);
        return;
      case "mark-server":
        return;
    }
  }

  /** A fence (or pill) of a server that answered: never right. */
  private checkFalseFence(s: SimServer, what: string): void {
    if (this.answeredLast.get(s.name) === true) this.falseFences.push(`t=${this.t}: ${what} of ${s.name} while its last heartbeat received was answered`);
    this.trackAnswering();
    // Answering (late answers included) through a whole detection window before this fence: it was alive.
    const since = this.answeringSince.get(s.name);
    const window = (this.pool.timing.heartbeatMisses + 1) * this.pool.timing.heartbeatIntervalMs;
    if (since !== undefined && this.t - since > window) this.falseFences.push(`t=${this.t}: ${what} of ${s.name} while it had answered (late or not) since t=${since}`);
  }

  guestMemories: Record<string, number> = {};
  private guestMemory(guest: string): number {
    const m = this.guestMemories[guest];
    if (m === undefined) throw new Error(`unknown guest ${guest}`);
    return m;
  }

  /** Where each guest's process runs right now (a hung or cut-off server's guests still run). */
  whereRunning(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const s of this.servers.values()) {
      if (!s.power) continue;
      for (const g of s.guests.keys()) out.set(g, [...(out.get(g) ?? []), s.name]);
    }
    return out;
  }
}

/** Small deterministic PRNG, so a schedule replays exactly. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
