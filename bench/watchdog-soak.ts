// False-fencing soak: the real watchdog (a child process, as deployed) watches 4 lab servers running 40 HA
// guests while CPU hogs (busy-loop node processes at normal priority, one per core by default) saturate the
// machine, with the pool's default timing (or another heartbeat interval). Nothing fails, so every fence is a false fence. Counted from the world
// (the fence command records each call; the lab's power states) and from the watchdog's log (suspect, degraded,
// failed episodes; heartbeat miss streaks). A `lab check` of the 40 guests closes the run.
// Run (root): sh scripts/node22 node dist/bench/watchdog-soak.js [minutes=10] [hogs=2] [heartbeatIntervalMs=the default]
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEFAULT_TIMING } from "../ha/ha-record";
import { serverStates } from "../lab/lab";
import { readFenceCalls, recordFenceCalls } from "../test/support/fence-recorder";
import { startTestLab } from "../test/support/lab";
import { LabPool, PROJECT_ROOT } from "../test/watchdog-e2e/lab-pool";
import { sleep, waitFor } from "../test/support/wait-for";
import type { WatchdogStatus } from "../watchdog/status";

const GUESTS = 40;

interface LogLine {
  time: string;
  event?: string;
  server?: string;
  loud?: boolean;
  msg?: string;
}

function readLog(file: string): LogLine[] {
  let text = "";
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: LogLine[] = [];
  for (const l of text.split("\n")) {
    if (!l.startsWith("{")) continue;
    try {
      out.push(JSON.parse(l) as LogLine);
    } catch {
      /* a line being written */
    }
  }
  return out;
}

function count(lines: LogLine[], event: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) if (l.event === event) out[l.server ?? "-"] = (out[l.server ?? "-"] ?? 0) + 1;
  return out;
}

const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const fmt = (r: Record<string, number>) => (Object.keys(r).length ? Object.entries(r).sort().map(([k, v]) => `${k}:${v}`).join(" ") : "none");

