// `ovm-ha watchdog` in etcd mode: stand by until this replica wins the leadership, then run the watchdog (state
// from etcd, commands guarded by the fencing token) until it is deposed; then stand by again. A signal steps down
// (the lease is revoked, so a standby takes over at once).
import type pino from "pino";
import type { WatchdogConfig } from "../daemon/config";
import { Watchdog } from "../daemon/watchdog";
import { Replica } from "./replica";

export async function runReplica(config: WatchdogConfig, log: pino.Logger): Promise<void> {
  if (!config.etcd) throw new Error("runReplica needs an etcd section in the config");
  const replica = new Replica(config.etcd, log, config.timing.heartbeatIntervalMs ?? 1000);
  let wd: Watchdog | undefined;
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ event: "signal", signal: sig }, `${sig}: stepping down`);
    await wd?.stop().catch(() => undefined);
    await replica.close();
    await new Promise<void>((r) => log.flush(() => r()));
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  log.info({ event: "replica-standby", replica: replica.name, endpoints: config.etcd.endpoints }, `${replica.name}: standing by for the leadership`);
  while (!stopping) {
    await replica.awaitLeadership();
    wd = new Watchdog({ config, logger: log, replica });
    try {
      await Promise.race([wd.start(), replica.deposed.then((why) => Promise.reject(new Error(why)))]);
      const why = await replica.deposed;
      log.warn({ event: "replica-standby", replica: replica.name, loud: true }, `${replica.name}: deposed (${why}); standing by`);
    } catch (e) {
      log.warn({ event: "leader-start-failed", replica: replica.name, loud: true, err: (e as Error).message }, `${replica.name}: could not start leading: ${(e as Error).message}`);
    }
    if (replica.leading) replica.stepDown("the watchdog stopped");
    await wd.stop().catch(() => undefined);
    wd = undefined;
  }
}
