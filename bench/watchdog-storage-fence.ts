// Benchmark (issue 12): crash to last guest running elsewhere with storage fencing only, against detection plus the
// message wait, measured in the same run (same lab, same guests, same load) as power fencing.
// 4 lab servers, 40 HA guests of 256 MB, `ovm-ha agent` on every server (default agent timing: interval 1 s, lease
// 3 s, device timeout 4 s; the lab's hardware watchdog at 4 s), the real watchdog in-process (heartbeat 1 s x 3).
// Phase `storage`: every server fenced by `storage` (poison pill + message wait), no power fence command at all.
// Phase `power`: every server fenced by `power` (`ovm-ha lab power off`, confirmed by `lab power status`, as
// bench/watchdog-failover.ts). Each phase crashes the server with the most guests RUNS times (powered back on, its
// agent `ready` again, between crashes): crash -> detected, -> fenced, -> last guest running elsewhere (min, median,
// max), and for the storage phase each run's detection + messageWaitMs beside it. `lab check` closes the run.
// Run (root): sh scripts/node22 node dist/bench/watchdog-storage-fence.js [runs=3] [phases=storage,power]
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import pino from "pino";
import { AgentTiming, DEFAULT_AGENT_TIMING, messageWaitMs } from "../ha/disk-heartbeat";
import { startAgents, type LabAgents } from "../test/support/agents";
import { startTestLab, type TestLab } from "../test/support/lab";
import { LabPool } from "../test/watchdog-e2e/lab-pool";
import { Watchdog } from "../watchdog/daemon/watchdog";
import { describeDisk } from "../watchdog/core/disk-evidence";
import type { LogLine } from "../watchdog/core/types";
import { waitFor } from "../test/support/wait-for";

type Phase = "storage" | "power";
const GUESTS = 40;

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const med = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  const f = (x: number) => (x / 1000).toFixed(2).padStart(6);
  return `min ${f(s[0])} s  median ${f(med)} s  max ${f(s[s.length - 1])} s`;
}

interface PhaseResult {
  phase: Phase;
  detect: number[];
  fence: number[];
  last: number[];
  /** Storage phase: detection + message wait of each run (what the fence must wait at least). */
  bound: number[];
  fencedHow: string[];
}

