// What `ovm-ha status` shows in etcd mode: the leader, every replica and when it was last seen (from its lease:
// the time since its last keep-alive), and the health of each etcd member. Read from etcd, never guessed: when
// etcd does not answer, the status says so and shows no leader.
import { etcdOptions, probeEtcd, type EtcdHealth } from "./etcd-client";
import { etcdKeys, type EtcdConfig } from "./etcd-config";
import type { LeaderRecord } from "./replica";
import { Etcd3 } from "etcd3";

export interface ReplicaEntry {
  name: string;
  host: string;
  pid: number;
  leader: boolean;
  /** ms since its last keep-alive reached etcd (granted TTL minus remaining TTL, whole seconds). */
  lastSeenAgoMs?: number;
}

/**
 * The leader's servers and guests as it last wrote them to etcd: its decisions (states), not live observations.
 * It writes when a decision changes, so `writtenAt` may be old while the leader is well: the view is as of then.
 */
export interface LeaderView {
  writtenAt?: number;
  by?: string;
  token?: string;
  servers: { name: string; state: string; since: number }[];
  guests: { name: string; state: string; where?: string }[];
}

export interface ReplicasStatus {
  etcd: EtcdHealth;
  leader?: LeaderRecord & { token: string };
  replicas: ReplicaEntry[];
  /** From PREFIX/state and PREFIX/state-meta; undefined when etcd cannot be read or nothing was written yet. */
  leaderView?: LeaderView;
  /** Loud problems: no quorum, no leader, unreadable keys. */
  problems: string[];
}

export async function readReplicasStatus(c: EtcdConfig): Promise<ReplicasStatus> {
  const etcd = await probeEtcd(c);
  const problems: string[] = [];
  const down = etcd.members.filter((m) => !m.ok);
  if (!etcd.quorum) problems.push(`etcd has no quorum (${etcd.members.length - down.length} of ${etcd.members.length} members answer): no replica can lead or act; guests stay where they are`);
  else if (down.length) problems.push(`etcd member(s) not answering: ${down.map((m) => m.endpoint).join(", ")} (quorum holds)`);
  const keys = etcdKeys(c.prefix);
  const client = new Etcd3(etcdOptions(c));
  const replicas: ReplicaEntry[] = [];
  let leader: ReplicasStatus["leader"];
  let leaderView: LeaderView | undefined;
  try {
    if (etcd.quorum) {
      const l = await client.get(keys.leader).exec();
      const kv = l.kvs[0];
      if (kv) leader = { ...(JSON.parse(kv.value.toString()) as LeaderRecord), token: String(kv.create_revision) };
      else problems.push("no replica leads: HA is not acting (a standby takes over within the lease TTL)");
      const rs = await client.getAll().prefix(keys.replicas).exec();
      for (const kv of rs.kvs) {
        const r = JSON.parse(kv.value.toString()) as { name: string; host: string; pid: number };
        let lastSeenAgoMs: number | undefined;
        try {
          const t = await client.leaseClient.leaseTimeToLive({ ID: kv.lease });
          if (Number(t.TTL) >= 0) lastSeenAgoMs = (Number(t.grantedTTL) - Number(t.TTL)) * 1000;
        } catch {
          /* unknown */
        }
        replicas.push({ name: r.name, host: r.host, pid: r.pid, leader: leader?.name === r.name, lastSeenAgoMs });
      }
      leaderView = await readLeaderView(client, keys);
      if (replicas.length < 2) problems.push(`only ${replicas.length} replica(s) registered: the watchdog's machine is a single point of failure`);
    }
  } catch (e) {
    problems.push(`cannot read the replicas from etcd: ${(e as Error).message.split("\n")[0]}`);
  } finally {
    client.close();
  }
  return { etcd, leader, replicas, problems, leaderView };
}

