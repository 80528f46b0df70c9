// `ovm-ha agent`: the self-fencing agent, one per server (issue 12; Pacemaker's SBD and sanlock/wdmd do the same).
// Every interval it renews its slot on the shared storage and reads its poison pill; it feeds the watchdog device
// only while both succeed within the lease and no pill applies to it (agent-decision.ts). On a pill or a lost lease
// it stops feeding FIRST, then destroys its guests (bounded), writes a last slot `self-fencing` (bounded) and waits
// for the reset. A clean stop (SIGTERM) writes `stopped` and then disarms the device with the magic close.
//
// Threads: storage I/O goes through libuv's thread pool (fs.promises) and may hang there; the feed decision and the
// feed itself run on the main thread with a synchronous write on the device's fd, so hung storage can neither
// block a feed that is due nor keep one going that is not. Never more than one slot write and one pill read are in
// flight: a hung one is never queued behind.
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { performance } from "perf_hooks";
import { AgentTiming, parsePill, parseSlot, pillFile, renderSlot, Slot, slotFile, slotsDir, DISK_HEARTBEAT_SCHEMA_VERSION } from "../../ha/disk-heartbeat";
import { AgentMode, feedPeriodMs, feedVerdict, judgePill, LeaseInput, PillReading, PillVerdict } from "./agent-decision";
import { checkAndPropagate, CommandResult } from "./propagation";
import { WatchdogDevice } from "./watchdog-device";

export interface AgentOptions {
  server: string;
  clusterRoot: string;
  timing: AgentTiming;
  device: WatchdogDevice;
  bootId: string;
  /** xm, to list and destroy this server's guests when it fences itself. */
  xm: string;
  log(line: string): void;
  /** Bound of each command (xm, ovs-makerepo) the agent runs. */
  commandTimeoutMs?: number;
}

type SlotState = Slot["state"];

/** Resolves to the value, or rejects after `ms` (the operation itself goes on: it cannot be cancelled). */
function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}

export function runCommand(argv: string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { timeout: timeoutMs, killSignal: "SIGKILL", encoding: "utf8" }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
      const code = !e ? 0 : typeof e.code === "number" ? e.code : e.killed ? 124 : 127;
      resolve({ code, stdout: stdout ?? "", stderr: (stderr ?? "") + (e && typeof e.code !== "number" ? `${argv[0]}: ${e.killed ? `killed after ${timeoutMs} ms` : e.message}` : "") });
    });
  });
}

/** Guest names in `xm list` output (Domain-0 left out). */
export function guestsOfXmList(stdout: string): string[] {
  return stdout.split("\n").slice(1).map((l) => l.trim().split(/\s+/)[0]).filter((n) => n && n !== "Domain-0");
}

export class Agent {
  private mode: AgentMode = "running";
  private state: SlotState = "starting";
  private reason: string | undefined;
  private seq = 0;
  private armedAt = 0;
  private lastWriteOkAt: number | undefined;
  private lastReadOkAt: number | undefined;
  private pill: PillVerdict = { kind: "ignore" };
  private writeInFlight: Promise<boolean> | undefined;
  private readInFlight = false;
  private feedTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private lastFeedError = "";
  private fenceReason = "";
  /** Resolves when the agent has finished: stopped cleanly (true), or could not and left the device armed (false). */
  readonly done: Promise<boolean>;
  private finish!: (clean: boolean) => void;

  constructor(private readonly o: AgentOptions) {
    this.done = new Promise((r) => { this.finish = r; });
  }

  private now(): number {
    return performance.now();
  }

  private lease(): LeaseInput {
    return { now: this.now(), leaseMs: this.o.timing.leaseMs, armedAt: this.armedAt, lastWriteOkAt: this.lastWriteOkAt, lastReadOkAt: this.lastReadOkAt };
  }

