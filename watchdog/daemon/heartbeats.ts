// The daemon's heartbeats over SSH: per round and per server, `true` on one channel (is SSH alive?) and a listing
// (`xm list`, + `xm info` every few rounds) on another, bounded by the round's deadline. Each outcome becomes a
// timed observation: a listing, "ssh-only" (SSH answers, xm fails or is slow: degraded, never a miss) or a miss.
// Listings asked for by the core outside the rounds (to settle a command at once) go the same way, minus misses.
import type pino from "pino";
import type { ServerEndpoint, SshPool } from "../../provider/ssh";
import { RemoteCommandError } from "../../provider/ssh";
import type { PoolServer } from "../../ha/ha-record";
import type { Observation } from "../core/types";
import { heartbeatCommand, parseHeartbeat, pollObservation, SSH_ALIVE_COMMAND, type MemoryBaseline } from "./heartbeat";
import type { WatchdogMetrics } from "./metrics";

/** A listing slower than the heartbeat deadline is still awaited this many intervals (late evidence is evidence). */
const LISTING_ROUNDS = 3;

export interface HeartbeatDeps {
  ssh: SshPool;
  log: pino.Logger;
  metrics: WatchdogMetrics;
  endpoint(s: PoolServer): ServerEndpoint;
  /** Queues an observation for the next turn. */
  push(o: Observation): void;
  /** Asks the loop for a turn now (an answer arrived between rounds). */
  wake(): void;
  /** Registers work in flight (awaited, bounded, on stop). */
  track(p: Promise<unknown>): void;
  interval(): number;
  deadline(): number;
  infoEveryRounds: number;
}

export class Heartbeats {
  #baselines = new Map<string, MemoryBaseline>();
  #pollInFlight = new Set<string>();
  /** Extra listings in flight, apart from the heartbeat's. */
  #extraInFlight = new Set<string>();
  /** Asked for while one was in flight: that one was sent too early for the newer answer; send another after it. */
  #extraAgain = new Set<string>();
  #missStreak = new Map<string, number>();

  constructor(private readonly d: HeartbeatDeps) {}

  /** Did the server answer its last heartbeat (SSH at least)? undefined: never polled. */
  answering(server: string): boolean | undefined {
    const n = this.#missStreak.get(server);
    return n === undefined ? undefined : n === 0;
  }