/** The durable state's servers and guests, with when and by whom it was written. */
export async function readLeaderView(client: Etcd3, keys: ReturnType<typeof etcdKeys>): Promise<LeaderView | undefined> {
  const [state, meta] = await Promise.all([client.get(keys.state).string(), client.get(keys.stateMeta).string()]);
  if (!state) return undefined;
  const s = JSON.parse(state) as { servers?: Record<string, { state: string; since: number }>; guests?: Record<string, { status: { state: string; server?: string; from?: string; to?: string; servers?: string[] } }> };
  const m = meta ? (JSON.parse(meta) as { writtenAt?: number; by?: string; token?: string }) : {};
  return {
    writtenAt: m.writtenAt,
    by: m.by,
    token: m.token,
    servers: Object.entries(s.servers ?? {}).map(([name, st]) => ({ name, state: st.state, since: st.since })),
    guests: Object.entries(s.guests ?? {}).map(([name, g]) => {
      const st = g.status;
      const where = st.server ?? (st.from && st.to ? `${st.from} -> ${st.to}` : st.servers?.join(", "));
      return { name, state: st.state, where };
    }),
  };
}

/** Lines for the leader's view, saying how old it is and what it is not (a live observation). */
export function renderLeaderView(v: LeaderView | undefined, leader: string | undefined, now = Date.now()): string[] {
  if (!v) return ["leader's view: none in etcd (no leader has written a state yet, or etcd cannot be read)"];
  const age = v.writtenAt === undefined ? "at an unknown time" : `at ${new Date(v.writtenAt).toISOString()}, ${Math.max(0, Math.round((now - v.writtenAt) / 1000))} s ago`;
  const who = v.by ?? "a leader";
  const lines = [
    leader
      ? `${leader === v.by ? "the leader's" : `the last written (by ${who})`} view of the pool, as written to etcd ${age} (written when a decision changes, not each heartbeat: what it decided then, not a live observation)`
      : `!! no leader: the last leader's (${who}) view, written ${age}; nobody is watching the pool now`,
  ];
  for (const sv of v.servers) lines.push(`  server ${sv.name}: ${sv.state} (since ${new Date(sv.since).toISOString()})`);
  for (const g of v.guests) lines.push(`  guest ${g.name}: ${g.state}${g.where ? ` (${g.where})` : ""}`);
  return lines;
}

/** What a standby says about itself: whether it reaches etcd, the leader it last saw, and whether it can take over. */
export interface StandbySelf {
  name: string;
  role: "standby" | "leader";
  /** Last answer from etcd to this replica; error: its last failure since. */
  etcdLastOkAt?: number;
  etcdError?: string;
  /** Problems as this replica sees them (loud). */
  problems: string[];
}

export function standbySelf(r: { name: string; leading: boolean; lastEtcdOkAt?: number; etcdError?: string; config: { leaseTtlSeconds: number } }, now = Date.now()): StandbySelf {
  const problems: string[] = [];
  if (r.etcdError !== undefined) {
    const since = r.lastEtcdOkAt === undefined ? "ever" : `for ${Math.round((now - r.lastEtcdOkAt) / 1000)} s`;
    problems.push(`${r.name} is cut from etcd (no answer ${since}: ${r.etcdError}): it cannot become the leader; it stands by again when etcd answers`);
  }
  return { name: r.name, role: r.leading ? "leader" : "standby", etcdLastOkAt: r.lastEtcdOkAt, etcdError: r.etcdError, problems };
}

export function renderReplicasStatus(s: ReplicasStatus): string {
  const lines: string[] = [];
  const up = s.etcd.members.filter((m) => m.ok).length;
  lines.push(`etcd: ${s.etcd.quorum ? "quorum" : "!! NO QUORUM"} (${up}/${s.etcd.members.length} members answer)`);
  for (const m of s.etcd.members) lines.push(`  ${m.ok ? "ok  " : "!!  "}${m.endpoint}${m.ok ? ` v${m.version}` : `: ${m.error}`}`);
  lines.push(s.leader ? `leader: ${s.leader.name} (pid ${s.leader.pid} on ${s.leader.host}, token ${s.leader.token}, since ${new Date(s.leader.since).toISOString()})` : "leader: !! none");
  for (const r of s.replicas) lines.push(`  ${r.leader ? "leader " : "standby"} ${r.name} pid ${r.pid} on ${r.host}, last seen ${r.lastSeenAgoMs === undefined ? "unknown" : `${(r.lastSeenAgoMs / 1000).toFixed(0)} s ago`}`);
  for (const p of s.problems) lines.push(`!! ${p}`);
  if (s.etcd.quorum) lines.push(...renderLeaderView(s.leaderView, s.leader?.name));
  return lines.join("\n") + "\n";
}
