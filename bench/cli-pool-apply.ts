// Benchmark: a 16-server pool with 64 HA guests through the real Pulumi CLI (Automation API, local backend):
// first up, no-change up, refresh, destroy; then the same pool through the engine harness (bench/pool-apply.ts, run
// as a child process on its own lab in this same run), and both sets of figures side by side. Counters come from
// the dynamic-provider host itself (OVM_HA_RUN_STATS_FILE, see bench/pool-apply.ts): one host process serves one
// CLI run, so its last write is the run's total; a run that ran no provider operation writes none.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startTestLab } from "../test/support/lab";
import { guestsRunning, prepareClusterRoot } from "./pool-root";
import { CliStack, PROJECT_DIR } from "../test/cli-e2e/pulumi-cli";

const SERVERS = Number(process.env.BENCH_SERVERS || 16);
const GUESTS = Number(process.env.BENCH_GUESTS || 64);

interface RunStats {
  counters: { commands: number; writes: number };
  servers: Record<string, { connectionsOpened: number; commandsRun: number }>;
}

async function cliPath(): Promise<string[]> {
  const lines: string[] = [];
  const say = (l: string) => {
    lines.push(l);
    console.log(l);
  };
  const lab = await startTestLab({ servers: SERVERS, memoryMb: 4096 });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cli-pool-bench-"));
  const statsFile = path.join(tmp, "run-stats.json");
  let stack: CliStack | undefined;
  try {
    // The same preparation as bench/pool-apply.ts: cluster.conf, o2cb online and the cluster root on every server.
    const root = await prepareClusterRoot(lab);
    stack = await CliStack.create({ project: "pool-bench", main: "dist/bench/cli-pool-program.js", stack: "bench", env: { OVM_HA_RUN_STATS_FILE: statsFile } });
    await stack.setAllConfig({
      servers: { value: JSON.stringify(lab.info.servers.map((s) => ({ name: s.name, address: s.address }))), secret: false },
      guests: { value: String(GUESTS), secret: false },
      clusterRoot: { value: root, secret: false },
      sshKnownHosts: { value: lab.info.knownHostsPath, secret: false },
      sshPrivateKey: { value: fs.readFileSync(lab.info.privateKeyPath, "utf8"), secret: true },
    });
    const s = stack;
    const runOnce = async (label: string, op: "up" | "refresh" | "destroy") => {
      fs.rmSync(statsFile, { force: true });
      const r = op === "up" ? await s.up() : op === "refresh" ? await s.refresh() : await s.destroy();
      if (r.error) throw new Error(`${label}: ${r.error.slice(0, 3000)}`);
      const st: RunStats = fs.existsSync(statsFile) ? JSON.parse(fs.readFileSync(statsFile, "utf8")) : { counters: { commands: 0, writes: 0 }, servers: {} };
      const conns = lab.info.servers.map((x) => st.servers[x.name]?.connectionsOpened ?? 0);
      say(
        `CLI ${label}: ${(r.ms / 1000).toFixed(1)} s wall; changes ${JSON.stringify(r.changes)}; SSH connections per server min/max ` +
          `${Math.min(...conns)}/${Math.max(...conns)} (${conns.length} servers); remote commands ${st.counters.commands}; remote writes ${st.counters.writes}`,
      );
    };
    say(`CLI path: lab of ${SERVERS} servers, ${GUESTS} guests of 256 MB, Pulumi CLI in ${s.binDir}`);
    await runOnce("first up", "up");
    say(`CLI guests running on the lab: ${await guestsRunning(lab)}`);
    await runOnce("no-change up", "up");
    if (process.env.BENCH_DIAG) {
      // Why a no-change up takes long: the engine's own log of the same run (checkpoint writes and why, per step),
      // then the same run with the engine's diffs in parallel (PULUMI_PARALLEL_DIFF, off by default).
      const d = await s.up({ diagnose: true });
      const why: Record<string, number> = {};
      for (const m of d.stderr.matchAll(/mustWrite\(\) true because of (\w+)/g)) why[m[1]] = (why[m[1]] ?? 0) + 1;
      const lines = d.stderr.split("\n");
      const saves = lines.filter((l) => /SnapshotManager: saving|saveSnapshot|persisting snapshot|writing checkpoint/i.test(l)).length;
      say(`CLI no-change up, verbose: ${(d.ms / 1000).toFixed(1)} s; checkpoint writes forced by ${JSON.stringify(why)}; save lines ${saves}; stderr ${lines.length} lines`);
      fs.writeFileSync(path.join(os.tmpdir(), "cli-bench-nochange-v9.log"), d.stderr);
      process.env.PULUMI_PARALLEL_DIFF = "true";
      await runOnce("no-change up, PULUMI_PARALLEL_DIFF=true", "up");
      delete process.env.PULUMI_PARALLEL_DIFF;
    }
    await runOnce(`refresh (read of ${GUESTS + 1} resources)`, "refresh");
    // Before destroy (which takes the HA records), naming every guest that must have run.
    const check = await lab.check({ guests: Array.from({ length: GUESTS }, (_, g) => `g${g}`) });
    say(`CLI split-brain check: ${check.ok ? "ok" : check.report}`);
    await runOnce("destroy", "destroy");
  } finally {
    await stack?.remove();
    await lab.down();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return lines;
}

/** bench/pool-apply.ts as a child process (its own lab): its figure lines. */
function harnessPath(): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(PROJECT_DIR, "dist", "bench", "pool-apply.js")], { stdio: ["ignore", "pipe", "inherit"], env: process.env });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      process.stdout.write(d);
    });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out.trim().split("\n")) : reject(new Error(`bench/pool-apply.js exited ${code}`))));
  });
}

async function main(): Promise<void> {
  console.log(`load before: ${fs.readFileSync("/proc/loadavg", "utf8").trim()}`);
  const cli = await cliPath();
  console.log(`load after the CLI path: ${fs.readFileSync("/proc/loadavg", "utf8").trim()}`);
  // BENCH_CLI_ONLY=1: the CLI path alone (for trying engine settings such as PULUMI_PARALLEL).
  if (process.env.BENCH_CLI_ONLY) return;
  console.log("\nSDK-host path (engine harness, bench/pool-apply.ts), same run:");
  const harness = await harnessPath();
  console.log(`load after the SDK-host path: ${fs.readFileSync("/proc/loadavg", "utf8").trim()}`);
  console.log("\nSide by side:");
  for (const l of cli) console.log(`  ${l}`);
  for (const l of harness) console.log(`  harness ${l}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