  /**
   * Start: the slots directory must be reachable (else nothing is armed: exit with an error), a pill aimed at an
   * earlier boot is removed, the device is armed, then the heartbeat runs and seed 9.4's check starts.
   */
  async start(): Promise<void> {
    const o = this.o;
    await bounded(fs.promises.mkdir(slotsDir(o.clusterRoot), { recursive: true }), o.timing.leaseMs, `creating ${slotsDir(o.clusterRoot)}`);
    // An agent restarted in the same boot carries the counter on: seq only grows within a boot.
    const previous = await bounded(fs.promises.readFile(slotFile(o.clusterRoot, o.server), "utf8"), o.timing.leaseMs, "reading the slot").then(parseSlot, () => undefined);
    if (previous?.ok && previous.value.bootId === o.bootId) this.seq = previous.value.seq;
    const first = judgePill(await bounded(this.readPill(), o.timing.leaseMs, `reading ${pillFile(o.clusterRoot, o.server)}`), o.server, o.bootId);
    if (first.kind === "remove") {
      o.log(first.note + ": removing it");
      await bounded(fs.promises.rm(pillFile(o.clusterRoot, o.server), { force: true }), o.timing.leaseMs, "removing the old pill").catch((e) => o.log(`could not remove the old pill: ${(e as Error).message}`));
    } else if (first.kind === "ignore" && first.note) o.log(first.note);
    o.device.open();
    this.armedAt = this.now();
    o.log(`watchdog device ${o.device.path} armed; boot ${o.bootId}; interval ${o.timing.intervalMs} ms, lease ${o.timing.leaseMs} ms, device timeout ${o.timing.deviceTimeoutMs} ms`);
    if (first.kind === "obey") {
      this.pill = first;
      void this.fence(first.reason);
      return;
    }
    this.feed();
    this.feedTimer = setInterval(() => this.feed(), feedPeriodMs(o.timing.intervalMs, o.timing.deviceTimeoutMs));
    this.tickTimer = setInterval(() => this.tick(), o.timing.intervalMs);
    this.tick();
    void this.seed94();
  }

  /** The feed decision and the feed, on the main thread (see the file's head). */
  private feed(): void {
    const v = feedVerdict(this.mode, this.lease(), this.pill);
    if (v.feed) {
      try {
        this.o.device.feed();
        this.lastFeedError = "";
      } catch (e) {
        const msg = (e as Error).message;
        if (msg !== this.lastFeedError) this.o.log(`feeding ${this.o.device.path} failed: ${msg}`);
        this.lastFeedError = msg;
      }
    } else if (v.fence) void this.fence(v.fence);
  }

  private tick(): void {
    if (this.mode === "fencing") return;
    if (this.mode === "running" && !this.writeInFlight) void this.writeSlot(this.state, this.reason);
    // Stopping too: the pill is still read (a pill must be obeyed until the device is disarmed), and a stop slowed
    // by a loaded host must not lose the lease only because the reads stopped.
    if (!this.readInFlight) {
      this.readInFlight = true;
      const startedAt = this.now();
      this.readPill().then(
        (r) => {
          this.lastReadOkAt = Math.max(this.lastReadOkAt ?? 0, startedAt);
          const v = judgePill(r, this.o.server, this.o.bootId);
          if (v.kind === "obey") {
            this.pill = v;
            this.feed(); // decides at once: no feed, fence
          } else if (v.note) {
            // An old pill appearing mid-boot (never written by a watchdog that read this boot's slot), or another
            // server's: say so; only a pill aimed at this boot or at none is obeyed.
            this.o.log(v.note);
          }
        },
        (e) => this.o.log(`reading the pill failed: ${(e as Error).message}`),
      ).finally(() => { this.readInFlight = false; });
    }
  }

