// `ovm-ha watchdog` in etcd mode: stand by until this replica wins the leadership, then run the watchdog (state
// from etcd, commands guarded by the fencing token) until it is deposed; then stand by again. A signal steps down
// (the lease is revoked, so a standby takes over at once). The metrics endpoint (config `metrics`) lives as long as
// the process: a standby serves its leadership and etcd metrics and, on /status, what it knows (etcd reachable or
// not, the leader, the leader's view from etcd); the leader adds the watchdog's own.
import type * as http from "http";
import type pino from "pino";
import { Registry, collectDefaultMetrics } from "prom-client";
import type { WatchdogConfig } from "../daemon/config";
import { readStatusToken } from "../daemon/secret-files";
import { serveEndpoint } from "../daemon/status-endpoint";
import { Watchdog } from "../daemon/watchdog";
import { Replica } from "./replica";
import { readReplicasStatus, standbySelf } from "./replica-status";

export async function runReplica(config: WatchdogConfig, log: pino.Logger): Promise<void> {
  if (!config.etcd) throw new Error("runReplica needs an etcd section in the config");
  const replica = new Replica(config.etcd, log, config.timing.heartbeatIntervalMs ?? 1000);
  let wd: Watchdog | undefined;
  let stopping = false;
  let server: http.Server | undefined;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ event: "signal", signal: sig }, `${sig}: stepping down`);
    await wd?.stop().catch(() => undefined);
    await replica.close();
    server?.close();
    await new Promise<void>((r) => log.flush(() => r()));
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  if (config.metrics) server = await serveReplicaEndpoint(config, replica, () => wd, log);
  log.info({ event: "replica-standby", replica: replica.name, endpoints: config.etcd.endpoints }, `${replica.name}: standing by for the leadership`);
  while (!stopping) {
    await replica.awaitLeadership();
    wd = new Watchdog({ config, logger: log, replica, processMetrics: false });
    try {
      await Promise.race([wd.start(), replica.deposed.then((why) => Promise.reject(new Error(why)))]);
      const why = await replica.deposed;
      log.warn({ event: "replica-standby", replica: replica.name, loud: true }, `${replica.name}: deposed (${why}); standing by`);
    } catch (e) {
      log.warn({ event: "leader-start-failed", replica: replica.name, loud: true, err: (e as Error).message }, `${replica.name}: could not start leading: ${(e as Error).message}`);
    }
    if (replica.leading) replica.stepDown("the watchdog stopped");
    const done = wd;
    wd = undefined; // the endpoint answers as a standby from now on
    await done.stop().catch(() => undefined);
  }
}

/** /metrics: this replica's (and, while it leads, the watchdog's); /status: the watchdog's while leading, else the standby's view. */
async function serveReplicaEndpoint(config: WatchdogConfig, replica: Replica, current: () => Watchdog | undefined, log: pino.Logger): Promise<http.Server> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "ovmha_" });
  for (const m of replica.metrics.all()) registry.registerMetric(m);
  const m = config.metrics!;
  const r = await serveEndpoint(
    { port: m.port, host: m.host, statusToken: readStatusToken(config) },
    {
      metrics: async () => {
        const wd = current();
        const text = (await registry.metrics()) + (wd ? await wd.metrics.registry.metrics() : "");
        return { contentType: registry.contentType, text };
      },
      status: async () => {
        const wd = current();
        const self = standbySelf({ name: replica.name, leading: replica.leading, lastEtcdOkAt: replica.lastEtcdOkAt, etcdError: replica.etcdError, config: replica.config });
        if (wd?.state) return { ...wd.status(), replica: self };
        // A standby: what etcd says, from this replica's side (cut from etcd: no quorum, no leader, and it says why).
        const replicas = await readReplicasStatus(replica.config);
        return { replica: self, replicas, leaderView: replicas.leaderView ?? null };
      },
    },
  );
  log.info({ event: "metrics-listening", port: r.port }, `metrics and status on http://${m.host}:${r.port}/`);
  return r.server;
}
