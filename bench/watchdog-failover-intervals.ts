// The failover benchmark of bench/watchdog-failover.ts (4 servers, 40 HA guests of 256 MB, crash the server with
// the most guests, RUNS times) at several heartbeat intervals (x3 misses): crash -> declared failed, -> fenced,
// -> last guest running elsewhere (min / median / max), with the machine's load average at the time (the machine
// is shared: the figures mean little without it). The core benchmark fixes the interval at 1000 ms; this one
// takes it as a parameter.
// Run (root): sh scripts/node22 node dist/bench/watchdog-failover-intervals.js [runs=5] [intervals=1000,500]
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import pino from "pino";
import { startTestLab } from "../test/support/lab";
import { LabPool } from "../test/watchdog-e2e/lab-pool";
import { Watchdog } from "../watchdog/daemon/watchdog";
import type { LogLine } from "../watchdog/core/types";
import { waitFor } from "../test/support/wait-for";

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const med = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  const f = (x: number) => (x / 1000).toFixed(2).padStart(6);
  return `min ${f(s[0])} s  median ${f(med)} s  max ${f(s[s.length - 1])} s`;
}

async function bench(interval: number, runs: number): Promise<string> {
  const lab = await startTestLab({ servers: 4 });
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-bench-iv-"));
  let wd: Watchdog | undefined;
  try {
    const pool = new LabPool(lab);
    pool.writePool({ timing: { heartbeatIntervalMs: interval, heartbeatMisses: 3, stabilityMs: 3000, restartBudget: { max: 100, windowMs: 600000 } } });
    const names = lab.info.servers.map((s) => s.name);
    const guests: string[] = [];
    for (let i = 0; i < 40; i++) {
      const g = `g${String(i + 1).padStart(3, "0")}`;
      pool.addGuest(g, { memoryMb: 256 });
      guests.push(g);
    }
    await Promise.all(names.map(async (s, k) => { for (let i = k; i < guests.length; i += names.length) await pool.startGuest(guests[i], s); }));
    const log: LogLine[] = [];
    const logger = pino({ level: "info" }, pino.destination({ dest: path.join(stateDir, "watchdog.log"), sync: false }));
    wd = new Watchdog({ config: pool.config({ stateDir }), logger, onLog: (l) => log.push(l), processMetrics: false });
    await wd.start();
    const w = wd;
    const running = (g: string) => { const st = w.state!.guests[g]?.status; return st?.state === "running" ? st.server : undefined; };
    await waitFor("40 guests seen running", () => guests.every((g) => running(g)), 120000);
    const detect: number[] = [], fence: number[] = [], last: number[] = [], loads: number[] = [];
    for (let run = 1; run <= runs; run++) {
      await waitFor("every server up", () => names.every((s) => w.state!.servers[s].state === "up" && !w.state!.servers[s].degraded), 60000);
      const counts = new Map<string, number>();
      for (const g of guests) counts.set(running(g)!, (counts.get(running(g)!) ?? 0) + 1);
      const victim = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
      const moved = guests.filter((g) => running(g) === victim);
      loads.push(os.loadavg()[0]);
      const t0 = Date.now();
      await lab.fault("crash", victim);
      await waitFor(`guests of ${victim} elsewhere`, () => moved.every((g) => running(g) && running(g) !== victim), 90000);
      const ev = (e: string, f: (l: LogLine) => boolean) => log.filter((l) => l.event === e && l.t >= t0 && f(l));
      const d = ev("server-failed", (l) => l.server === victim)[0].t - t0;
      const f = ev("server-fenced", (l) => l.server === victim)[0].t - t0;
      const r = Math.max(...moved.map((g) => ev("guest-running", (l) => l.guest === g).at(-1)!.t)) - t0;
      detect.push(d); fence.push(f); last.push(r);
      process.stdout.write(`  ${interval} ms run ${run}: crashed ${victim} (${moved.length} guests): failed ${d} ms, fenced ${f} ms, last guest running ${r} ms (load ${loads.at(-1)!.toFixed(1)})\n`);
      await lab.fault("power-on", victim);
    }
    const check = await lab.check({ guests });
    return [
      `heartbeat ${interval} ms x 3 (bound ${interval * 3} ms), ${runs} crashes, load average ${Math.min(...loads).toFixed(1)}..${Math.max(...loads).toFixed(1)} on ${os.cpus().length} cores`,
      `  crash -> failed:               ${stats(detect)}`,
      `  crash -> fenced:               ${stats(fence)}`,
      `  crash -> last guest running:   ${stats(last)}`,
      `  lab check: ${check.ok ? "ok (no guest ever ran twice, all 40 ran)" : check.report}`,
    ].join("\n");
  } finally {
    await wd?.stop().catch(() => undefined);
    await lab.down();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] || 5);
  const intervals = (process.argv[3] || "1000,500").split(",").map(Number);
  const out: string[] = [];
  for (const i of intervals) out.push(await bench(i, runs));
  process.stdout.write(`\nfailover, 4 servers, 40 HA guests of 256 MB\n${out.join("\n")}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