async function main(): Promise<void> {
  const minutes = Number(process.argv[2] || 10);
  const hogCount = Number(process.argv[3] || os.cpus().length);
  const intervalMs = Number(process.argv[4] || DEFAULT_TIMING.heartbeatIntervalMs);
  const lab = await startTestLab({ servers: 4 });
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-soak-"));
  const hogs: ChildProcess[] = [];
  let wd: ChildProcess | undefined;
  try {
    const pool = new LabPool(lab);
    // The product's default timing (the record as a user who sets nothing gets it), the interval as asked.
    pool.writePool({ timing: { ...DEFAULT_TIMING, heartbeatIntervalMs: intervalMs, restartBudget: { ...DEFAULT_TIMING.restartBudget } } });
    const names = lab.info.servers.map((s) => s.name);
    const guests: string[] = [];
    for (let i = 0; i < GUESTS; i++) {
      const g = `s${String(i + 1).padStart(3, "0")}`;
      pool.addGuest(g, { memoryMb: 256 });
      guests.push(g);
    }
    await Promise.all(names.map(async (s, k) => { for (let i = k; i < GUESTS; i += names.length) await pool.startGuest(guests[i], s); }));
    const fenceLog = path.join(stateDir, "fence-calls.log");
    fs.writeFileSync(fenceLog, "");
    const config = pool.config({ stateDir });
    recordFenceCalls(config, [process.execPath, path.join(PROJECT_ROOT, "dist", "test", "support", "fence-recorder.js"), fenceLog, path.join(stateDir, "no-gate"), lab.dir, "{server}"]);
    const logFile = path.join(stateDir, "watchdog.log");
    const configFile = path.join(stateDir, "config.json");
    fs.writeFileSync(configFile, JSON.stringify({ ...config, metrics: undefined, log: { level: "info", file: logFile } }));
    wd = spawn(process.execPath, [path.join(PROJECT_ROOT, "dist", "cli", "watchdog-command.js"), "watchdog", "--config", configFile], { stdio: ["ignore", "ignore", "inherit"] });
    const statusFile = path.join(stateDir, "state.status.json");
    await waitFor(`${GUESTS} guests seen running`, () => {
      try {
        const s = JSON.parse(fs.readFileSync(statusFile, "utf8")) as WatchdogStatus;
        return s.guests.length === GUESTS && s.guests.every((g) => g.state === "running");
      } catch {
        return false;
      }
    }, 120000);

    for (let i = 0; i < hogCount; i++) {
      hogs.push(spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" }));
    }
    const t0 = Date.now();
    const loads: number[] = [];
    process.stdout.write(`soak: ${minutes} min, ${hogCount} CPU hogs (busy loops, normal priority) on ${os.cpus().length} cores; 4 servers, ${GUESTS} HA guests; heartbeat ${intervalMs} ms x ${DEFAULT_TIMING.heartbeatMisses}\n`);
    while (Date.now() - t0 < minutes * 60000) {
      await sleep(Math.min(30000, t0 + minutes * 60000 - Date.now()));
      loads.push(os.loadavg()[0]);
      const lines = readLog(logFile).filter((l) => Date.parse(l.time) >= t0);
      process.stdout.write(
        `  +${Math.round((Date.now() - t0) / 1000)} s: load ${os.loadavg()[0].toFixed(1)}; fence calls ${readFenceCalls(fenceLog).length}; suspect ${total(count(lines, "server-suspect"))}; degraded ${total(count(lines, "server-degraded"))}; failed ${total(count(lines, "server-failed"))}\n`,
      );
    }
    const t1 = Date.now();
    for (const h of hogs) h.kill("SIGKILL");
    await sleep(5000); // let the watchdog settle what it saw at the end of the load
    const lines = readLog(logFile).filter((l) => Date.parse(l.time) >= t0);
    const fences = readFenceCalls(fenceLog).filter((c) => c.at >= t0);
    const off = Object.entries(serverStates(lab.info)).filter(([, s]) => s.power === "off").map(([n]) => n);
    const check = await lab.check({ guests, since: t0 });
    const dup = lines.filter((l) => l.event === "guest-duplicate").length;
    const starts = lines.filter((l) => l.event === "guest-start").length;
    const worst = Math.max(...check.result.expected.map((e) => e.downtimeMs));
    const avgLoad = loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length);
    process.stdout.write(`\nfalse-fencing soak: ${((t1 - t0) / 60000).toFixed(1)} min under ${hogCount} CPU hogs, 4 servers, ${GUESTS} guests, ${intervalMs === DEFAULT_TIMING.heartbeatIntervalMs ? "default timing" : `default timing but a ${intervalMs} ms heartbeat`}\n`);
    process.stdout.write(`  load average (1 min): mean ${avgLoad.toFixed(1)}, max ${Math.max(...loads).toFixed(1)} (machine shared with other work)\n`);
    process.stdout.write(`  servers fenced (fence calls recorded by the fence command): ${fences.length}${fences.length ? ` (${fences.map((f) => f.server).join(", ")})` : ""}\n`);
    process.stdout.write(`  servers powered off at the end (lab): ${off.length ? off.join(", ") : "none"}\n`);
    process.stdout.write(`  servers declared failed: ${fmt(count(lines, "server-failed"))}\n`);
    process.stdout.write(`  suspect episodes (a missed heartbeat): ${total(count(lines, "server-suspect"))} (${fmt(count(lines, "server-suspect"))})\n`);
    process.stdout.write(`  degraded episodes (SSH answered, xm late or failing): ${total(count(lines, "server-degraded"))} (${fmt(count(lines, "server-degraded"))})\n`);
    process.stdout.write(`  heartbeat miss streaks: ${total(count(lines, "heartbeat-missed"))}; quorum lost: ${lines.filter((l) => l.event === "quorum-lost").length}\n`);
    process.stdout.write(`  guests started: ${starts}; duplicate alarms: ${dup}; longest gap in a guest's run records: ${worst} ms\n`);
    process.stdout.write(`  lab check: ${check.ok ? `ok (${check.result.expected.length} guests ran, none on two servers at once)` : check.report}\n`);
    if (process.env.OVM_HA_BENCH_LOG) fs.copyFileSync(logFile, process.env.OVM_HA_BENCH_LOG);
    if (fences.length > 0 || !check.ok) process.exitCode = 1;
  } finally {
    for (const h of hogs) if (h.exitCode === null) h.kill("SIGKILL");
    if (wd && wd.exitCode === null) {
      wd.kill("SIGTERM");
      await new Promise((r) => wd!.once("exit", r));
    }
    await lab.down();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
