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

export interface ReplicasStatus {
  etcd: EtcdHealth;
  leader?: LeaderRecord & { token: string };
  replicas: ReplicaEntry[];
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
      if (replicas.length < 2) problems.push(`only ${replicas.length} replica(s) registered: the watchdog's machine is a single point of failure`);
    }
  } catch (e) {
    problems.push(`cannot read the replicas from etcd: ${(e as Error).message.split("\n")[0]}`);
  } finally {
    client.close();
  }
  return { etcd, leader, replicas, problems };
}

export function renderReplicasStatus(s: ReplicasStatus): string {
  const lines: string[] = [];
  const up = s.etcd.members.filter((m) => m.ok).length;
  lines.push(`etcd: ${s.etcd.quorum ? "quorum" : "!! NO QUORUM"} (${up}/${s.etcd.members.length} members answer)`);
  for (const m of s.etcd.members) lines.push(`  ${m.ok ? "ok  " : "!!  "}${m.endpoint}${m.ok ? ` v${m.version}` : `: ${m.error}`}`);
  lines.push(s.leader ? `leader: ${s.leader.name} (pid ${s.leader.pid} on ${s.leader.host}, token ${s.leader.token}, since ${new Date(s.leader.since).toISOString()})` : "leader: !! none");
  for (const r of s.replicas) lines.push(`  ${r.leader ? "leader " : "standby"} ${r.name} pid ${r.pid} on ${r.host}, last seen ${r.lastSeenAgoMs === undefined ? "unknown" : `${(r.lastSeenAgoMs / 1000).toFixed(0)} s ago`}`);
  for (const p of s.problems) lines.push(`!! ${p}`);
  return lines.join("\n") + "\n";
}
