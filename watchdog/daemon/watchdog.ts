// The real watchdog: the pure core (watchdog/core) driven by a loop of heartbeat rounds over SSH. Each turn:
// heartbeat every server and read the HA record + drain requests (all within the interval), step the core,
// persist its state atomically, log, then start the commands (fence, xm create, xm migrate -l, xm shutdown) whose
// answers come in at a later turn.
import pLimit from "p-limit";
import pino from "pino";
import type { SshPool, ServerEndpoint } from "../../provider/ssh";
import { ChannelOpenError, ConnectionError, ConnectTimeoutError, HostKeyMismatchError, RemoteCommandError, UnknownHostKeyError } from "../../provider/ssh";
import { xmCreate, xmMigrate, xmShutdown } from "../../provider/commands/xm";
import { createManagerState, type ManagerState } from "../core/manager";
import { turn, type WatchdogEnvironment } from "../core/environment";
import type { GuestRecord, PoolRecord, PoolServer } from "../../ha/ha-record";
import type { Action, CommandOutcome, LogLine, Observation } from "../core/types";
import { buildStatus, type Marks, type WatchdogStatus } from "../status";
import { fenceFor, statusFilePath, type WatchdogConfig } from "./config";
import { formatResponse, responsePath, writeFileCommand, type DrainResponse, type ResponseState } from "./drain-request";
import { effectivePool } from "./effective-pool";
import { runFence } from "./fence-runner";
import { Heartbeats } from "./heartbeats";
import { DiskHeartbeatIo } from "./disk-heartbeat-io";
import { WatchdogMetrics } from "./metrics";
import { parseRecords, readRecordsCommand, type RecordSnapshot } from "./record-reader";
import { endpointFor, seedEndpoints, sshPoolFromConfig } from "./ssh-access";
import { takeIncarnation } from "./incarnation";
import { guardedCommand, tokenFile } from "../replica/fencing-token";
import { readStateFile, writeStateFile, writeStatusFile } from "./state-file";
import { assertSecretFilesPrivate, readStatusToken, secretFiles } from "./secret-files";
import { ReplicaHook } from "../replica/replica-hook";
import type { Replica } from "../replica/replica";

export interface WatchdogOptions {
  config: WatchdogConfig;
  /** Default: pino to log.file or stdout at log.level. */
  logger?: pino.Logger;
  /** Every core log line, as reported (tests and benchmarks). */
  onLog?: (line: LogLine) => void;
  /** Default true; tests turn process metrics off to keep registries small. */
  processMetrics?: boolean;
  /** etcd mode: this replica leads (awaitLeadership resolved); state goes to etcd, commands through the guard. */
  replica?: Replica;
}

/** Commands to one server at once besides its heartbeat (the SSH layer allows 8 channels per connection). */
const ACTIONS_PER_SERVER = 4;
const EVENTS_KEPT = 50;
/** How long SIGTERM waits for commands in flight before closing SSH (their answers are then lost, see core). */
const STOP_WAIT_MS = 10000;
/** How long a start waits to take its token (an earlier process's guarded command holds the lock until xm returns). */
const INCARNATION_TIMEOUT_MS = 5000;

