// Benchmark of the real watchdog on the lab.
// 1. Failover: 4 servers, 40 HA guests of 256 MB; crash the server with the most guests, RUNS times (powered
//    back on between runs): crash -> detection, -> fenced, -> last guest running elsewhere (min, median, max),
//    beside the configured detection bound. FENCE_MS (default 0): the power fence takes that long before it acts
//    (Pacemaker's comparison used a 1 s fence). The crash is silent: the server's address drops every packet from
//    the moment of the crash (as a powered-off machine's does), so no connection is refused or reset.
// 2. Footprint: the watchdog (a child process, as deployed) watching 16 servers and 200 guests for SECONDS s:
//    its CPU time and memory.
// Run (root): sh scripts/node22 node dist/bench/watchdog-failover.js [runs=5] [seconds=30] [failover|footprint|both] [intervals=1000,500] [fenceMs=0]
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import pino from "pino";
import { startTestLab, type TestLab } from "../test/support/lab";
import { LabPool, PROJECT_ROOT } from "../test/watchdog-e2e/lab-pool";
import { Watchdog } from "../watchdog/daemon/watchdog";
import type { LogLine } from "../watchdog/core/types";
import { sleep, waitFor } from "../test/support/wait-for";



function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const med = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  const f = (x: number) => (x / 1000).toFixed(2).padStart(6);
  return `min ${f(s[0])} s  median ${f(med)} s  max ${f(s[s.length - 1])} s`;
}

/** Starts guests spread round-robin over the servers, a few servers at a time. */
async function startGuests(pool: LabPool, servers: string[], n: number, prefix: string): Promise<void> {
  const byServer = new Map<string, string[]>(servers.map((s) => [s, []]));
  for (let i = 0; i < n; i++) {
    const g = `${prefix}${String(i + 1).padStart(3, "0")}`;
    pool.addGuest(g, { memoryMb: 256 });
    byServer.get(servers[i % servers.length])!.push(g);
  }
  const entries = [...byServer.entries()];
  for (let i = 0; i < entries.length; i += 4) {
    await Promise.all(entries.slice(i, i + 4).map(async ([s, gs]) => { for (const g of gs) await pool.startGuest(g, s); }));
  }
}

