// The `etcd` section of a watchdog config: with it, this watchdog is one of several replicas that elect a leader
// through etcd and keep the durable state there (see README "etcd mode"). Without it, nothing changes.
import * as os from "os";
import * as path from "path";
import { z } from "zod";

export const EtcdConfigSchema = z
  .object({
    endpoints: z
      .array(z.string({ error: "etcd.endpoints must be URLs" }).regex(/^https?:\/\/[^\s/]+(:\d+)?\/?$/, { error: "etcd.endpoints must be URLs like https://10.0.0.5:2379" }), {
        error: "etcd.endpoints must be a list of URLs",
      })
      .min(1, { error: "etcd.endpoints must list at least one member" }),
    // Client TLS: the CA that signed the members' certificates; a client certificate and key when etcd asks for one.
    tls: z
      .object({
        caFile: z.string({ error: "etcd.tls.caFile must be a path" }).min(1),
        certFile: z.string({ error: "etcd.tls.certFile must be a path" }).min(1).optional(),
        keyFile: z.string({ error: "etcd.tls.keyFile must be a path" }).min(1).optional(),
      })
      .strict()
      .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), { error: "etcd.tls: give certFile and keyFile together (or neither)" })
      .optional(),
    // Keys live under this prefix: one pool, one prefix.
    prefix: z.string({ error: "etcd.prefix must be a string" }).regex(/^\/[A-Za-z0-9_.\/-]*[^\/]$/, { error: "etcd.prefix must look like /ovm-ha/pool1" }).default("/ovm-ha/default"),
    // This replica's name in status (unique per pool); default: host name and pid.
    name: z.string({ error: "etcd.name must be a string" }).regex(/^[A-Za-z0-9_.-]+$/, { error: "etcd.name: letters, digits, _ . - only" }).optional(),
    // The leader's lease: a dead leader is replaced this long after its last keep-alive (plus one heartbeat).
    leaseTtlSeconds: z.number({ error: "etcd.leaseTtlSeconds must be a number" }).int({ error: "etcd.leaseTtlSeconds must be whole seconds" }).min(2, { error: "etcd.leaseTtlSeconds must be at least 2" }).max(60, { error: "etcd.leaseTtlSeconds must be at most 60" }).default(5),
  })
  .strict();

export type EtcdConfig = z.infer<typeof EtcdConfigSchema>;

/** Relative TLS paths are relative to the config file. */
export function resolveEtcdPaths(c: EtcdConfig, baseDir: string): void {
  if (!c.tls) return;
  c.tls.caFile = path.resolve(baseDir, c.tls.caFile);
  if (c.tls.certFile) c.tls.certFile = path.resolve(baseDir, c.tls.certFile);
  if (c.tls.keyFile) c.tls.keyFile = path.resolve(baseDir, c.tls.keyFile);
}

export function replicaName(c: EtcdConfig): string {
  return c.name ?? `${os.hostname()}-${process.pid}`;
}

/** The keys of one pool in etcd. */
export function etcdKeys(prefix: string): { leader: string; state: string; stateMeta: string; replicas: string; replica: (name: string) => string } {
  return {
    leader: `${prefix}/leader`,
    state: `${prefix}/state`,
    // {writtenAt, by, token}: written in the same transaction as the state.
    stateMeta: `${prefix}/state-meta`,
    replicas: `${prefix}/replicas/`,
    replica: (name: string) => `${prefix}/replicas/${name}`,
  };
}
