// Benchmark of watchdog replicas on etcd (real three-member etcd, replicas as separate processes, the lab):
// 1. takeover: the leader SIGKILLed -> the new leader acting (its fencing token recorded on the shared storage),
//    RUNS times;
// 2. worst-case failover: the leader and a server (with 6 guests) crash at the same moment -> the last guest
//    running elsewhere (seen by `xm list` and its run records), against the single watchdog (no etcd) crashing
//    the same server, in the same run;
// 3. etcd writes per minute while the leader watches 16 servers and 200 guests (etcd's revision counter over
//    SECONDS s: every put and delete counts; lease keep-alives do not).
// The machine's load average (1, 5, 15 min) is printed before and after each part: the figures depend on it.
// Run (root): sh scripts/node22 node dist/bench/watchdog-takeover.js [runs=3] [seconds=60] [takeover|writes|both] [ttl=5]
import { Etcd3 } from "etcd3";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import pino from "pino";
import { startTestLab } from "../test/support/lab";
import { EtcdCluster } from "../test/support/etcd-cluster";
import { LabPool } from "../test/watchdog-e2e/lab-pool";
import { ReplicaProcs } from "../test/watchdog-replica/replica-procs";
import { EtcdConfigSchema } from "../watchdog/replica/etcd-config";
import { Watchdog } from "../watchdog/daemon/watchdog";
import { durableView } from "../watchdog/replica/durable-view";
import { sleep, waitFor } from "../test/support/wait-for";

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const med = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  const f = (x: number) => (x / 1000).toFixed(2).padStart(6);
  return `min ${f(s[0])} s  median ${f(med)} s  max ${f(s[s.length - 1])} s  (n=${s.length})`;
}

async function lastGuestRunning(pool: LabPool, guests: string[], gone: string, t0: number): Promise<number> {
  const others = pool.lab.info.servers.map((s) => s.name).filter((s) => s !== gone);
  await waitFor("guests running elsewhere", async () => {
    const lists = await Promise.all(others.map((s) => pool.listed(s)));
    // Listed, and its run record written (under load the record can lag the listing: no time to take yet).
    return guests.every((g) => lists.filter((l) => l?.includes(g)).length === 1 && pool.runlog(g).some((r) => r.ms > t0 && r.server !== gone));
  }, 120000, 50);
  // When each guest really ran: its first run record after the crash, written by the guest process itself.
  return Math.max(...guests.map((g) => Math.min(...pool.runlog(g).filter((r) => r.ms > t0 && r.server !== gone).map((r) => r.ms)))) - t0;
}

