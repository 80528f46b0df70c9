// A real three-member etcd cluster on loopback addresses (127.78.SLOT.1-3), for the replica tests and benchmark.
// Each test run takes a free slot (a directory claimed with mkdir), so runs side by side do not collide.
// etcd's own timing stays at its defaults (heartbeat 100 ms, election 1000 ms) scaled up a little for a loaded
// 2-core machine; members can be killed and restarted one by one to take quorum away and give it back.
import { spawn, spawnSync, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const SLOTS_DIR = path.join(os.tmpdir(), "ovm-ha-etcd-slots");

export interface EtcdMember {
  name: string;
  address: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  proc?: ChildProcess;
}

export class EtcdMissingError extends Error {}

export function etcdBinary(): string {
  for (const p of ["/usr/bin/etcd", "/usr/local/bin/etcd"]) if (fs.existsSync(p)) return p;
  throw new EtcdMissingError("etcd is not installed: the replica tests need a real etcd (Debian: apt-get install etcd-server etcd-client, or scripts/setup)");
}

export class EtcdCluster {
  readonly members: EtcdMember[];
  private constructor(readonly slot: number, readonly dir: string, private readonly bin: string) {
    this.members = [1, 2, 3].map((i) => {
      const address = `127.78.${slot}.${i}`;
      return { name: `etcd${i}`, address, clientUrl: `http://${address}:2379`, peerUrl: `http://${address}:2380`, dataDir: path.join(dir, `etcd${i}`) };
    });
  }

  /** Starts the three members and waits until the cluster answers (a write through every member). */
  static async start(): Promise<EtcdCluster> {
    const bin = etcdBinary();
    fs.mkdirSync(SLOTS_DIR, { recursive: true });
    let slot = 0;
    for (let s = 1 + (process.pid % 200); s < 1 + (process.pid % 200) + 250 && !slot; s++) {
      const n = ((s - 1) % 250) + 1;
      try {
        fs.mkdirSync(path.join(SLOTS_DIR, String(n)));
        slot = n;
      } catch {
        /* taken */
      }
    }
    if (!slot) throw new Error(`no free etcd slot in ${SLOTS_DIR} (remove stale ones if no test runs)`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-etcd-"));
    const c = new EtcdCluster(slot, dir, bin);
    for (const m of c.members) c.startMember(m.name, "new");
    try {
      await c.waitHealthy(c.members.map((m) => m.name), 30000);
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  member(name: string): EtcdMember {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no etcd member ${name}`);
    return m;
  }

  startMember(name: string, state: "new" | "existing" = "existing"): void {
    const m = this.member(name);
    if (m.proc && m.proc.exitCode === null && m.proc.signalCode === null) return;
    const cluster = this.members.map((x) => `${x.name}=${x.peerUrl}`).join(",");
    const log = fs.openSync(path.join(this.dir, `${m.name}.log`), "a");
    m.proc = spawn(
      this.bin,
      [
        "--name", m.name,
        "--data-dir", m.dataDir,
        "--listen-client-urls", m.clientUrl,
        "--advertise-client-urls", m.clientUrl,
        "--listen-peer-urls", m.peerUrl,
        "--initial-advertise-peer-urls", m.peerUrl,
        "--initial-cluster", cluster,
        "--initial-cluster-token", `ovm-ha-test-${this.slot}`,
        "--initial-cluster-state", state,
        // Defaults are 100/1000 ms; a little slack for a loaded 2-core machine.
        "--heartbeat-interval", "200",
        "--election-timeout", "2000",
        "--logger", "zap",
        "--log-outputs", "stderr",
      ],
      { stdio: ["ignore", log, log] },
    );
    fs.closeSync(log);
  }

  /** SIGKILL (a crashed member); the data directory stays, so it can come back with startMember. */
  async kill(name: string): Promise<void> {
    const m = this.member(name);
    const p = m.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((r) => {
      p.once("exit", () => r());
      p.kill("SIGKILL");
    });
  }

  /** Waits until each named member answers a linearizable read (etcdctl endpoint health). */
  async waitHealthy(names: string[], timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last = "";
    for (;;) {
      const eps = names.map((n) => this.member(n).clientUrl).join(",");
      const r = spawnSync("etcdctl", ["--endpoints", eps, "--command-timeout=2s", "endpoint", "health"], { encoding: "utf8", env: { ...process.env, ETCDCTL_API: "3" } });
      if (r.error) throw new EtcdMissingError(`etcdctl cannot run (${r.error.message}): apt-get install etcd-client`);
      if (r.status === 0) return;
      last = (r.stderr || r.stdout).trim().split("\n").slice(-2).join(" ");
      if (Date.now() > until) throw new Error(`etcd cluster (${eps}) not healthy within ${timeoutMs} ms: ${last}; logs in ${this.dir}`);
      await new Promise((res) => setTimeout(res, 300));
    }
  }

  /** Stops every member and removes the data and the slot. */
  async stop(): Promise<void> {
    for (const m of this.members) await this.kill(m.name);
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.rmSync(path.join(SLOTS_DIR, String(this.slot)), { recursive: true, force: true });
  }
}