export function createLogger(config: WatchdogConfig): pino.Logger {
  const dest = config.log.file ? pino.destination({ dest: config.log.file, mkdir: true, sync: false }) : pino.destination(1);
  return pino({ level: config.log.level, base: { name: "ovm-ha-watchdog" }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

export class Watchdog implements WatchdogEnvironment {
  readonly config: WatchdogConfig;
  readonly log: pino.Logger;
  readonly metrics: WatchdogMetrics;
  readonly ssh: SshPool;
  #state?: ManagerState;
  #inbox: Observation[] = [];
  /**
   * Misses and disk-heartbeat readings of the round in flight: the core takes a round's silences together (two of
   * four servers silent is exactly half, not one then the other), so turns taken during a round for other answers
   * (a fence result, a start's answer) never see half a round.
   */
  #heldUntilRoundEnd: Observation[] = [];
  #inRound = false;
  #snapshot?: RecordSnapshot;
  #recordsHash?: string;
  #recordProblems: string[] = [];
  #poolProblems: string[] = [];
  readonly heartbeats: Heartbeats;
  /** Slots read each round, pills written (disk-heartbeat-io.ts). */
  readonly disk: DiskHeartbeatIo;
  #actionLimits = new Map<string, pLimit.Limit>();
  #inFlight = new Set<Promise<unknown>>();
  #events: LogLine[] = [];
  #marks: Marks = { servers: {}, guests: {} };
  /** server -> request id turned into a `request` observation and not yet answered `done`/`refused`. */
  #requests = new Map<string, string>();
  /** Responses waiting to be written to the shared storage. */
  #responses = new Map<string, DrainResponse>();
  /** `server/id` of requests answered done or refused: never observed again (the file lingers a moment). */
  #finished = new Set<string>();
  #reader?: ServerEndpoint;
  #round = 0;
  #turnLog: LogLine[] = [];
  #stopping = false;
  #wake?: () => void;
  #loop?: Promise<void>;
  #startedAt = Date.now();
  #onLog?: (line: LogLine) => void;
  metricsPort?: number;
  readonly #replica?: ReplicaHook;
  /** Single mode: this process's fencing token (incarnation.ts); commands go through the guard with it. */
  #token?: string;

  constructor(opts: WatchdogOptions) {
    this.config = opts.config;
    this.log = opts.logger ?? createLogger(opts.config);
    this.#onLog = opts.onLog;
    this.metrics = new WatchdogMetrics({ processMetrics: opts.processMetrics });
    const quiet = this.log.child({ component: "ssh" });
    // The SSH layer's warnings (a failed command) are expected for a dead server every round: we log them ourselves.
    this.ssh = sshPoolFromConfig(opts.config, {
      connectTimeoutMs: 900,
      logger: { debug: (o, m) => quiet.trace(o, m), warn: (o, m) => quiet.debug(o, m) },
    });
    this.heartbeats = new Heartbeats({
      ssh: this.ssh,
      log: this.log,
      metrics: this.metrics,
      endpoint: (s) => this.#endpoint(s),
      push: (o) => (this.#inRound && o.kind === "poll" && !o.ok && o.contact === "none" ? this.#heldUntilRoundEnd : this.#inbox).push(o),
      wake: () => this.#wake?.(),
      track: (p) => this.#track(p),
      interval: () => this.interval,
      deadline: () => this.deadline,
      infoEveryRounds: opts.config.heartbeat.infoEveryRounds,
    });
    if (opts.replica) this.#replica = new ReplicaHook(opts.replica, this.config, this.ssh, this.metrics.registry);
    this.disk = new DiskHeartbeatIo({
      ssh: this.ssh,
      log: this.log,
      clusterRoot: this.config.pool.clusterRoot,
      servers: () => (this.#state?.pool.servers ?? []).filter((s) => this.#state?.servers[s.name]?.state !== "removed").map((s) => ({ name: s.name, endpoint: this.#endpoint(s) })),
      healthy: (n) => this.heartbeats.answering(n) === true && !this.#state?.servers[n]?.degraded,
      push: (o) => (this.#inRound ? this.#heldUntilRoundEnd : this.#inbox).push(o),
      wake: () => this.#wake?.(),
      track: (p) => this.#track(p),
      deadline: () => this.deadline,
      // The same guard as xm create/migrate/shutdown: a deposed leader or an older process cannot write a pill.
      guard: (argv) => (this.#replica ? this.#replica.guard(argv) : this.#token ? guardedCommand(tokenFile(this.config.pool.clusterRoot), this.#token, argv) : argv),
      onPill: (result) => this.metrics.pills.inc({ result }),
    });
  }

  get state(): ManagerState | undefined {
    return this.#state;
  }

  get interval(): number {
    return this.#state?.pool.timing.heartbeatIntervalMs ?? this.config.timing.heartbeatIntervalMs ?? 1000;
  }

  /** A heartbeat (and the record read) must complete within this, so that a round fits in the interval. */
  get deadline(): number {
    const i = this.interval;
    return Math.max(50, i - Math.min(100, Math.floor(i / 10)));
  }

  /** Loads the state or the records, starts the metrics endpoint and the loop. Resolves once running. */
  async start(): Promise<void> {
    assertSecretFilesPrivate(secretFiles(this.config));
    // A command the previous process sent may still complete until its deadline (xend goes on without its client).
    const c = this.config.commands;
    // Each kind by its own deadline: a lost start is not held for the (much longer) migration deadline.
    const deadlines = { start: c.startTimeoutMs, migrate: c.migrateTimeoutMs, stop: c.stopTimeoutMs };
    let saved: ManagerState | undefined;
    if (this.#replica) saved = await this.#replica.loadState(Math.max(deadlines.start, deadlines.migrate, deadlines.stop), this.log);
    else {
      // With our token taken, nothing an earlier process sent still runs: what it left in flight is settled by
      // the first listings (deadline 0); without it, by the commands' deadlines.
      this.#token = await takeIncarnation(this.ssh, seedEndpoints(this.config), tokenFile(this.config.pool.clusterRoot), INCARNATION_TIMEOUT_MS, this.log);
      saved = readStateFile(this.config.stateFile, this.#token ? 0 : deadlines);
    }
    if (saved) {
      this.#state = saved;
      this.log.info({ event: "state-loaded", file: this.config.stateFile }, "resuming from the saved state");
    }
    // The pool record: from the configured addresses (and the saved pool's servers), until one answers.
    for (let attempt = 1; ; attempt++) {
      const candidates = [...seedEndpoints(this.config), ...(saved ? this.#poolEndpoints(saved.pool) : [])];
      for (const ep of candidates) {
        if (await this.#readRecords(ep, 5000)) break;
      }
      if (this.#snapshot?.pool) break;
      if (saved) {
        this.log.warn({ event: "records-unreadable", problems: this.#recordProblems }, "no server answered with the HA record: resuming with the saved pool");
        break;
      }
      if (this.#stopping) throw new Error("stopped before the HA record could be read");
      this.log.warn({ event: "records-unreadable", attempt, problems: this.#recordProblems }, "cannot read the HA record yet; retrying");
      await new Promise((r) => setTimeout(r, 2000));
    }
    if (!this.#state) {
      const ep = effectivePool(this.#snapshot!.pool!, this.config);
      this.#poolProblems = ep.problems;
      this.#state = createManagerState(ep.pool, this.#snapshot!.guests, Date.now());
      this.#recordsHash = this.#snapshot!.recordsHash;
    }
    for (const p of this.#poolProblems) this.log.warn({ event: "fence-config", loud: true }, p);
    if (this.config.metrics && !this.#replica) { // etcd mode: run-replica serves it, standing by or leading
      this.metricsPort = await this.metrics.listen(this.config.metrics.port, this.config.metrics.host, () => this.status(), { statusToken: readStatusToken(this.config) });
      this.log.info({ event: "metrics-listening", port: this.metricsPort }, `metrics on http://${this.config.metrics.host}:${this.metricsPort}/metrics`);
    }
    this.#loop = this.#run();
  }

  /** Graceful stop: finish the turn, wait (bounded) for commands in flight, save, close SSH. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
    if (this.#inFlight.size) {
      this.log.info({ event: "stopping", inFlight: this.#inFlight.size }, "waiting for commands in flight");
      await Promise.race([Promise.allSettled([...this.#inFlight]), new Promise((r) => setTimeout(r, STOP_WAIT_MS))]);
    }
    if (this.#state) writeStatusFile(statusFilePath(this.config), { ...this.status(), daemon: { ...this.status().daemon, stoppedAt: Date.now() } });
    this.ssh.close();
    await this.metrics.close();
    this.log.info({ event: "watchdog-stopped" }, "stopped; state saved");
    await new Promise<void>((r) => this.log.flush(() => r()));
  }

  status(): WatchdogStatus {
    return buildStatus(
      this.#state!,
      this.#marks,
      this.#events,
      [...this.#poolProblems, ...this.#recordProblems],
      { pid: process.pid, startedAt: this.#startedAt, heartbeatIntervalMs: this.interval },
      Date.now(),
    );
  }

  // ---- the loop -------------------------------------------------------------------------------------------

  /**
   * Rounds every interval; between them, an answer that arrives (a command result, an extra listing) wakes the
   * loop for a turn at once, so a failover never waits for the next round to take its next step.
   */
  async #run(): Promise<void> {
    while (!this.#stopping) {
      const tick = Date.now();
      this.#inRound = true; // before the round starts: a poll may answer at once
      await this.#whileRound(this.#round_());
      this.#safeTurn();
      for (;;) {
        const wait = tick + this.interval - Date.now();
        if (wait <= 0 || this.#stopping) break;
        const woken = await new Promise<boolean>((r) => {
          const timer = setTimeout(() => r(false), wait);
          this.#wake = () => {
            clearTimeout(timer);
            r(true);
          };
        });
        this.#wake = undefined;
        if (!woken || this.#stopping) break;
        this.#safeTurn();
      }
    }
  }

  /**
   * Waits for a round, taking a turn for every answer that wakes the loop meanwhile. A round lasts as long as its
   * slowest heartbeat: with a silent server (crashed, cut off) that is its whole deadline, and a fence result or a
   * start's answer that arrived meanwhile waited for it (one interval per failover step, measured with silent
   * crashes). The turn is synchronous: it never overlaps another.
   */
  async #whileRound(round: Promise<void>): Promise<void> {
    let done = false;
    let wake: (() => void) | undefined;
    const finished = round.finally(() => {
      done = true;
      this.#inRound = false;
      this.#inbox.push(...this.#heldUntilRoundEnd.splice(0));
      wake?.();
    });
    while (!done && !this.#stopping) {
      await new Promise<void>((r) => {
        wake = r;
        this.#wake = r;
      });
      wake = undefined;
      this.#wake = undefined;
      if (done || this.#stopping) break;
      this.#safeTurn();
    }
    await finished;
  }

  #safeTurn(): void {
    try {
      this.#turn();
    } catch (e) {
      // Nothing was executed (persist comes before execute): the same decisions are taken again next turn.
      this.log.error({ event: "turn-failed", err: (e as Error).message }, "turn failed; actions not executed");
    }
  }

  async #round_(): Promise<void> {
    const state = this.#state!;
    this.#round++;
    const polls = state.pool.servers.filter((s) => state.servers[s.name]?.state !== "removed").map((s) => this.heartbeats.poll(s, this.#round));
    const reader = this.#pickReader();
    const reads = reader ? [this.#readRecords(reader, this.deadline).then((ok) => { if (!ok) this.#reader = undefined; })] : [];
    await Promise.all([...polls, ...reads, this.disk.read()]);
    this.#flushResponses();
  }

  #pickReader(): ServerEndpoint | undefined {
    const state = this.#state!;
    if (this.#reader && state.pool.servers.some((s) => s.name === this.#reader!.name) && this.heartbeats.answering(this.#reader.name) !== false) return this.#reader;
    const up = state.pool.servers.find((s) => this.heartbeats.answering(s.name) === true);
    this.#reader = up ? this.#endpoint(up) : seedEndpoints(this.config)[this.#round % this.config.pool.addresses.length];
    return this.#reader;
  }

  #endpoint(s: PoolServer): ServerEndpoint {
    return endpointFor(this.config, { name: s.name, address: s.address, port: s.sshPort });
  }
  #poolEndpoints(pool: PoolRecord): ServerEndpoint[] {
    return pool.servers.map((s) => this.#endpoint(s));
  }

  /** Reads records and requests from one server; queues a `config` observation when they changed. */
  async #readRecords(ep: ServerEndpoint, timeoutMs: number): Promise<boolean> {
    let snap: RecordSnapshot;
    try {
      const r = await this.ssh.exec(ep, readRecordsCommand(this.config.pool.clusterRoot), { timeoutMs });
      snap = parseRecords(r.stdout);
    } catch (e) {
      this.#recordProblems = [`cannot read the HA record from ${ep.name}: ${(e as Error).message}`];
      return false;
    }
    const changedProblems = snap.problems.join("\n") !== this.#recordProblems.join("\n");
    this.#recordProblems = snap.problems;
    if (changedProblems) for (const p of snap.problems) this.log.warn({ event: "record-problem", loud: true, from: ep.name }, p);
    if (!snap.pool) return true; // keep the records we have
    this.#snapshot = snap;
    if (this.#state && snap.recordsHash !== this.#recordsHash) {
      try {
        const ep2 = effectivePool(snap.pool, this.config);
        this.#poolProblems = ep2.problems;
        this.#inbox.push({ kind: "config", pool: ep2.pool, guests: snap.guests });
        this.#recordsHash = snap.recordsHash;
        this.log.info({ event: "records-read", generation: snap.pool.generation, guests: snap.guests.length, from: ep.name }, `HA record generation ${snap.pool.generation} read from ${ep.name}`);
      } catch (e) {
        this.log.warn({ event: "record-problem", loud: true }, `pool record not applied: ${(e as Error).message}`);
      }
    }
    this.#takeRequests(snap);
    return true;
  }

  /** New drain requests become `request` observations, once per request id. */
  #takeRequests(snap: RecordSnapshot): void {
    for (const req of snap.requests) {
      if (this.#requests.get(req.server) === req.id || this.#finished.has(`${req.server}/${req.id}`)) continue;
      const answered = snap.responses.find((r) => r.server === req.server && r.id === req.id);
      if (answered && answered.state !== "accepted") continue;
      if (answered && this.#state?.servers[req.server]?.state === "draining") {
        this.#requests.set(req.server, req.id); // resumed mid-drain: the saved state has it
        continue;
      }
      this.#requests.set(req.server, req.id);
      this.log.info({ event: "request-read", server: req.server, op: req.op, id: req.id }, `${req.op} of ${req.server} requested`);
      this.#inbox.push({ kind: "request", op: req.op, server: req.server });
    }
  }

  #respond(server: string, state: ResponseState, reason: string): void {
    const id = this.#requests.get(server);
    if (id === undefined) return;
    this.#responses.set(server, { schemaVersion: 1, server, id, state, reason, at: Date.now() });
    if (state !== "accepted") {
      this.#requests.delete(server);
      this.#finished.add(`${server}/${id}`);
    }
  }

  #flushResponses(): void {
    if (this.#responses.size === 0) return;
    const reader = this.#pickReader();
    if (!reader) return;
    for (const [server, resp] of this.#responses) {
      this.#responses.delete(server);
      // Through the guard like xm: a deposed leader cannot answer (it might say "done" for a drain a successor runs).
      const file = responsePath(this.config.pool.clusterRoot, server);
      const p = Promise.resolve().then(() => this.ssh.exec(reader, this.#guardArgv(writeFileCommand(file)), { input: formatResponse(resp), timeoutMs: 5000 })).then(
        () => this.log.info({ event: "request-answered", server, state: resp.state, id: resp.id }, `${server}: ${resp.state} (${resp.reason})`),
        (e: Error) => {
          this.log.warn({ event: "request-answer-failed", server, err: e.message }, "could not write the drain response; retrying");
          if (!this.#responses.has(server)) this.#responses.set(server, resp);
        },
      );
      this.#track(p);
    }
  }

  #turn(): void {
    const before = this.#state!;
    const t0 = Date.now();
    this.#turnLog = [];
    const after = turn(this, before);
    this.#state = after;
    this.metrics.turnSeconds.observe((Date.now() - t0) / 1000);
    this.metrics.observeTurn(before, after, this.#turnLog);
    // Drain requests: accepted when draining, refused when the core said no.
    for (const line of this.#turnLog) {
      if (line.event === "request-refused" && line.server) {
        // Asking again for a server already drained is answered done: the operation may go ahead.
        const drained = after.servers[line.server]?.state === "down";
        this.#respond(line.server, drained ? "done" : "refused", line.reason);
      }
      if (line.event === "server-draining" && line.server) this.#respond(line.server, "accepted", line.reason);
    }
    for (const [server] of this.#requests) {
      const st = after.servers[server]?.state;
      if (st !== "draining" && st !== "suspect" && !this.#responses.has(server) && !this.#turnLog.some((l) => l.server === server && l.event === "server-draining")) {
        // The drain ended without a proceed (the server failed meanwhile, or was already drained).
        if (st === "down" || st === "removed") this.#respond(server, "done", `${server} is ${st}`);
        else if (st === "failed" || st === "fencing" || st === "fenced") this.#respond(server, "refused", `${server} is ${st}`);
      }
    }
    writeStatusFile(statusFilePath(this.config), this.status());
  }

  // ---- WatchdogEnvironment -----------------------------------------------------------------------------

  now(): number {
    return Date.now();
  }

  collect(): Observation[] {
    const obs = this.#inbox;
    this.#inbox = [];
    return obs;
  }

  persist(stateJson: string): void {
    if (this.#replica) this.#replica.persist(stateJson);
    else writeStateFile(this.config.stateFile, stateJson);
  }

  report(lines: LogLine[]): void {
    for (const l of lines) {
      this.#turnLog.push(l);
      this.#events.push(l);
      const fields = { event: l.event, server: l.server, guest: l.guest, t: l.t, loud: l.loud };
      if (l.loud) this.log.warn(fields, l.reason);
      else this.log.info(fields, l.reason);
      this.#onLog?.(l);
    }
    if (this.#events.length > EVENTS_KEPT) this.#events.splice(0, this.#events.length - EVENTS_KEPT);
  }

  execute(actions: Action[]): void {
    // etcd mode: only once the state (and our leadership) is confirmed in etcd; never if deposed meanwhile.
    if (this.#replica) this.#replica.afterCommit(actions, (a) => this.#execute(a), this.log);
    else this.#execute(actions);
  }

  #execute(actions: Action[]): void {
    for (const a of actions) {
      switch (a.kind) {
        case "fence":
          this.#fence(a.server);
          break;
        case "pill":
          this.disk.pill(a.server, a.bootId, a.reason, (e) => commandOutcome(e) as "failed" | "unknown", this.#state!.pool.timing.fenceTimeoutMs);
          break;
        case "start":
          this.#command(a.server, () => {
            const rec = this.#record(a.guest);
            return xmCreate(rec.vmCfgPath);
          }, this.config.commands.startTimeoutMs, (outcome, t, detail) => ({ kind: "start-result", guest: a.guest, server: a.server, outcome, detail, ...t }));
          break;
        case "migrate":
          this.#command(a.from, () => xmMigrate(a.guest, this.#serverRecord(a.to).address, true), this.config.commands.migrateTimeoutMs, (outcome, t, detail) => ({ kind: "migrate-result", guest: a.guest, from: a.from, to: a.to, outcome, detail, ...t }));
          break;
        case "stop":
          this.#command(a.server, () => xmShutdown(a.guest, true), this.config.commands.stopTimeoutMs, (outcome, t, detail) => ({ kind: "stop-result", guest: a.guest, server: a.server, outcome, detail, ...t }));
          break;
        case "list":
          this.heartbeats.extra(this.#state!.pool.servers.find((x) => x.name === a.server));
          break;
        case "proceed":
          this.#respond(a.server, "done", `drained: ${a.op} may go ahead`);
          break;
        case "mark":
          this.#marks.guests[a.guest] = { state: a.state, reason: a.reason };
          break;
        case "mark-server":
          this.#marks.servers[a.server] = { state: a.state, reason: a.reason };
          break;
      }
    }
  }

  /** Servers answering (up first, then recovering or draining), `except` left out: where a guarded fence may run. */
  #healthyEndpoints(except: string): ServerEndpoint[] {
    const st = this.#state!;
    const rank = (name: string) => ["up", "recovering", "draining"].indexOf(st.servers[name]?.state ?? "");
    return st.pool.servers
      .filter((x) => x.name !== except && rank(x.name) >= 0 && this.heartbeats.answering(x.name) === true)
      .sort((a, b) => rank(a.name) - rank(b.name))
      .map((x) => this.#endpoint(x));
  }

  #record(guest: string): GuestRecord {
    const r = this.#state!.records[guest];
    if (!r) throw new Error(`no HA record for guest ${guest}`);
    return r;
  }
  #serverRecord(name: string): PoolServer {
    const s = this.#state!.pool.servers.find((x) => x.name === name);
    if (!s) throw new Error(`server ${name} is not in the pool record`);
    return s;
  }

  #track<T>(p: Promise<T>): void {
    this.#inFlight.add(p);
    p.finally(() => this.#inFlight.delete(p)).catch(() => undefined);
  }

  #guardArgv(cmd: readonly string[]): readonly string[] {
    return this.#replica ? this.#replica.guard(cmd) : this.#token ? guardedCommand(tokenFile(this.config.pool.clusterRoot), this.#token, cmd) : cmd;
  }

  #command(server: string, build: () => readonly string[], timeoutMs: number, result: (outcome: CommandOutcome, t: { sentAt: number; answeredAt: number; mayRunUntil?: number }, detail?: string) => Observation): void {
    let limit = this.#actionLimits.get(server);
    if (!limit) this.#actionLimits.set(server, (limit = pLimit(ACTIONS_PER_SERVER)));
    const p = limit(async () => {
      const cmd = build();
      const argv = this.#guardArgv(cmd);
      const sentAt = Date.now();
      try {
        await this.ssh.exec(this.#endpoint(this.#serverRecord(server)), argv, { timeoutMs });
        this.log.info({ event: "command-done", server, command: cmd.join(" "), ms: Date.now() - sentAt }, `${server}: ${cmd.join(" ")}`);
        this.#inbox.push(result("ok", { sentAt, answeredAt: Date.now() }));
      } catch (e) {
        const detail = e instanceof RemoteCommandError ? (e.stderr.trim() || e.message).split("\n").slice(-2).join(" ") : (e as Error).message;
        const outcome = commandOutcome(e);
        const t = { sentAt, answeredAt: Date.now(), ...(outcome === "unknown" ? { mayRunUntil: sentAt + timeoutMs } : {}) };
        this.log.warn({ event: "command-failed", server, command: cmd.join(" "), err: detail, outcome, ms: Date.now() - sentAt }, `${server}: ${cmd.join(" ")} ${outcome === "unknown" ? "got no answer (it may have run)" : "failed"}`);
        this.#inbox.push(result(outcome, t, detail));
      }
      this.#wake?.(); // settle it now: the core asks for a listing right away
    });
    this.#track(p);
  }

  #fence(server: string): void {
    const f = fenceFor(this.config, server);
    if (!f) {
      const now = Date.now();
      this.#inbox.push({ kind: "fence-result", server, outcome: "failed", detail: "no fence command configured", sentAt: now, answeredAt: now });
      return;
    }
    const s = this.#serverRecord(server);
    this.log.warn({ event: "fence-command", server }, `fencing ${server}`);
    const sentAt = Date.now();
    // etcd mode: the off command runs on a healthy server behind the fencing-token guard (watchdog/replica/guarded-fence.ts).
    const off = this.#replica?.fenceOff(() => this.#healthyEndpoints(server), this.log);
    const p = runFence(f, { name: s.name, address: s.address }, this.#state!.pool.timing.fenceTimeoutMs, { off }).then((r) => {
      this.log.warn({ event: "fence-command-result", server, outcome: r.outcome, ms: r.ms, detail: r.detail }, `fence of ${server}: ${r.outcome}`);
      this.#inbox.push({ kind: "fence-result", server, outcome: r.outcome, detail: r.detail, sentAt, answeredAt: Date.now() });
      this.#wake?.();
    });
    this.#track(p);
  }
}

/**
 * What a failed command says about whether it ran: an error answer from the server (exit status) or a failure to
 * connect or open a channel means it did not run as asked ("failed"); a deadline or a connection lost after it was
 * sent means it may have run ("unknown").
 */
export function commandOutcome(e: unknown): CommandOutcome {
  if (e instanceof RemoteCommandError) return "failed";
  if (e instanceof ConnectTimeoutError || e instanceof ConnectionError || e instanceof ChannelOpenError || e instanceof HostKeyMismatchError || e instanceof UnknownHostKeyError) return "failed";
  return "unknown";
}

