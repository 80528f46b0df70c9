// `ovm-ha watchdog`, `ovm-ha status`, `ovm-ha drain`. Register with: for (const c of watchdogCommands()) program.addCommand(c);
import { Command, InvalidArgumentError } from "commander";
import { loadWatchdogConfig, statusFilePath } from "../watchdog/daemon/config";
import { readStatusFile } from "../watchdog/daemon/state-file";
import { createLogger, Watchdog } from "../watchdog/daemon/watchdog";
import { runReplica } from "../watchdog/replica/run-replica";
import { readReplicasStatus, renderReplicasStatus } from "../watchdog/replica/replica-status";
import { drainServer } from "../watchdog/drain";
import { storageFenceByOperator } from "../watchdog/operator-fence";
import { renderStatus } from "../watchdog/status";

function positiveSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number of seconds > 0, got '${v}'`);
  return n;
}

export function watchdogCommand(): Command {
  return new Command("watchdog")
    .description("run the HA watchdog: heartbeats, fencing, failover and drains, reading the pool's HA record live")
    .requiredOption("--config <file>", "watchdog config (JSON)")
    .action(async (o: { config: string }) => {
      const config = loadWatchdogConfig(o.config);
      if (config.etcd) return runReplica(config, createLogger(config)); // replicas: watchdog/replica
      const wd = new Watchdog({ config });
      let stopping: Promise<void> | undefined;
      const stop = (sig: string) => {
        if (stopping) return;
        wd.log.info({ event: "signal", signal: sig }, `${sig}: finishing the turn, saving, closing SSH`);
        stopping = wd.stop().then(() => process.exit(0));
      };
      process.on("SIGTERM", () => stop("SIGTERM"));
      process.on("SIGINT", () => stop("SIGINT"));
      await wd.start();
      await new Promise(() => undefined); // runs until a signal
    });
}

export function statusCommand(): Command {
  return new Command("status")
    .description("what the watchdog believes: servers, HA guests, last events")
    .requiredOption("--config <file>", "watchdog config (JSON)")
    .option("--json", "machine-readable output")
    .option("--events <n>", "last events shown", (v) => Number(v), 10)
    .action((o: { config: string; json?: boolean; events: number }) => {
      const config = loadWatchdogConfig(o.config);
      if (config.etcd) return replicasStatus(config, o); // etcd mode: leader, replicas, etcd health first
      const status = readStatusFile(statusFilePath(config));
      if (o.json) process.stdout.write(JSON.stringify(status, null, 2) + "\n");
      else process.stdout.write(renderStatus(status, Date.now(), o.events));
    });
}

/** etcd mode: what etcd says (leader, replicas, members), then this machine's watchdog status if it has one. */
async function replicasStatus(config: ReturnType<typeof loadWatchdogConfig>, o: { json?: boolean; events: number }): Promise<void> {
  const replicas = await readReplicasStatus(config.etcd!);
  let local: ReturnType<typeof readStatusFile> | undefined;
  try {
    local = readStatusFile(statusFilePath(config));
  } catch {
    local = undefined;
  }
  if (o.json) process.stdout.write(JSON.stringify({ replicas, watchdog: local ?? null }, null, 2) + "\n");
  else {
    process.stdout.write(renderReplicasStatus(replicas));
    if (local) process.stdout.write(`\nthis machine's replica (last time it led):\n${renderStatus(local, Date.now(), o.events)}`);
  }
  if (!replicas.etcd.quorum || !replicas.leader) process.exitCode = 2;
}

export function drainCommand(): Command {
  return new Command("drain")
    .description("migrate a server's HA guests away (through the watchdog) and wait until they are gone")
    .argument("<server>", "server name as in the pool record")
    .requiredOption("--config <file>", "watchdog config (JSON)")
    .option("--op <op>", "planned operation: shutdown, restart or remove", "shutdown")
    .option("--timeout <s>", "give up waiting after this many seconds", positiveSeconds, 300)
    .action(async (server: string, o: { config: string; op: string; timeout: number }) => {
      if (!["shutdown", "restart", "remove"].includes(o.op)) throw new Error(`--op must be shutdown, restart or remove, got '${o.op}'`);
      const config = loadWatchdogConfig(o.config);
      const r = await drainServer(config, {
        server,
        op: o.op as "shutdown",
        timeoutMs: o.timeout * 1000,
        onProgress: (p) => process.stdout.write(`${server}: ${p.state}: ${p.reason}\n`),
      });
      if (r.state !== "done") {
        process.stderr.write(`ovm-ha drain: ${server}: ${r.state}: ${r.reason}\n`);
        process.exitCode = r.state === "refused" ? 2 : 3;
      }
    });
}

export function fenceCommand(): Command {
  return new Command("fence")
    .description("fence a server by hand; --storage: a poison pill in its slot (its agent destroys its guests and stops feeding its watchdog device)")
    .argument("<server>", "server name as in the pool record")
    .requiredOption("--config <file>", "watchdog config (JSON)")
    .option("--storage", "write a poison pill (the only manual fence for now)")
    .option("--reason <text>", "why, recorded in the pill", "fenced by an operator")
    .action(async (server: string, o: { config: string; storage?: boolean; reason: string }) => {
      if (!o.storage) throw new Error("ovm-ha fence needs --storage (a poison pill); a power fence by hand is your fence command itself");
      const r = await storageFenceByOperator(loadWatchdogConfig(o.config), server, o.reason);
      for (const w of r.warnings) process.stderr.write(`ovm-ha fence: !! ${w}\n`);
      process.stdout.write(`${server}: poison pill written through ${r.via}, aimed at boot ${r.pill.bootId ?? "(any)"}; ${server} is off within ${r.messageWaitMs} ms (the message wait)\n`);
      // One-shot: the pill is written and answered; do not wait for the SSH layer's keepalive timers to wind down.
      process.exit(r.warnings.length ? 2 : 0);
    });
}

/** The commands, for cli/main.ts: `for (const c of watchdogCommands()) program.addCommand(c);` */
export function watchdogCommands(): Command[] {
  return [watchdogCommand(), statusCommand(), drainCommand(), fenceCommand()];
}

// Runnable on its own (tests, before main.ts registers the commands): node dist/cli/watchdog-command.js ...
if (require.main === module) {
  const program = new Command().name("ovm-ha").showHelpAfterError();
  for (const c of watchdogCommands()) program.addCommand(c);
  program.parseAsync(process.argv).catch((e: Error) => {
    process.stderr.write(`ovm-ha: ${e.message}\n`);
    process.exit(1);
  });
}