async function runPhase(lab: TestLab, pool: LabPool, agents: LabAgents, phase: Phase, runs: number, agent: AgentTiming, stateDir: string): Promise<PhaseResult> {
  const names = lab.info.servers.map((s) => s.name);
  pool.writePool({
    fence: Object.fromEntries(names.map((s) => [s, { method: phase }])),
    // Repeated crashes move the same guests again and again: a budget that does not run out within the bench.
    timing: { heartbeatIntervalMs: 1000, stabilityMs: 3000, restartBudget: { max: 100, windowMs: 600000 }, agent: { ...agent } },
  });
  // Storage: no fence command at all (a pill is the only way to fence). Power: `lab power off` for every server.
  // A state directory per phase: the second watchdog starts fresh, not from the first one's state file.
  const dir = path.join(stateDir, phase);
  fs.mkdirSync(dir, { recursive: true });
  const config = pool.config({ stateDir: dir, fence: phase === "power" ? true : [] });
  const log: LogLine[] = [];
  const logger = pino({ level: "info" }, pino.destination({ dest: path.join(dir, "watchdog.log"), sync: false }));
  const wd = new Watchdog({ config, logger, onLog: (l) => log.push(l), processMetrics: false });
  const res: PhaseResult = { phase, detect: [], fence: [], last: [], bound: [], fencedHow: [] };
  try {
    await wd.start();
    const running = (g: string) => { const st = wd.state!.guests[g]?.status; return st?.state === "running" ? st.server : undefined; };
    const diskReady = () => names.every((s) => { const st = wd.state?.servers[s]; return st !== undefined && describeDisk(st, wd.state!.pool.timing, Date.now()) === "alive (ready)"; });
    await waitFor(`${GUESTS} guests seen running`, () => Object.keys(wd.state!.guests).length === GUESTS && Object.keys(wd.state!.guests).every((g) => running(g)), 120000);
    await waitFor("every server up", () => names.every((s) => wd.state!.servers[s]?.state === "up"), 60000);
    if (phase === "storage") await waitFor("every server's disk heartbeat alive and ready for the watchdog", diskReady, 60000);
    const wait = messageWaitMs(agent);
    for (let run = 1; run <= runs; run++) {
      const counts = new Map<string, number>();
      for (const g of Object.keys(wd.state!.guests)) counts.set(running(g)!, (counts.get(running(g)!) ?? 0) + 1);
      const victim = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
      const guests = Object.keys(wd.state!.guests).filter((g) => running(g) === victim);
      const t0 = Date.now();
      await lab.fault("crash", victim);
      await waitFor(`guests of ${victim} elsewhere`, () => guests.every((g) => running(g) && running(g) !== victim), 120000).catch((e: Error) => {
        throw new Error(`${e.message}: ${guests.map((g) => `${g}=${JSON.stringify(wd.state!.guests[g]?.status)}`).join(", ")}`);
      });
      const ev = (e: string, f: (l: LogLine) => boolean = () => true) => log.filter((l) => l.event === e && l.t >= t0 && f(l));
      const failed = ev("server-failed", (l) => l.server === victim)[0];
      const fenced = ev("server-fenced", (l) => l.server === victim)[0];
      const d = failed.t - t0;
      const f = fenced.t - t0;
      const r = Math.max(...guests.map((g) => ev("guest-running", (l) => l.guest === g).at(-1)!.t)) - t0;
      res.detect.push(d); res.fence.push(f); res.last.push(r);
      if (phase === "storage") res.bound.push(d + wait);
      const how = fenced.reason;
      res.fencedHow.push(how);
      process.stdout.write(`${phase} run ${run}: crashed ${victim} (${guests.length} guests): detected ${d} ms, fenced ${f} ms${phase === "storage" ? ` (detection + message wait ${d + wait} ms)` : ""}, last guest running ${r} ms; starts issued ${ev("guest-start").length}${how ? `; fenced: ${how}` : ""}\n`);
      await lab.fault("power-on", victim);
      const before = agents.slot(victim)?.bootId;
      await agents.waitSlot(victim, (x) => x.state === "ready" && x.bootId !== before, "ready in its new boot", 60000);
      await waitFor(`${victim} up`, () => wd.state!.servers[victim].state === "up", 60000);
      if (phase === "storage") await waitFor("every server's disk heartbeat alive and ready for the watchdog", diskReady, 60000);
    }
  } finally {
    await wd.stop().catch(() => undefined);
  }
  return res;
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] || 3);
  const phases = (process.argv[3] || "storage,power").split(",") as Phase[];
  for (const p of phases) if (p !== "storage" && p !== "power") throw new Error(`phases are 'storage' and 'power' (comma-separated), got '${p}'`);
  const agent = DEFAULT_AGENT_TIMING;
  const lab = await startTestLab({ servers: 4 });
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-bench-sfence-"));
  let agents: LabAgents | undefined;
  try {
    const pool = new LabPool(lab);
    pool.writePool({ timing: { agent: { ...agent } } });
    const names = lab.info.servers.map((s) => s.name);
    for (let i = 0; i < GUESTS; i++) pool.addGuest(`f${String(i + 1).padStart(3, "0")}`, { memoryMb: 256 });
    await Promise.all(names.map(async (s, k) => { for (let i = k; i < GUESTS; i += names.length) await pool.startGuest(`f${String(i + 1).padStart(3, "0")}`, s); }));
    agents = await startAgents(lab, { clusterRoot: pool.root, deviceTimeoutMs: agent.deviceTimeoutMs });
    const t0 = Date.now();
    const results: PhaseResult[] = [];
    for (const p of phases) results.push(await runPhase(lab, pool, agents, p, runs, agent, stateDir));
    const check = await lab.check({ since: t0 });
    const resets = names.map((s) => agents!.resets(s).filter((r) => r.at >= t0).length).reduce((a, b) => a + b, 0);
    process.stdout.write(`\ncrash failover, storage vs power fencing, same run: 4 servers, ${GUESTS} HA guests of 256 MB, ${runs} crashes each; heartbeat 1000 ms x 3 (detection bound 3000 ms); agent ${agent.intervalMs} / ${agent.leaseMs} / ${agent.deviceTimeoutMs} ms, message wait ${messageWaitMs(agent)} ms; load ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}\n`);
    for (const r of results) {
      process.stdout.write(`  ${r.phase} fencing:\n`);
      process.stdout.write(`    crash -> detected:                 ${stats(r.detect)}\n`);
      process.stdout.write(`    crash -> fenced:                   ${stats(r.fence)}\n`);
      if (r.phase === "storage") process.stdout.write(`    detection + message wait:          ${stats(r.bound)}\n`);
      process.stdout.write(`    crash -> last guest running:       ${stats(r.last)}\n`);
    }
    process.stdout.write(`  hardware watchdog resets during the run (a crashed server's timer is off: expected 0): ${resets}\n`);
    process.stdout.write(`  lab check: ${check.ok ? "ok (no guest ever ran twice)" : check.report}\n`);
    if (!check.ok) process.exitCode = 1;
  } finally {
    if (agents) await agents.stopAll();
    await lab.down();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
