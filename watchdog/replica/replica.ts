// One watchdog replica's membership in the pool's etcd: its lease (kept alive by the client), its entry under
// replicas/, the campaign for the leadership key, and, while it leads, the only way its durable state reaches
// etcd: a transaction that succeeds only while its leadership key still exists with the create revision it won
// (its fencing token). A replica that loses its lease, or whose transaction finds the key gone or someone else's,
// is deposed: `deposed` resolves, and the daemon stops acting (see README "etcd mode").
import * as os from "os";
import { Counter, Gauge } from "prom-client";
import type { Etcd3, Lease } from "etcd3";
import type { EtcdConfig } from "./etcd-config";
import { etcdKeys, replicaName } from "./etcd-config";
import { etcdClient, probeEtcd, type EtcdHealth } from "./etcd-client";
import { durableView } from "./durable-view";

export class NotLeaderError extends Error {}

export interface ReplicaLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

export interface LeaderRecord {
  name: string;
  host: string;
  pid: number;
  since: number;
}

export class ReplicaMetrics {
  readonly leaderChanges = new Counter({ name: "ovmha_leader_changes_total", help: "Leaderships won by any replica, as seen by this one", registers: [] });
  readonly leaderless: Counter;
  readonly isLeader = new Gauge({ name: "ovmha_is_leader", help: "1 while this replica leads", registers: [] });
  readonly stateWrites = new Counter({ name: "ovmha_etcd_state_writes_total", help: "Durable-state transactions committed to etcd", registers: [] });
  readonly etcdMemberUp: Gauge;
  readonly etcdQuorum: Gauge;
  /** `ongoing`: seconds of the leaderless period still running (added at each scrape); `probe`: etcd's health. */
  constructor(ongoing: () => number = () => 0, probe?: () => Promise<EtcdHealth>) {
    this.leaderless = new Counter({
      name: "ovmha_leaderless_seconds_total",
      help: "Time this replica saw no leader in etcd (or could not reach etcd to see one)",
      registers: [],
      collect() {
        const s = ongoing();
        if (s > 0) this.inc(s);
      },
    });
    // One probe per scrape, shared by both gauges (the registry collects them concurrently).
    let last: { at: number; h: Promise<EtcdHealth> } | undefined;
    const health = (): Promise<EtcdHealth> | undefined => {
      if (!probe) return undefined;
      if (!last || Date.now() - last.at > 1000) last = { at: Date.now(), h: probe() };
      return last.h;
    };
    this.etcdMemberUp = new Gauge({
      name: "ovmha_etcd_member_up",
      help: "1 when the etcd member answers this replica's status query (probed at each scrape)",
      labelNames: ["endpoint"],
      registers: [],
      async collect() {
        const h = await health();
        if (h) for (const m of h.members) this.set({ endpoint: m.endpoint }, m.ok ? 1 : 0);
      },
    });
    this.etcdQuorum = new Gauge({
      name: "ovmha_etcd_quorum",
      help: "1 when a majority of the etcd members answer this replica and agree on a raft leader (probed at each scrape)",
      registers: [],
      async collect() {
        const h = await health();
        if (h) this.set(h.quorum ? 1 : 0);
      },
    });
  }
  all() {
    return [this.leaderChanges, this.leaderless, this.isLeader, this.stateWrites, this.etcdMemberUp, this.etcdQuorum];
  }
}

export class Replica {
  readonly name: string;
  readonly keys: ReturnType<typeof etcdKeys>;
  readonly client: Etcd3;
  readonly metrics: ReplicaMetrics;
  /** Last time etcd answered this replica (a campaign, a read, a transaction), and its last error since. */
  lastEtcdOkAt?: number;
  etcdError?: string;
  /** The leader as last read from etcd (undefined: none, or not known). */
  leaderSeen?: LeaderRecord & { token: string };
  #lease?: Lease;
  #token?: string;
  #lastWritten?: string;
  #commits: Promise<void> = Promise.resolve();
  #deposed?: (why: string) => void;
  /** Resolves (with the reason) when this replica stops being the leader after winning. */
  deposed: Promise<string> = new Promise(() => undefined);
  #closed = false;
  #leaderlessSince?: number;
  #leaseWatch?: NodeJS.Timeout;
  #renewedFrom = 0;
  #lastLeaderRev?: string;