async function failoverBench(runs: number, intervalMs: number, fenceMs: number): Promise<void> {
  const lab = await startTestLab({ servers: 4 });
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-bench-wd-"));
  let wd: Watchdog | undefined;
  try {
    const pool = new LabPool(lab);
    // Repeated crashes move the same guests again and again: a budget that does not run out within the bench.
    pool.writePool({ timing: { heartbeatIntervalMs: intervalMs, stabilityMs: 3000, restartBudget: { max: 100, windowMs: 600000 } } });
    const names = lab.info.servers.map((s) => s.name);
    await startGuests(pool, names, 40, "g");
    const config = pool.config({ stateDir });
    if (fenceMs > 0) {
      // The same fence, taking fenceMs before it acts: sh sleeps, then runs it (argv kept, nothing pasted).
      const wrap = (argv: string[]) => ["sh", "-c", 'sleep "$0"; exec "$@"', (fenceMs / 1000).toFixed(3), ...argv];
      for (const f of Object.values(config.fence) as { off: string[] }[]) f.off = wrap(f.off);
    }
    const log: LogLine[] = [];
    const logger = pino({ level: "info" }, pino.destination({ dest: path.join(stateDir, "watchdog.log"), sync: false }));
    wd = new Watchdog({ config, logger, onLog: (l) => log.push(l), processMetrics: false });
    await wd.start();
    const w = wd;
    const running = (g: string) => { const st = w.state!.guests[g]?.status; return st?.state === "running" ? st.server : undefined; };
    await waitFor("40 guests seen running", () => Object.keys(w.state!.guests).length === 40 && Object.keys(w.state!.guests).every((g) => running(g)), 60000);
    const bound = w.state!.pool.timing.heartbeatIntervalMs * w.state!.pool.timing.heartbeatMisses;
    const detect: number[] = [], fence: number[] = [], last: number[] = [], lastRecord: number[] = [];
    for (let run = 1; run <= runs; run++) {
      const counts = new Map<string, number>();
      for (const g of Object.keys(w.state!.guests)) counts.set(running(g)!, (counts.get(running(g)!) ?? 0) + 1);
      const victim = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
      const guests = Object.keys(w.state!.guests).filter((g) => running(g) === victim);
      const t0 = Date.now();
      await lab.fault("crash-silent", victim);
      await waitFor(`guests of ${victim} elsewhere`, () => guests.every((g) => running(g) && running(g) !== victim), 60000).catch((e: Error) => {
        throw new Error(`${e.message}: ${guests.map((g) => `${g}=${JSON.stringify(w.state!.guests[g]?.status)}`).join(", ")}`);
      });
      const ev = (e: string, f: (l: LogLine) => boolean = () => true) => log.filter((l) => l.event === e && l.t >= t0 && f(l));
      const d = ev("server-failed", (l) => l.server === victim)[0].t - t0;
      const f = ev("server-fenced", (l) => l.server === victim)[0].t - t0;
      const r = Math.max(...guests.map((g) => ev("guest-running", (l) => l.guest === g).at(-1)!.t)) - t0;
      // The world's evidence: each guest's first run record written elsewhere after the crash (it writes one every
      // 200 ms, so this is within 200 ms of its start); the watchdog's `guest-running` waits for its next listing.
      await sleep(500);
      const firstElsewhere = (g: string) => pool.runlog(g).find((x) => x.server !== victim && x.ms >= t0)?.ms;
      const rec = Math.max(...guests.map((g) => firstElsewhere(g) ?? Infinity)) - t0;
      detect.push(d); fence.push(f); last.push(r); lastRecord.push(rec);
      const starts = ev("guest-start").length;
      if (process.env.OVM_HA_BENCH_TRACE) {
        for (const l of log.filter((x) => x.t >= t0 && x.t <= t0 + r && (x.server === victim || x.event.startsWith("fence") || x.event === "guest-start" || x.event === "guest-running"))) {
          process.stdout.write(`  +${String(l.t - t0).padStart(5)} ms  ${l.event}${l.server ? ` ${l.server}` : ""}${l.guest ? ` ${l.guest}` : ""}\n`);
        }
      }
      process.stdout.write(`run ${run}: crashed ${victim} (${guests.length} guests): detected ${d} ms, fenced ${f} ms, last guest running ${r} ms (its first run record elsewhere ${rec} ms), starts issued ${starts}\n`);
      await lab.fault("power-on", victim);
      await waitFor(`${victim} up`, () => w.state!.servers[victim].state === "up", 30000);
    }
    const check = await lab.check();
    process.stdout.write(`\nfailover, 4 servers, 40 HA guests of 256 MB, ${runs} silent crashes (heartbeat ${w.state!.pool.timing.heartbeatIntervalMs} ms x ${w.state!.pool.timing.heartbeatMisses}: detection bound ${bound} ms; power fence taking ${fenceMs} ms)\n`);
    process.stdout.write(`  crash -> detected:            ${stats(detect)}\n`);
    process.stdout.write(`  crash -> fenced:              ${stats(fence)}\n`);
    process.stdout.write(`  crash -> last guest running:  ${stats(last)}\n`);
    process.stdout.write(`  crash -> last guest's first run record elsewhere (the world's view): ${stats(lastRecord)}\n`);
    process.stdout.write(`  lab check: ${check.ok ? "ok (no guest ever ran twice)" : check.report}\n\n`);
  } finally {
    await wd?.stop().catch(() => undefined);
    await lab.down();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

function procStat(pid: number): { cpuMs: number; rssMb: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const tick = 100; // USER_HZ
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / tick;
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
  return { cpuMs, rssMb: rssKb / 1024 };
}

async function footprintBench(seconds: number): Promise<void> {
  const lab: TestLab = await startTestLab({ servers: 16 });
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-bench-wd16-"));
  let child: ReturnType<typeof spawn> | undefined;
  try {
    const pool = new LabPool(lab);
    pool.writePool();
    await startGuests(pool, lab.info.servers.map((s) => s.name), 200, "f");
    const config = pool.config({ stateDir });
    const configFile = path.join(stateDir, "config.json");
    fs.writeFileSync(configFile, JSON.stringify({ ...config, log: { level: "info", file: path.join(stateDir, "watchdog.log") } }));
    child = spawn(process.execPath, [path.join(PROJECT_ROOT, "dist", "cli", "watchdog-command.js"), "watchdog", "--config", configFile], { stdio: "inherit" });
    const statusFile = path.join(stateDir, "state.status.json");
    await waitFor("200 guests seen running", () => {
      try {
        const s = JSON.parse(fs.readFileSync(statusFile, "utf8")) as { guests: { state: string }[] };
        return s.guests.length === 200 && s.guests.every((g) => g.state === "running");
      } catch {
        return false;
      }
    }, 60000);
    const a = procStat(child.pid!);
    const t0 = Date.now();
    let maxRss = a.rssMb;
    while (Date.now() - t0 < seconds * 1000) {
      await sleep(1000);
      maxRss = Math.max(maxRss, procStat(child.pid!).rssMb);
    }
    const b = procStat(child.pid!);
    const wall = Date.now() - t0;
    const logText = fs.readFileSync(path.join(stateDir, "watchdog.log"), "utf8");
    const misses = logText.split("\n").filter((l) => l.includes('"heartbeat-missed"') && JSON.parse(l).time >= new Date(t0).toISOString()).length;
    const failed = logText.split("\n").filter((l) => l.includes('"server-failed"')).length;
    if (process.env.OVM_HA_BENCH_LOG) fs.copyFileSync(path.join(stateDir, "watchdog.log"), process.env.OVM_HA_BENCH_LOG);
    process.stdout.write(`footprint, 16 servers, 200 HA guests, ${Math.round(wall / 1000)} s (heartbeat 1000 ms, xm info every ${config.heartbeat.infoEveryRounds} rounds)\n`);
    process.stdout.write(`  watchdog CPU: ${(((b.cpuMs - a.cpuMs) / wall) * 100).toFixed(1)} % of one core (${Math.round(b.cpuMs - a.cpuMs)} ms CPU)\n`);
    process.stdout.write(`  watchdog memory: RSS ${b.rssMb.toFixed(0)} MB (max ${maxRss.toFixed(0)} MB)\n`);
    process.stdout.write(`  heartbeat miss streaks during the measurement: ${misses}; servers declared failed: ${failed}\n`);
    const t1 = Date.now();
    child.kill("SIGTERM");
    await new Promise((r) => child!.once("exit", r));
    process.stdout.write(`  SIGTERM -> exit: ${Date.now() - t1} ms\n`);
    child = undefined;
  } finally {
    if (child) child.kill("SIGKILL");
    await lab.down();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] || 5);
  const seconds = Number(process.argv[3] || 30);
  const which = process.argv[4] || "both";
  const intervals = (process.argv[5] || "1000,500").split(",").map(Number);
  const fenceMs = Number(process.argv[6] || 0);
  if (which === "both" || which === "failover") for (const i of intervals) await failoverBench(runs, i, fenceMs);
  if (which === "both" || which === "footprint") await footprintBench(seconds);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