  private async readPill(): Promise<PillReading> {
    let text: string;
    try {
      text = await fs.promises.readFile(pillFile(this.o.clusterRoot, this.o.server), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return { kind: "none" };
      throw e;
    }
    const p = parsePill(text);
    return p.ok ? { kind: "pill", pill: p.value } : { kind: "unreadable", error: p.error };
  }

  /** One slot write (temporary file, rename); true when it landed. Only one at a time (callers check). */
  private writeSlot(state: SlotState, reason: string | undefined, tmpSuffix = "tmp"): Promise<boolean> {
    const startedAt = this.now();
    const slot: Slot = { schemaVersion: DISK_HEARTBEAT_SCHEMA_VERSION, server: this.o.server, bootId: this.o.bootId, seq: ++this.seq, writtenAt: Date.now(), state, ...(reason ? { reason } : {}) };
    const file = slotFile(this.o.clusterRoot, this.o.server);
    const tmp = path.join(path.dirname(file), `.${this.o.server}.json.${tmpSuffix}`);
    const p = (async () => {
      await fs.promises.writeFile(tmp, renderSlot(slot));
      await fs.promises.rename(tmp, file);
    })().then(
      () => {
        this.lastWriteOkAt = Math.max(this.lastWriteOkAt ?? 0, startedAt);
        return true;
      },
      (e) => {
        this.o.log(`writing the slot (seq ${slot.seq}, ${state}) failed: ${(e as Error).message}`);
        return false;
      },
    );
    if (tmpSuffix === "tmp") {
      this.writeInFlight = p;
      void p.finally(() => { if (this.writeInFlight === p) this.writeInFlight = undefined; });
    }
    return p;
  }

  private async seed94(): Promise<void> {
    const o = this.o;
    try {
      const r = await checkAndPropagate({
        clusterRoot: o.clusterRoot,
        server: o.server,
        run: (argv) => runCommand(argv, o.commandTimeoutMs ?? 60000),
        log: (l) => o.log(l),
      });
      if (this.mode !== "running") return;
      this.state = r.state;
      this.reason = r.state === "mismatch" ? r.reason : undefined;
      o.log(r.state === "ready" ? "seed 9.4: cluster.conf and repositories match the pool's: ready" : `seed 9.4: mismatch: ${r.reason}`);
    } catch (e) {
      if (this.mode !== "running") return;
      this.state = "mismatch";
      this.reason = `checking cluster.conf and repositories failed: ${(e as Error).message}`;
      o.log(`seed 9.4: ${this.reason}`);
    }
  }

  /** Self-fence: stop feeding first, then guests, then the last slot; then wait for the device to reset us. */
  private async fence(reason: string): Promise<void> {
    if (this.mode === "fencing") return;
    this.mode = "fencing";
    this.fenceReason = reason;
    if (this.feedTimer) clearInterval(this.feedTimer);
    if (this.tickTimer) clearInterval(this.tickTimer);
    const o = this.o;
    o.log(`SELF-FENCING: ${reason}: the device is no longer fed (reset within ${o.timing.deviceTimeoutMs} ms); destroying the guests`);
    const bound = Math.max(1000, Math.floor(o.timing.deviceTimeoutMs / 2));
    try {
      const list = await runCommand([o.xm, "list"], bound);
      const guests = list.code === 0 ? guestsOfXmList(list.stdout) : [];
      if (list.code !== 0) o.log(`xm list failed (${list.stderr.trim() || `exit ${list.code}`}): the reset ends the guests`);
      const results = await Promise.all(guests.map((g) => runCommand([o.xm, "destroy", g], bound)));
      guests.forEach((g, i) => o.log(`xm destroy ${g}: ${results[i].code === 0 ? "done" : (results[i].stderr.trim() || `exit ${results[i].code}`)}`));
    } catch (e) {
      o.log(`destroying the guests failed: ${(e as Error).message}`);
    }
    const wrote = await bounded(this.writeSlot("self-fencing", reason, "fence"), bound, "writing the self-fencing slot").catch(() => false);
    o.log(`${wrote ? "slot says self-fencing" : "could not write the self-fencing slot"}: waiting for the reset`);
  }

  /**
   * Clean stop (SIGTERM from the init script): no new renewals; once the write in flight has settled, write
   * `stopped`, then the magic close. If that write cannot land within the lease, the slot may still say armed, so
   * the device is left armed (the server resets): a slot must never say "armed" of a disarmed server.
   */
  async stop(): Promise<boolean> {
    if (this.mode === "fencing") {
      // The device stays armed and unfed whether this process waits or ends (a close without the magic 'V'
      // does not stop it): the reset comes either way. Ending lets the init script report it at once.
      this.o.log(`STOP NOT CLEAN: stop requested while self-fencing (${this.fenceReason}): the device stays armed, the server resets`);
      return false;
    }
    if (this.mode === "stopping") return this.done;
    this.mode = "stopping";
    const o = this.o;
    let clean = false;
    try {
      if (this.writeInFlight) await bounded(this.writeInFlight, o.timing.leaseMs, "the slot write in flight");
      clean = await bounded(this.writeSlot("stopped", undefined), o.timing.leaseMs, "writing the stopped slot");
    } catch (e) {
      o.log(`${(e as Error).message}`);
    }
    if (this.mode !== "stopping") return false; // fenced meanwhile
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.feedTimer) clearInterval(this.feedTimer);
    if (clean) {
      o.device.disarm();
      o.log("stopped: slot says stopped, watchdog device disarmed (magic close)");
    } else {
      o.log("STOP NOT CLEAN: the slot could not be marked stopped, so the device stays armed and the server will reset");
    }
    this.finish(clean);
    return clean;
  }
}
