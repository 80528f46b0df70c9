// Watchdog replicas as separate processes (`node dist/cli/watchdog-command.js watchdog --config FILE`), so that
// SIGKILL and SIGSTOP are real; each with its own config (etcd name, state/status/log files). Their pino logs are
// read back as JSON lines to see what each one did.
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { WatchdogConfig } from "../../watchdog/daemon/config";
import { PROJECT_ROOT } from "../watchdog-e2e/lab-pool";
import { Etcd3 } from "etcd3";
import { etcdKeys } from "../../watchdog/replica/etcd-config";

export interface ReplicaProc {
  name: string;
  proc: ChildProcess;
  logFile: string;
}

export interface LogEntry {
  event?: string;
  server?: string;
  guest?: string;
  time?: string;
  msg?: string;
  command?: string;
  [k: string]: unknown;
}

export class ReplicaProcs {
  readonly procs: ReplicaProc[] = [];
  readonly client: Etcd3;
  constructor(readonly base: WatchdogConfig, readonly dir: string, readonly prefix: string) {
    this.client = new Etcd3({ hosts: base.etcd!.endpoints });
  }

  /** `env`: extra environment (fault injection); `metricsPort`: serve /metrics and /status on 127.0.0.1. */
  start(name: string, endpoints?: string[], opts: { env?: Record<string, string>; metricsPort?: number } = {}): ReplicaProc {
    const logFile = path.join(this.dir, `${name}.log`);
    const config = {
      ...this.base,
      stateFile: path.join(this.dir, name, "state.json"),
      metrics: opts.metricsPort !== undefined ? { port: opts.metricsPort, host: "127.0.0.1" } : undefined,
      log: { level: "info", file: logFile },
      etcd: { ...this.base.etcd!, name, prefix: this.prefix, ...(endpoints ? { endpoints } : {}) },
    };
    const file = path.join(this.dir, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(config));
    const proc = spawn(process.execPath, [path.join(PROJECT_ROOT, "dist", "cli", "watchdog-command.js"), "watchdog", "--config", file], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...opts.env } });
    proc.stderr!.on("data", (d) => fs.appendFileSync(path.join(this.dir, `${name}.stderr`), d));
    const r = { name, proc, logFile };
    this.procs.push(r);
    return r;
  }

  get(name: string): ReplicaProc {
    const r = [...this.procs].reverse().find((p) => p.name === name);
    if (!r) throw new Error(`no replica ${name}`);
    return r;
  }

  log(name: string): LogEntry[] {
    const f = this.get(name).logFile;
    if (!fs.existsSync(f)) return [];
    return fs
      .readFileSync(f, "utf8")
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => {
        try {
          return JSON.parse(l) as LogEntry;
        } catch {
          return {};
        }
      });
  }

  events(name: string, event: string, sinceMs = 0): LogEntry[] {
    return this.log(name).filter((l) => l.event === event && (!l.time || Date.parse(l.time) >= sinceMs));
  }

  /** The leader's name and token from etcd (undefined while none). */
  async leader(): Promise<{ name: string; token: string } | undefined> {
    const r = await this.client.get(etcdKeys(this.prefix).leader).exec();
    const kv = r.kvs[0];
    if (!kv) return undefined;
    return { name: (JSON.parse(kv.value.toString()) as { name: string }).name, token: String(kv.create_revision) };
  }

  /** SIGTERM: the replica steps down (its lease revoked) and exits. */
  async stop(name: string): Promise<void> {
    const r = this.get(name);
    if (r.proc.exitCode !== null || r.proc.signalCode !== null) return;
    r.proc.kill("SIGTERM");
    await new Promise((res) => r.proc.once("exit", res));
  }

  async stopAll(): Promise<void> {
    for (const r of this.procs) {
      if (r.proc.exitCode !== null || r.proc.signalCode !== null) continue;
      r.proc.kill("SIGCONT");
      r.proc.kill("SIGKILL");
      await new Promise((res) => r.proc.once("exit", res));
    }
    this.client.close();
  }
}