  constructor(readonly config: EtcdConfig, readonly log: ReplicaLog, readonly pollMs: number) {
    this.name = replicaName(config);
    this.keys = etcdKeys(config.prefix);
    this.client = etcdClient(config);
    this.metrics = new ReplicaMetrics(() => this.#takeLeaderless(), () => probeEtcd(config));
  }

  /** Seconds of the current leaderless period not yet counted (the period goes on from now). */
  #takeLeaderless(): number {
    if (this.#leaderlessSince === undefined) return 0;
    const now = Date.now();
    const s = (now - this.#leaderlessSince) / 1000;
    this.#leaderlessSince = now;
    return s;
  }

  #etcdOk(): void {
    this.lastEtcdOkAt = Date.now();
    this.etcdError = undefined;
  }

  get token(): string | undefined {
    return this.#token;
  }
  /** Our lease cannot have expired yet (a renewal etcd answered was sent less than a TTL ago, minus a margin). */
  leaseFresh(): boolean {
    return Date.now() - this.#renewedFrom <= this.config.leaseTtlSeconds * 1000 - 250;
  }
  get leading(): boolean {
    return this.#token !== undefined;
  }

  /** A fresh lease and replica entry (after a deposition the old lease is gone or revoked). */
  async #join(): Promise<Lease> {
    const lease = this.client.lease(this.config.leaseTtlSeconds, { autoKeepAlive: true });
    lease.on("lost", (e) => {
      if (this.#lease === lease) this.#lease = undefined; // a standby too: campaign with a fresh lease next time
      this.#depose(`lease lost: ${e.message}`);
    });
    // The client declares a lease lost only after 2 x TTL without an answer; etcd may expire it after 1 x TTL,
    // counted from when the last renewal that etcd answered was sent. So: deposed once TTL has passed since then.
    let firedAt = Date.now();
    this.#renewedFrom = Date.now();
    lease.on("keepaliveFired", () => (firedAt = Date.now()));
    lease.on("keepaliveSucceeded", () => (this.#renewedFrom = firedAt));
    clearInterval(this.#leaseWatch);
    this.#leaseWatch = setInterval(() => {
      if (this.#token !== undefined && !this.leaseFresh()) {
        this.#depose(`no lease renewal answered for ${Date.now() - this.#renewedFrom} ms (TTL ${this.config.leaseTtlSeconds} s): the lease may have expired`);
      }
    }, 200);
    this.#leaseWatch.unref();
    await lease.grant();
    this.#renewedFrom = Date.now();
    const me = { name: this.name, host: os.hostname(), pid: process.pid, joinedAt: Date.now() };
    await lease.put(this.keys.replica(this.name)).value(JSON.stringify(me));
    return lease;
  }

  /**
   * Campaigns until this replica leads: a transaction that creates the leadership key (bound to its lease) only if
   * it does not exist. Between attempts it watches the key (a deletion wakes it at once) and reads it every poll.
   */
  async awaitLeadership(): Promise<string> {
    for (;;) {
      if (this.#closed) throw new Error("replica closed");
      try {
        if (!this.#lease) this.#lease = await this.#join();
        const lease = this.#lease;
        const rec: LeaderRecord = { name: this.name, host: os.hostname(), pid: process.pid, since: Date.now() };
        const r = await this.client.if(this.keys.leader, "Create", "==", 0).then(lease.put(this.keys.leader).value(JSON.stringify(rec))).commit();
        this.#etcdOk();
        if (r.succeeded) {
          this.#token = String(r.header.revision);
          this.leaderSeen = { ...rec, token: this.#token };
          this.#lastWritten = undefined;
          this.deposed = new Promise((res) => (this.#deposed = res));
          this.#noteLeader(this.#token);
          this.metrics.isLeader.set(1);
          this.log.warn({ event: "leader-elected", replica: this.name, token: this.#token }, `${this.name} leads (fencing token ${this.#token})`);
          return this.#token;
        }
        const cur = await this.client.get(this.keys.leader).exec();
        const kv = cur.kvs[0];
        if (kv) {
          this.#noteLeader(String(kv.create_revision));
          try {
            this.leaderSeen = { ...(JSON.parse(kv.value.toString()) as LeaderRecord), token: String(kv.create_revision) };
          } catch {
            this.leaderSeen = undefined;
          }
        } else {
          this.leaderSeen = undefined;
          this.#noteLeaderless();
        }
      } catch (e) {
        this.etcdError = (e as Error).message.split("\n")[0];
        this.leaderSeen = undefined; // not known: etcd does not answer
        this.#noteLeaderless();
        this.log.warn({ event: "campaign-failed", replica: this.name, err: (e as Error).message }, `cannot campaign (etcd): ${(e as Error).message}`);
        // The lease may be gone with the error (etcd unreachable past its TTL): join again with a fresh one.
        const old = this.#lease;
        this.#lease = undefined;
        old?.revoke().catch(() => old.release());
      }
      await this.#waitForVacancy();
    }
  }

  #noteLeader(rev: string): void {
    if (this.#leaderlessSince !== undefined) this.metrics.leaderless.inc((Date.now() - this.#leaderlessSince) / 1000);
    this.#leaderlessSince = undefined;
    if (rev !== this.#lastLeaderRev) {
      if (this.#lastLeaderRev !== undefined || rev === this.#token) this.metrics.leaderChanges.inc();
      this.#lastLeaderRev = rev;
    }
  }
  #noteLeaderless(): void {
    const now = Date.now();
    if (this.#leaderlessSince !== undefined) this.metrics.leaderless.inc((now - this.#leaderlessSince) / 1000);
    this.#leaderlessSince = now;
  }

  /** Until the leadership key is deleted (watch) or one poll interval passes. */
  async #waitForVacancy(): Promise<void> {
    let watcher: Awaited<ReturnType<ReturnType<Etcd3["watch"]>["create"]>> | undefined;
    let over = false;
    await new Promise<void>((res) => {
      const timer = setTimeout(res, this.pollMs);
      this.client
        .watch()
        .key(this.keys.leader)
        .create()
        .then((w) => {
          // Created after the wait was over (etcd came back late): not needed any more.
          if (over) return void w.cancel().catch(() => undefined);
          watcher = w;
          w.on("delete", () => {
            clearTimeout(timer);
            res();
          });
        })
        .catch(() => undefined);
    });
    over = true;
    // Not awaited: cut from etcd, a cancel is never answered (and the campaign must go on, failing, saying so).
    watcher?.cancel().catch(() => undefined);
  }

  /** The durable state the last leader committed, or undefined. */
  async loadState(): Promise<string | undefined> {
    const r = await this.client.get(this.keys.state).string();
    return r ?? undefined;
  }

  /**
   * Commits the state if what a successor needs changed (or `confirm`: actions that touch the world follow, so
   * leadership is proved even without a change). Resolves when durable; rejects NotLeaderError (and deposes this
   * replica) when the transaction finds the leadership key gone or not ours, or etcd cannot be reached.
   */
  commit(stateJson: string, confirm: boolean): Promise<void> {
    const view = durableView(stateJson);
    const p = this.#commits.then(async () => {
      const token = this.#token;
      if (token === undefined) throw new NotLeaderError("not the leader");
      if (view === this.#lastWritten && !confirm) return;
      let ok: boolean;
      try {
        // The meta key says when (and by whom) the state was written: status on a standby shows its age.
        const meta = JSON.stringify({ writtenAt: Date.now(), by: this.name, token });
        const ops = view === this.#lastWritten ? [] : [this.client.put(this.keys.state).value(stateJson), this.client.put(this.keys.stateMeta).value(meta)];
        const r = await this.client.if(this.keys.leader, "Create", "==", token).then(...ops).commit();
        ok = r.succeeded;
        this.#etcdOk();
      } catch (e) {
        // The outcome of a write that got no answer is unknown: stop acting (a successor reads what is there).
        this.#depose(`etcd did not confirm the state write: ${(e as Error).message}`);
        throw new NotLeaderError(`etcd did not confirm the state write: ${(e as Error).message}`);
      }
      if (!ok) {
        this.#depose("the leadership key is gone or belongs to another replica");
        throw new NotLeaderError("the leadership key is gone or belongs to another replica");
      }
      if (view !== this.#lastWritten) this.metrics.stateWrites.inc();
      this.#lastWritten = view;
    });
    this.#commits = p.catch(() => undefined);
    return p;
  }

  /** Gives the leadership up (the lease is revoked: the key goes at once). */
  stepDown(why: string): void {
    this.#depose(why);
  }

  #depose(why: string): void {
    if (this.#token === undefined) return;
    this.log.warn({ event: "leader-deposed", replica: this.name, token: this.#token, loud: true }, `${this.name} no longer leads: ${why}`);
    this.#token = undefined;
    this.metrics.isLeader.set(0);
    // A fresh lease for the next campaign; the old one (if still alive) is revoked so the key goes at once.
    const old = this.#lease;
    this.#lease = undefined;
    old?.revoke().catch(() => old.release());
    this.#deposed?.(why);
  }

  /** Steps down (graceful stop): revoking the lease deletes the leadership key, so a standby takes over at once. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#leaseWatch);
    if (this.#token !== undefined) this.#depose("stopping");
    else await this.#lease?.revoke().catch(() => undefined);
    this.client.close();
  }
}
