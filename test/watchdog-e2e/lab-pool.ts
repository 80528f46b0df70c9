// A pool on a running lab for the watchdog's end-to-end tests and benchmarks: the HA record and guests on the
// lab's NFS export (the same absolute path inside every server, so it plays the cluster root), guests started
// with xm, and a watchdog config that fences with `ovm-ha lab power off`.
import * as fs from "fs";
import * as path from "path";
import { layout } from "../../lab/layout";
import type { TestLab } from "../support/lab";
import { GuestRecordSchema, PoolRecordSchema, type GuestRecord, type PoolRecord } from "../../ha/ha-record";
import type { WatchdogConfig } from "../../watchdog/daemon/config";
import { parseWatchdogConfig } from "../../watchdog/daemon/config";

export const PROJECT_ROOT = path.resolve(__dirname, "../../..");

export class LabPool {
  readonly root: string;
  generation = 1;
  constructor(readonly lab: TestLab) {
    this.root = path.join(layout.nfsRoot(lab.dir), "export", "ovs");
    fs.mkdirSync(path.join(this.root, ".ovm-ha"), { recursive: true });
    fs.mkdirSync(path.join(this.root, "running_pool"), { recursive: true });
  }

  /** Writes pool.json (atomically, as the provider would). */
  writePool(opts: { haEnabled?: boolean; fence?: Record<string, PoolRecord["servers"][number]["fence"]>; timing?: Partial<PoolRecord["timing"]> } = {}): PoolRecord {
    const rec = PoolRecordSchema.parse({
      schemaVersion: 1,
      name: "labpool",
      haEnabled: opts.haEnabled ?? true,
      generation: this.generation++,
      servers: this.lab.info.servers.map((s, i) => ({
        name: s.name,
        address: s.address,
        sshPort: s.port,
        role: i === 0 ? "master" : "member",
        fence: opts.fence?.[s.name] ?? { method: "power" },
      })),
      timing: {
        heartbeatIntervalMs: 1000,
        heartbeatMisses: 3,
        stabilityMs: 3000,
        restartBudget: { max: 3, windowMs: 600000 },
        fenceTimeoutMs: 15000,
        fenceRetryMs: 3000,
        ...opts.timing,
      },
    });
    this.writeAtomic(path.join(this.root, ".ovm-ha", "pool.json"), JSON.stringify(rec, null, 2));
    return rec;
  }

  guestDir(name: string): string {
    return path.join(this.root, "running_pool", name);
  }

  /** vm.cfg, an empty disk image and ha.json for a guest. */
  addGuest(name: string, opts: { memoryMb?: number; preferred?: GuestRecord["preferred"]; priority?: number; ha?: boolean } = {}): GuestRecord {
    const d = this.guestDir(name);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, "System.img"), "");
    const memory = opts.memoryMb ?? 256;
    const cfg = path.join(d, "vm.cfg");
    fs.writeFileSync(cfg, `name = '${name}'\nmemory = ${memory}\nvcpus = 1\ndisk = ['file:${d}/System.img,xvda,w']\nvif = ['bridge=xenbr0']\non_crash = 'restart'\n`);
    const rec = GuestRecordSchema.parse({ schemaVersion: 1, name, ha: opts.ha ?? true, preferred: opts.preferred ?? "auto", priority: opts.priority ?? 0, memoryMb: memory, vcpus: 1, vmCfgPath: cfg });
    this.writeAtomic(path.join(d, "ha.json"), JSON.stringify(rec, null, 2));
    return rec;
  }

  /** Starts a guest with xm inside the server (test setup, not through the watchdog). */
  async startGuest(name: string, server: string): Promise<void> {
    const r = await this.lab.inServer(server, ["xm", "create", path.join(this.guestDir(name), "vm.cfg")]);
    if (r.code !== 0) throw new Error(`xm create ${name} on ${server}: ${r.stderr}`);
  }

  /** Names of the guests `xm list` shows on a server (undefined if the server does not answer). */
  async listed(server: string): Promise<string[] | undefined> {
    try {
      const r = await this.lab.inServer(server, ["xm", "list"], );
      if (r.code !== 0) return undefined;
      return r.stdout.split("\n").slice(1).map((l) => l.trim().split(/\s+/)[0]).filter((n) => n && n !== "Domain-0");
    } catch {
      return undefined;
    }
  }

  /** The run log of a guest: [{server, pid, ms}] in file order. */
  runlog(name: string): { server: string; pid: number; ms: number }[] {
    const p = path.join(this.guestDir(name), "System.img.runlog");
    if (!fs.existsSync(p)) return [];
    return fs
      .readFileSync(p, "utf8")
      .split("\n")
      .map((l) => /^(\S+) (\d+) (\d+)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ server: m[1], pid: Number(m[2]), ms: Number(m[3]) }));
  }

  /** Where the guest's latest record says it runs (and when that record was written). */
  lastRecord(name: string): { server: string; pid: number; ms: number } | undefined {
    const r = this.runlog(name);
    return r.length ? r.reduce((a, b) => (b.ms > a.ms ? b : a)) : undefined;
  }

  /** A watchdog config for this lab; fence true = `ovm-ha lab power off {server}` (confirmed by `lab power status`) for every server. */
  config(opts: { stateDir: string; fence?: boolean | string[]; addresses?: string[]; metricsPort?: number; timing?: Record<string, unknown> }): WatchdogConfig {
    const info = this.lab.info;
    // `ovm-ha lab power`, through its light entry point (the same code, without loading the whole CLI).
    const labPower = (action: string) => [process.execPath, path.join(PROJECT_ROOT, "dist", "lab", "power-cli.js"), action, "{server}", "--dir", this.lab.dir];
    const fenceCmd = { off: labPower("off"), status: labPower("status"), timeoutMs: 15000 };
    const fence: Record<string, unknown> = {};
    if (opts.fence === true || opts.fence === undefined) fence["*"] = fenceCmd;
    else if (Array.isArray(opts.fence)) for (const s of opts.fence) fence[s] = fenceCmd;
    return parseWatchdogConfig({
      pool: { addresses: opts.addresses ?? info.servers.map((s) => s.address), clusterRoot: this.root },
      ssh: { user: "root", privateKeyFile: info.privateKeyPath, knownHostsFile: info.knownHostsPath },
      fence,
      timing: opts.timing ?? {},
      stateFile: path.join(opts.stateDir, "state.json"),
      metrics: opts.metricsPort !== undefined ? { port: opts.metricsPort } : undefined,
      log: { level: "info" },
    });
  }

  private writeAtomic(file: string, text: string): void {
    const tmp = `${file}.tmp.${process.pid}`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  }
}
