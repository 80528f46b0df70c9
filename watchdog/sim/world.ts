// A simulated pool on a virtual clock: servers with memory and power, guest processes, network reachability,
// hangs, fence devices, and the watchdog's own network. It executes the manager's actions and produces the
// observations the real environment would. It knows where every guest process really runs.
import type { Action, GuestMark, LogLine, Observation } from "../core/types";
import type { WatchdogEnvironment } from "../core/environment";
import type { PoolRecord } from "../core/ha-record";

export type FenceDeviceMode = "ok" | "fail" | "timeout";

export interface SimServer {
  name: string;
  memoryMb: number;
  power: boolean;
  /** Dom0 stops answering; its guests keep running. */
  hung: boolean;
  /** Cut off from the watchdog and the other servers; its guests keep running. */
  partitioned: boolean;
  removed: boolean;
  /** guest name -> memory MB: the processes that really run here. */
  guests: Map<string, number>;
  fenceDevice: FenceDeviceMode;
  selfFences: boolean;
  lostMajoritySince?: number;
}

export interface SimOptions {
  migrateMs: number;
  restartBootMs: number;
  /** Results of commands arrive this long after they are issued. */
  answerMs: number;
}

const DEFAULTS: SimOptions = { migrateMs: 500, restartBootMs: 3000, answerMs: 100 };

export class SimWorld implements WatchdogEnvironment {
  t = 0;
  readonly servers = new Map<string, SimServer>();
  watchdogIsolated = false;
  readonly startFails = new Set<string>();
  readonly marks = new Map<string, GuestMark>();
  readonly log: LogLine[] = [];
  lastStateJson?: string;
  private inbox: { at: number; obs: Observation }[] = [];
  private timers: { at: number; run: () => void }[] = [];
  private opts: SimOptions;
  /** Called after every change to where processes run (the invariant checker hooks here). */
  onChange: () => void = () => {};