  /**
   * One heartbeat of one server, bounded by the deadline: `true` on one channel (is SSH alive?) and, unless one is
   * still running, a listing on another. A listing that comes back after the deadline is not thrown away: it carries
   * its own sentAt/answeredAt, so it is delivered late as the evidence it is (and wakes the loop).
   */
  async poll(s: PoolServer, round: number): Promise<void> {
    const sentAt = Date.now();
    const deadline = this.d.deadline();
    const ep = this.d.endpoint(s);
    const listingRunning = this.#pollInFlight.has(s.name);
    const listing = listingRunning ? undefined : this.#startListing(s, !this.#baselines.has(s.name) || round % this.d.infoEveryRounds === 0, sentAt, true);
    const alive = settled(this.d.ssh.exec(ep, SSH_ALIVE_COMMAND, { timeoutMs: deadline }));
    const l = listing ? await bounded(listing, deadline) : undefined;
    if (l && l !== "late" && l.kind !== "none") {
      // The listing answered (or xm answered with an error): contact either way; the listing pushed itself.
      this.#contact(s.name);
      return;
    }
    const a = await bounded(alive, Math.max(1, deadline - (Date.now() - sentAt)));
    const answeredAt = Date.now();
    if (a !== "late" && a.ok) {
      this.#contact(s.name);
      const detail = l === undefined ? "previous xm list still running" : l === "late" ? `xm list gave no answer within ${deadline} ms` : l.detail;
      this.d.push({ kind: "poll", server: s.name, ok: false, contact: "ssh-only", detail, sentAt, answeredAt });
      return;
    }
    const why = a === "late" ? `no answer within ${deadline} ms` : a.e.message;
    this.d.push({ kind: "poll", server: s.name, ok: false, contact: "none", detail: why, sentAt, answeredAt });
    this.d.metrics.heartbeatMisses.inc({ server: s.name });
    const streak = (this.#missStreak.get(s.name) ?? 0) + 1;
    this.#missStreak.set(s.name, streak);
    if (streak === 1) this.d.log.warn({ event: "heartbeat-missed", server: s.name, err: why }, `heartbeat of ${s.name} missed: ${why}`);
  }

  #contact(server: string): void {
    if ((this.#missStreak.get(server) ?? 0) > 0) this.d.log.info({ event: "heartbeat-answered", server }, `${server} answers again`);
    this.#missStreak.set(server, 0);
  }

  /**
   * Starts `xm list` (+ `xm info`) on a server. Its answer, whenever it comes (bounded by a few intervals), goes into
   * the inbox with its own times: "ok" (a listing) or "ssh-only" (xm answered with an error or unreadable output).
   * A failure to reach SSH is reported to the caller only ("none"): the heartbeat decides what a miss is.
   */
  #startListing(s: PoolServer, withInfo: boolean, sentAt: number, heartbeat: boolean): Promise<{ kind: "ok" | "ssh-only" | "none"; detail: string }> {
    const inFlight = heartbeat ? this.#pollInFlight : this.#extraInFlight;
    inFlight.add(s.name);
    const p = this.d.ssh
      .exec(this.d.endpoint(s), heartbeatCommand(withInfo), { timeoutMs: LISTING_ROUNDS * this.d.interval() })
      .then(
        (r) => {
          const answeredAt = Date.now();
          try {
            const obs = pollObservation(s.name, parseHeartbeat(r.stdout), this.#baselines.get(s.name), { sentAt, answeredAt });
            if (!obs) {
              this.d.push({ kind: "poll", server: s.name, ok: false, contact: "ssh-only", detail: "no memory figures yet", sentAt, answeredAt });
              return { kind: "ssh-only" as const, detail: "no memory figures yet" };
            }
            this.#baselines.set(s.name, obs.baseline);
            this.d.push(obs.obs);
            if (heartbeat) this.d.metrics.heartbeatSeconds.observe((answeredAt - sentAt) / 1000);
            return { kind: "ok" as const, detail: "" };
          } catch (e) {
            const detail = `xm output unreadable: ${(e as Error).message}`;
            this.d.push({ kind: "poll", server: s.name, ok: false, contact: "ssh-only", detail, sentAt, answeredAt });
            return { kind: "ssh-only" as const, detail };
          }
        },
        (e: Error) => {
          if (e instanceof RemoteCommandError) {
            const detail = e.stderr.trim().split("\n").slice(-1)[0] || e.message;
            this.d.push({ kind: "poll", server: s.name, ok: false, contact: "ssh-only", detail, sentAt, answeredAt: Date.now() });
            return { kind: "ssh-only" as const, detail };
          }
          return { kind: "none" as const, detail: e.message };
        },
      )
      .finally(() => {
        inFlight.delete(s.name);
        if (!heartbeat && this.#extraAgain.delete(s.name)) this.#startListing(s, false, Date.now(), false);
        this.d.wake(); // late evidence: decide on it now
      });
    this.d.track(p);
    return p;
  }

  /** A listing asked for by the core outside the rounds (to settle a command at once): no answer is no miss. */
  extra(s: PoolServer | undefined): void {
    const server = s?.name ?? "";
    // A heartbeat listing in flight was sent before the command answered: it cannot settle it, so ask anew.
    if (!s || !this.#baselines.has(server)) return;
    if (this.#extraInFlight.has(server)) {
      this.#extraAgain.add(server);
      return;
    }
    this.#startListing(s, false, Date.now(), false);
  }
}

type Settled<T> = { ok: true; v: T } | { ok: false; e: Error };
function settled<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then((v) => ({ ok: true as const, v }), (e: Error) => ({ ok: false as const, e }));
}
/** The promise's value if it settles within ms, else "late" (the promise goes on). */
function bounded<T>(p: Promise<T>, ms: number): Promise<T | "late"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