async function takeoverBench(runs: number, ttl: number): Promise<void> {
  const etcd = await EtcdCluster.start();
  const lab = await startTestLab({ servers: 3 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-bench-replicas-"));
  let procs: ReplicaProcs | undefined;
  try {
    const pool = new LabPool(lab);
    pool.writePool({ timing: { restartBudget: { max: 100, windowMs: 600000 }, stabilityMs: 3000 } });
    const base = pool.config({ stateDir: dir });
    base.etcd = EtcdConfigSchema.parse({ endpoints: etcd.endpoints, leaseTtlSeconds: ttl });
    procs = new ReplicaProcs(base, dir, "/ovm-ha/bench");
    procs.start("r1");
    procs.start("r2");
    const takeovers: number[] = [];
    const replicated: number[] = [];
    const ready = async () => {
      const l = await waitFor("a leader", () => procs!.leader(), 60000);
      await waitFor("token published", () => procs!.events(l.name, "token-published").length > 0, 60000);
      return l.name;
    };
    let round = 0;
    for (let i = 0; i < runs; i++) {
      // Takeover alone.
      let leader = await ready();
      await sleep(2000);
      let t0 = Date.now();
      procs.get(leader).proc.kill("SIGKILL");
      const next = leader === "r1" ? "r2" : "r1";
      await waitFor("the standby acting", () => procs!.events(next, "token-published", t0).length > 0, 120000, 20);
      takeovers.push(Date.parse(procs.events(next, "token-published", t0)[0].time!) - t0);
      procs.start(leader);
      // Leader and server crash together.
      const server = ["ovs2", "ovs3"][i % 2];
      const guests = Array.from({ length: 6 }, (_, k) => `w${++round}`);
      for (const g of guests) {
        pool.addGuest(g);
        await pool.startGuest(g, server);
      }
      leader = await ready();
      await sleep(4000);
      t0 = Date.now();
      procs.get(leader).proc.kill("SIGKILL");
      await lab.fault("crash", server);
      replicated.push(await lastGuestRunning(pool, guests, server, t0));
      procs.start(leader);
      await lab.fault("power-on", server);
      await sleep(8000);
    }
    await procs.stopAll();
    procs = undefined;
    // The single watchdog, same lab, same crash.
    const single: number[] = [];
    const logger = pino({ level: "info" }, pino.destination({ dest: path.join(dir, "single.log"), sync: false }));
    const wd = new Watchdog({ config: { ...base, etcd: undefined, stateFile: path.join(dir, "single", "state.json") }, logger, processMetrics: false });
    await wd.start();
    try {
      for (let i = 0; i < runs; i++) {
        const server = ["ovs2", "ovs3"][i % 2];
        const guests = Array.from({ length: 6 }, () => `w${++round}`);
        for (const g of guests) {
          pool.addGuest(g);
          await pool.startGuest(g, server);
        }
        await sleep(6000);
        const t0 = Date.now();
        await lab.fault("crash", server);
        single.push(await lastGuestRunning(pool, guests, server, t0));
        await lab.fault("power-on", server);
        await sleep(8000);
      }
    } finally {
      await wd.stop();
    }
    const timing = pool.lab.info.servers.length;
    console.log(`replicas: lease TTL ${ttl} s, heartbeat 1000 ms x 3, ${timing} servers, etcd --heartbeat-interval 200 --election-timeout 2000`);
    console.log(`takeover (leader SIGKILLed -> new leader acting):          ${stats(takeovers)}`);
    console.log(`failover, leader + server crash together (-> last guest):  ${stats(replicated)}`);
    console.log(`failover, single watchdog, server crash (-> last guest):   ${stats(single)}`);
  } finally {
    await procs?.stopAll();
    await lab.down();
    await etcd.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function writesBench(seconds: number, ttl: number): Promise<void> {
  const etcd = await EtcdCluster.start();
  const lab = await startTestLab({ servers: 16, memoryMb: 4096 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-bench-writes-"));
  let procs: ReplicaProcs | undefined;
  const client = new Etcd3({ hosts: etcd.endpoints });
  try {
    const pool = new LabPool(lab);
    pool.writePool();
    const names = lab.info.servers.map((s) => s.name);
    for (let i = 0; i < 200; i++) {
      const g = `f${String(i + 1).padStart(3, "0")}`;
      pool.addGuest(g, { memoryMb: 128 });
      await pool.startGuest(g, names[i % names.length]);
    }
    const base = pool.config({ stateDir: dir });
    base.etcd = EtcdConfigSchema.parse({ endpoints: etcd.endpoints, leaseTtlSeconds: ttl });
    procs = new ReplicaProcs(base, dir, "/ovm-ha/writes");
    procs.start("r1");
    procs.start("r2");
    const l = await waitFor("a leader", () => procs!.leader(), 60000);
    await waitFor("token published", () => procs!.events(l.name, "token-published").length > 0, 60000);
    await sleep(10000); // settle: every guest seen running
    const rev = async () => Number((await client.get("/none").exec()).header.revision);
    // Which keys the writes touch (a transaction putting state and state-meta is one revision, two events).
    const byKey = new Map<string, number>();
    const watcher = await client.watch().prefix("/ovm-ha/writes/").create();
    const tally = (kind: string) => (kv: { key: Buffer }) => {
      const k = `${kind} ${kv.key.toString().replace("/ovm-ha/writes/", "")}`;
      byKey.set(k, (byKey.get(k) ?? 0) + 1);
    };
    // What changed between two state writes (the durable view, flattened): which fields cost the writes.
    const changed = new Map<string, number>();
    let prev: Map<string, string> | undefined;
    const flatten = (o: unknown, at: string, out: Map<string, string>) => {
      if (o && typeof o === "object") for (const [k, v] of Object.entries(o)) flatten(v, `${at}.${k}`, out);
      else out.set(at, JSON.stringify(o));
      return out;
    };
    watcher.on("put", (kv: { key: Buffer; value: Buffer }) => {
      tally("put")(kv);
      if (!kv.key.toString().endsWith("/state")) return;
      const cur = flatten(JSON.parse(durableView(kv.value.toString())), "", new Map());
      if (prev) {
        for (const k of new Set([...cur.keys(), ...prev.keys()])) {
          if (cur.get(k) === prev.get(k)) continue;
          const general = k.replace(/\.(servers|guests)\.[^.]+/, ".$1.*").replace(/\.\d+/g, ".N");
          changed.set(general, (changed.get(general) ?? 0) + 1);
        }
      }
      prev = cur;
    });
    watcher.on("delete", tally("delete"));
    const r0 = await rev();
    await sleep(seconds * 1000);
    const r1 = await rev();
    await watcher.cancel();
    console.log(`etcd writes while watching 16 servers and 200 guests (no faults): ${(((r1 - r0) * 60) / seconds).toFixed(1)} per minute (${r1 - r0} in ${seconds} s)`);
    console.log(`  by key: ${[...byKey].map(([k, n]) => `${k}: ${n}`).join(", ") || "none"}`);
    console.log(`  fields that changed between state writes: ${[...changed].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`);
    const leaderEvents = ["leader-elected", "leader-deposed", "campaign-failed", "actions-dropped"].map((e) => `${e} ${["r1", "r2"].map((r) => procs!.events(r, e, Date.now() - seconds * 1000).length).join("/")}`);
    console.log(`  replica events in the window (r1/r2): ${leaderEvents.join(", ")}`);
  } finally {
    client.close();
    await procs?.stopAll();
    await lab.down();
    await etcd.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 3);
  const seconds = Number(process.argv[3] ?? 60);
  const which = process.argv[4] ?? "both";
  const ttl = Number(process.argv[5] ?? 5);
  const load = (when: string) => console.log(`load average ${when}: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")} (${os.cpus().length} cores)`);
  if (which === "takeover" || which === "both") {
    load("before takeover runs");
    await takeoverBench(runs, ttl);
    load("after takeover runs");
  }
  if (which === "writes" || which === "both") {
    load("before writes run");
    await writesBench(seconds, ttl);
    load("after writes run");
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
