// One etcd client per purpose, from the config: TLS files read once, short deadlines (a watchdog must not wait
// on a dead member longer than a heartbeat), the client's retry across members kept (one member lost changes
// nothing), and a probe of each member for status.
import * as fs from "fs";
import { Etcd3, type IOptions } from "etcd3";
import type { EtcdConfig } from "./etcd-config";

/** Deadline of one unary call (a transaction, a read): a quorum that does not answer within it is not there. */
export const CALL_DEADLINE_MS = 2000;

export function etcdOptions(c: EtcdConfig, endpoints = c.endpoints, quick = false): IOptions {
  const credentials = c.tls
    ? {
        rootCertificate: fs.readFileSync(c.tls.caFile),
        privateKey: c.tls.keyFile ? fs.readFileSync(c.tls.keyFile) : undefined,
        certChain: c.tls.certFile ? fs.readFileSync(c.tls.certFile) : undefined,
      }
    : undefined;
  return {
    hosts: endpoints,
    credentials,
    dialTimeout: 1000,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + (quick ? 1000 : CALL_DEADLINE_MS) }),
  };
}

export function etcdClient(c: EtcdConfig): Etcd3 {
  return new Etcd3(etcdOptions(c));
}

export interface MemberHealth {
  endpoint: string;
  ok: boolean;
  /** This member's view of the raft leader (member id, hex) when it answered. */
  raftLeader?: string;
  version?: string;
  error?: string;
}

export interface EtcdHealth {
  members: MemberHealth[];
  /** A majority of the configured members answered. */
  quorum: boolean;
  checkedAt: number;
}

/** Asks every member for its status, each on its own connection, within one short deadline. */
export async function probeEtcd(c: EtcdConfig, now = Date.now): Promise<EtcdHealth> {
  const members = await Promise.all(
    c.endpoints.map(async (endpoint): Promise<MemberHealth> => {
      const client = new Etcd3(etcdOptions(c, [endpoint], true));
      try {
        // The client retries a failing call: the probe gives each member one short window in all.
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error("no answer within 1500 ms")), 1500)));
        const s = await Promise.race([client.maintenance.status(), late]).finally(() => clearTimeout(timer));
        return { endpoint, ok: true, raftLeader: BigInt(s.leader).toString(16), version: s.version };
      } catch (e) {
        return { endpoint, ok: false, error: (e as Error).message.split("\n")[0] };
      } finally {
        client.close();
      }
    }),
  );
  // A member answers status even when it has lost its raft leader: a quorum needs answering members that agree on one.
  const leaders = new Map<string, number>();
  for (const m of members) if (m.ok && m.raftLeader && m.raftLeader !== "0") leaders.set(m.raftLeader, (leaders.get(m.raftLeader) ?? 0) + 1);
  const best = Math.max(0, ...leaders.values());
  return { members, quorum: best > c.endpoints.length / 2, checkedAt: now() };
}