  constructor(
    readonly pool: PoolRecord,
    hardware: Record<string, { memoryMb: number; fenceDevice?: FenceDeviceMode; power?: boolean }>,
    opts: Partial<SimOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts };
    for (const s of pool.servers) {
      const hw = hardware[s.name];
      if (!hw) throw new Error(`no hardware for server ${s.name}`);
      this.servers.set(s.name, {
        name: s.name,
        memoryMb: hw.memoryMb,
        power: hw.power ?? true,
        hung: false,
        partitioned: false,
        removed: false,
        guests: new Map(),
        fenceDevice: hw.fenceDevice ?? "ok",
        selfFences: s.fence.method === "lease",
      });
    }
  }

  server(name: string): SimServer {
    const s = this.servers.get(name);
    if (!s) throw new Error(`unknown server ${name}`);
    return s;
  }
  note(reason: string): void {
    this.log.push({ t: this.t, event: "sim", reason });
  }
  reachable(s: SimServer): boolean {
    return s.power && !s.hung && !s.partitioned && !s.removed && !this.watchdogIsolated;
  }
  freeMb(s: SimServer): number {
    let used = 0;
    for (const m of s.guests.values()) used += m;
    return s.memoryMb - used;
  }
  place(guest: string, server: string, memoryMb: number): void {
    this.server(server).guests.set(guest, memoryMb);
    this.onChange();
  }
  powerOff(s: SimServer, why: string): void {
    s.power = false;
    s.guests.clear();
    s.lostMajoritySince = undefined;
    this.note(`${s.name} powered off (${why})`);
    this.onChange();
  }
  powerOn(s: SimServer): void {
    s.power = true;
    s.hung = false;
    this.note(`${s.name} powered on`);
  }
  deliver(obs: Observation, delayMs = this.opts.answerMs): void {
    this.inbox.push({ at: this.t + delayMs, obs });
  }
  /** A restarted watchdog never hears the answers to commands its previous incarnation sent. */
  dropAnswersInFlight(): number {
    const before = this.inbox.length;
    this.inbox = this.inbox.filter((m) => !m.obs.kind.endsWith("-result"));
    return before - this.inbox.length;
  }

  /** Time passes: timers fire, isolated self-fencing servers reset themselves. */
  advance(t: number): void {
    this.t = t;
    const due = this.timers.filter((x) => x.at <= t);
    this.timers = this.timers.filter((x) => x.at > t);
    for (const d of due) d.run();
    const leaseMs = this.pool.timing.leaseMs ?? 0;
    for (const s of this.servers.values()) {
      if (!s.selfFences || !s.power) continue;
      if (s.hung || s.partitioned) {
        s.lostMajoritySince ??= t;
        if (t - s.lostMajoritySince >= leaseMs) this.powerOff(s, "its self-fence agent fired: lease expired");
      } else {
        s.lostMajoritySince = undefined;
      }
    }
  }

  // ---- WatchdogEnvironment ------------------------------------------------------------------------------

  now(): number {
    return this.t;
  }

  collect(): Observation[] {
    const due = this.inbox.filter((m) => m.at <= this.t);
    this.inbox = this.inbox.filter((m) => m.at > this.t);
    const out = due.map((m) => m.obs);
    if (this.t % this.pool.timing.heartbeatIntervalMs === 0) {
      for (const s of this.servers.values()) {
        if (s.removed) continue;
        if (!this.reachable(s)) {
          out.push({ kind: "poll", server: s.name, ok: false });
          continue;
        }
        out.push({
          kind: "poll",
          server: s.name,
          ok: true,
          guests: [...s.guests].map(([name, memoryMb]) => ({ name, memoryMb })).sort((a, b) => (a.name < b.name ? -1 : 1)),
          totalMemoryMb: s.memoryMb,
          freeMemoryMb: this.freeMb(s),
        });
      }
    }
    return out;
  }

  persist(stateJson: string): void {
    this.lastStateJson = stateJson;
  }

  report(lines: LogLine[]): void {
    this.log.push(...lines);
  }

  execute(actions: Action[]): void {
    for (const a of actions) this.executeOne(a);
  }

  private executeOne(a: Action): void {
    switch (a.kind) {
      case "start": {
        const s = this.server(a.server);
        const mem = this.guestMemory(a.guest);
        const fail = (detail: string) => this.deliver({ kind: "start-result", guest: a.guest, server: a.server, ok: false, detail });
        if (!this.reachable(s)) return fail("ssh: connection timed out");
        if (this.startFails.has(a.guest)) return fail("xm create: Error: Device 51712 (vbd) could not be connected");
        if (s.guests.has(a.guest)) return fail(`Error: Domain '${a.guest}' already exists`);
        if (this.freeMb(s) < mem) return fail("xm create: Error: Not enough free memory");
        this.place(a.guest, a.server, mem);
        this.deliver({ kind: "start-result", guest: a.guest, server: a.server, ok: true });
        return;
      }
      case "migrate": {
        const from = this.server(a.from);
        const to = this.server(a.to);
        const mem = this.guestMemory(a.guest);
        const answer = (ok: boolean, detail?: string) =>
          this.deliver({ kind: "migrate-result", guest: a.guest, from: a.from, to: a.to, ok, detail });
        if (!this.reachable(from) || !from.guests.has(a.guest)) return answer(false, "Error: Domain not running on source");
        if (!this.reachable(to) || this.freeMb(to) < mem) return answer(false, "Error: can't connect: (111, 'Connection refused')");
        this.timers.push({
          at: this.t + this.opts.migrateMs,
          run: () => {
            if (!from.power || !to.power || !from.guests.has(a.guest) || this.freeMb(to) < mem) {
              return answer(false, "Error: migration aborted");
            }
            // Xen pauses the source for the final copy and switches over: never two live copies.
            from.guests.delete(a.guest);
            to.guests.set(a.guest, mem);
            this.onChange();
            answer(true);
          },
        });
        return;
      }
      case "stop": {
        const s = this.server(a.server);
        if (!this.reachable(s) || !s.guests.has(a.guest)) {
          return this.deliver({ kind: "stop-result", guest: a.guest, server: a.server, ok: false, detail: "Error: Domain does not exist" });
        }
        s.guests.delete(a.guest);
        this.onChange();
        this.deliver({ kind: "stop-result", guest: a.guest, server: a.server, ok: true });
        return;
      }
      case "fence": {
        const s = this.server(a.server);
        if (s.fenceDevice === "fail") {
          return this.deliver({ kind: "fence-result", server: a.server, outcome: "failed", detail: "ipmitool: Unable to establish IPMI v2 / RMCP+ session" });
        }
        if (s.fenceDevice === "timeout") {
          return this.deliver({ kind: "fence-result", server: a.server, outcome: "timeout", detail: "no answer from the fence device" }, this.pool.timing.fenceTimeoutMs);
        }
        if (s.power) this.powerOff(s, "fence device");
        this.deliver({ kind: "fence-result", server: a.server, outcome: "off" });
        return;
      }
      case "proceed": {
        const s = this.server(a.server);
        if (s.power) this.powerOff(s, `planned ${a.op}`);
        if (a.op === "remove") {
          s.removed = true;
          this.note(`${s.name} removed from the pool`);
        }
        if (a.op === "restart") {
          this.timers.push({ at: this.t + this.opts.restartBootMs, run: () => this.powerOn(s) });
        }
        return;
      }
      case "mark":
        this.marks.set(a.guest, a.state);
        return;
      case "mark-server":
        return;
    }
  }

  guestMemories: Record<string, number> = {};
  private guestMemory(guest: string): number {
    const m = this.guestMemories[guest];
    if (m === undefined) throw new Error(`unknown guest ${guest}`);
    return m;
  }

  /** Where each guest's process runs right now (a hung or partitioned server's guests still run). */
  whereRunning(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const s of this.servers.values()) {
      if (!s.power) continue;
      for (const g of s.guests.keys()) out.set(g, [...(out.get(g) ?? []), s.name]);
    }
    return out;
  }
}
