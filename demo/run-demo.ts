// `npm run demo`: the whole product on a lab of 3 simulated Oracle VM servers, in about a minute. The NFS example
// is applied through the engine path, the watchdog is started with the lab's power switch as fence, one server
// crashes with guests on it (detection, fencing, restarts elsewhere), another is shut down as planned (its guests
// migrate live), then the split-brain checker's verdict and a summary. Cleans up on exit and on Ctrl-C; exits
// non-zero when anything failed.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import pino from "pino";
import * as lab from "../lab/lab";
import { checkLab, formatCheckReport } from "../lab/check";
import type { LabInfo } from "../lab/layout";
import { Stack } from "../test/engine";
import { nfsPool } from "../examples/nfs/program";
import { EXAMPLE_PROJECTS, labStackConfig } from "../examples/lab-stack";
import { Watchdog } from "../watchdog/daemon/watchdog";
import { parseWatchdogConfig } from "../watchdog/daemon/config";
import type { LogLine } from "../watchdog/core/types";
import { DemoScreen } from "./demo-screen";
import { CliStack, locatePulumi } from "../test/cli-e2e/pulumi-cli";
import { sleep, waitFor } from "../test/support/wait-for";

const PROJECT_DIR = path.resolve(__dirname, "../..");
const TIMING = { heartbeatIntervalMs: 1000, heartbeatMisses: 3, stabilityMs: 3000, restartBudget: { max: 3, windowMs: 600000 }, fenceTimeoutMs: 15000, fenceRetryMs: 3000 };
const CRASHED = "ovs2";
const DRAINED = "ovs3";
const GUESTS = [
  { name: "web1", memory: 256, preferredServers: [CRASHED, "ovs1"] },
  { name: "web2", memory: 256, preferredServers: [CRASHED, "ovs1"], priority: 80 },
  { name: "db1", memory: 256, preferredServers: [DRAINED, "ovs1"], priority: 90 },
  { name: "app1", memory: 256, preferredServers: [DRAINED, "ovs1"] },
];



interface Resources {
  cli?: CliStack;
  labDir?: string;
  info?: LabInfo;
  tmp?: string;
  wd?: Watchdog;
}

async function cleanup(r: Resources, screen: DemoScreen): Promise<void> {
  if (r.wd) {
    const wd = r.wd;
    r.wd = undefined;
    await wd.stop().catch(() => undefined);
  }
  if (r.cli) {
    const cli = r.cli;
    r.cli = undefined;
    await cli.remove().catch(() => undefined);
  }
  if (r.labDir) {
    const dir = r.labDir;
    r.labDir = undefined;
    screen.step("cleaning up: watchdog stopped, lab down");
    await lab.labDown(dir).catch((e) => screen.fail(`lab down: ${(e as Error).message}`));
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (r.tmp) fs.rmSync(r.tmp, { recursive: true, force: true });
  r.tmp = undefined;
}

async function main(screen: DemoScreen, res: Resources): Promise<boolean> {
  if (process.getuid && process.getuid() !== 0) throw new Error("the demo starts a lab (namespaces, loop devices, cgroups): run it as root");
  res.tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-demo-"));
  res.labDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-demo-lab-"));

  screen.title("ovm-ha demo: an HA Oracle VM pool as code, on 3 simulated servers");
  screen.step("starting the lab (3 servers, NFS storage)");
  const info = await lab.labUp({ dir: res.labDir, servers: 3, memoryMb: 2048, lunSizeMb: 64 });
  res.info = info;
  screen.done(`lab up: ${info.servers.map((s) => `${s.name} ${s.address}`).join(", ")}`);

  // --- apply the NFS example -------------------------------------------------------------------------------
  const stackConfig = labStackConfig(info, "nfs", { guests: GUESTS, timing: TIMING });
  // The real Pulumi CLI where it is on PATH or was built by scripts/setup; else the engine harness, said in one line.
  let cliMissing: string | undefined;
  if (process.env.OVM_HA_DEMO_ENGINE === "harness") cliMissing = "OVM_HA_DEMO_ENGINE=harness";
  else {
    try {
      locatePulumi();
    } catch (e) {
      cliMissing = (e as Error).message;
    }
  }
  let clusterRoot: string;
  let placement: Record<string, string>;
  if (!cliMissing) {
    screen.step("creating the stack: pulumi login file://..., pulumi config set (the SSH key with --secret, on stdin)");
    const cli = await CliStack.create({ project: EXAMPLE_PROJECTS.nfs, main: "dist/examples/nfs/index.js", stack: "demo" });
    res.cli = cli;
    await cli.setAllConfig(stackConfig);
    screen.done(`stack ${cli.name} of ${EXAMPLE_PROJECTS.nfs} on a local backend (${cli.binDir}/pulumi)`);
    screen.step("pulumi preview (examples/nfs)");
    const plan = await cli.preview();
    if (plan.error) throw new Error(`pulumi preview failed:\n${plan.stdout}\n${plan.stderr}`);
    // The CLI's progress lines ("@ previewing update....") are for a live terminal only.
    screen.output(plan.stdout.split("\n").filter((l) => !l.startsWith("@ ")).join("\n"));
    screen.done(`preview: ${Object.values(plan.byName()).filter((op) => op === "create").length} to create, nothing run on the servers`);
    screen.step("pulumi up");
    const up = await cli.up();
    if (up.error) throw new Error(`pulumi up failed:\n${up.stdout}\n${up.stderr}`);
    const outputs = (await cli.stackOutputs()) as { clusterRoot: string; guests: Record<string, string> };
    clusterRoot = outputs.clusterRoot;
    placement = outputs.guests;
    screen.done(`up: ${Object.values(up.byName()).filter((op) => op === "create").length} created in ${(up.ms / 1000).toFixed(1)} s; cluster root ${clusterRoot}; guests ${GUESTS.map((g) => `${g.name}@${placement[g.name]}`).join(", ")}`);
  } else {
    screen.note(`${cliMissing}: the demo drives the example's providers through the SDK's own dynamic-provider host instead, as pulumi up would`);
    const stack = new Stack({ project: EXAMPLE_PROJECTS.nfs, projectDir: PROJECT_DIR, stateFile: path.join(res.tmp, "state.json") });
    for (const [k, v] of Object.entries(stackConfig)) stack.setConfig(k, v.value, { secret: v.secret });
    screen.step("pulumi preview (examples/nfs)");
    const plan = await stack.preview(nfsPool);
    if (plan.errors.length) throw new Error(`preview failed: ${plan.errors.map((e) => e.message).join("; ")}`);
    screen.done(`preview: ${plan.ops("create").length} to create (${plan.steps.map((s) => s.name).join(", ")}), nothing run on the servers`);
    screen.step("pulumi up");
    const t0 = Date.now();
    const up = await stack.up(nfsPool);
    if (up.errors.length) throw new Error(`up failed: ${up.errors.map((e) => e.message).join("; ")}`);
    clusterRoot = stack.resource("cluster")!.outputs.clusterRoot as string;
    placement = Object.fromEntries(GUESTS.map((g) => [g.name, String(stack.resource(g.name)!.outputs.runningOn)]));
    screen.done(`up: ${up.ops("create").length} created in ${((Date.now() - t0) / 1000).toFixed(1)} s; cluster root ${clusterRoot}; guests ${GUESTS.map((g) => `${g.name}@${placement[g.name]}`).join(", ")}`);
  }

  // --- the watchdog --------------------------------------------------------------------------------------
  const events: LogLine[] = [];
  const labPower = (action: string) => [process.execPath, path.join(PROJECT_ROOT_DIST, "lab", "power-cli.js"), action, "{server}", "--dir", res.labDir];
  const config = parseWatchdogConfig({
    pool: { addresses: info.servers.map((s) => s.address), clusterRoot },
    ssh: { user: "root", privateKeyFile: info.privateKeyPath, knownHostsFile: info.knownHostsPath },
    // The lab's IPMI: `ovm-ha lab power off SERVER`, confirmed by `ovm-ha lab power status SERVER`.
    fence: { "*": { off: labPower("off"), status: labPower("status"), timeoutMs: 15000 } },
    stateFile: path.join(res.tmp, "watchdog-state.json"),
    log: { level: "info" },
  });
  const logFile = path.join(res.tmp, "watchdog.log");
  const logger = pino({ level: "info" }, pino.destination({ dest: logFile, sync: true }));
  screen.step("starting the watchdog (fence: the lab's power switch)");
  const wd = new Watchdog({ config, logger, onLog: (l) => { events.push(l); screen.event(l); }, processMetrics: false });
  res.wd = wd;
  await wd.start();
  const runningOn = (g: string) => {
    const st = wd.state?.guests[g]?.status;
    return st?.state === "running" ? st.server : undefined;
  };
  await waitFor("the watchdog to see every guest running", () => GUESTS.every((g) => runningOn(g.name)), 20000);
  screen.done(`watchdog: ${info.servers.length} servers up, ${GUESTS.length} HA guests watched, heartbeat every ${TIMING.heartbeatIntervalMs} ms`);

  // --- crash -------------------------------------------------------------------------------------------------
  const victims = GUESTS.filter((g) => runningOn(g.name) === CRASHED).map((g) => g.name);
  screen.title(`1. ${CRASHED} crashes with ${victims.join(", ")} on it`);
  screen.watch(Date.now());
  const crashAt = Date.now();
  await lab.crash(info, CRASHED);
  await waitFor(`${victims.join(", ")} to run elsewhere`, () => victims.every((g) => runningOn(g) && runningOn(g) !== CRASHED), 40000);
  const failoverMs = Math.max(...victims.map((g) => (events.find((e) => e.event === "guest-running" && e.guest === g && e.t >= crashAt)?.t ?? Date.now()) - crashAt));
  const detectMs = (events.find((e) => e.event === "server-failed" && e.server === CRASHED && e.t >= crashAt)?.t ?? NaN) - crashAt;
  screen.done(`failover complete: detected after ${(detectMs / 1000).toFixed(1)} s, every guest running again ${(failoverMs / 1000).toFixed(1)} s after the crash`);

  // --- planned shutdown ------------------------------------------------------------------------------------------
  const drained = GUESTS.filter((g) => runningOn(g.name) === DRAINED).map((g) => g.name);
  screen.title(`2. planned shutdown of ${DRAINED} (\`ovm-ha lab shutdown ${DRAINED}\`) with ${drained.join(", ")} on it`);
  screen.watch(Date.now());
  const shutAt = Date.now();
  await lab.shutdown(info, DRAINED);
  const drainMs = Date.now() - shutAt;
  const migrated = events.filter((e) => e.event === "guest-migrate" && e.t >= shutAt).map((e) => e.guest);
  const restartedInDrain = events.filter((e) => e.event === "guest-start" && e.t >= shutAt).map((e) => e.guest);
  screen.done(`${DRAINED} is off after ${(drainMs / 1000).toFixed(1)} s; migrated live: ${migrated.join(", ") || "none"}`);
  screen.watch(undefined);

  // --- verdict and summary -------------------------------------------------------------------------------------
  screen.title("3. verdict");
  await sleep(600); // a few more run records from the guests' new homes
  const check = await checkLab(info.dir);
  const where: Record<string, string[]> = {};
  for (const s of info.servers) {
    const r = await lab.inServer(info, s.name, ["xm", "list"]).catch(() => undefined);
    if (!r || r.code !== 0) continue;
    for (const line of r.stdout.split("\n").slice(1)) {
      const n = line.trim().split(/\s+/)[0];
      if (n && n !== "Domain-0") (where[n] ??= []).push(s.name);
    }
  }
  const lost = GUESTS.filter((g) => (where[g.name] ?? []).length !== 1).map((g) => `${g.name} on ${(where[g.name] ?? []).length} servers`);
  screen.line(`split-brain checker: ${check.ok ? "ok: no guest ever ran on two servers at once" : formatCheckReport(check)}`);
  const okAll =
    check.ok && lost.length === 0 && victims.length > 0 && drained.length > 0 &&
    drained.every((g) => migrated.includes(g)) && restartedInDrain.length === 0 &&
    GUESTS.every((g) => (where[g.name] ?? [])[0] === "ovs1" || (where[g.name] ?? [])[0] === CRASHED);
  screen.line(`guests now: ${GUESTS.map((g) => `${g.name}@${(where[g.name] ?? ["nowhere"]).join("+")}`).join(", ")}`);
  screen.summary(
    `SUMMARY: ${okAll ? "OK" : "FAILED"}: failover ${(failoverMs / 1000).toFixed(1)} s after the crash (detection ${(detectMs / 1000).toFixed(1)} s); ` +
      `${victims.length} guests restarted, ${migrated.length} migrated live; ${lost.length === 0 ? "nothing lost" : `lost: ${lost.join(", ")}`}; ` +
      `split-brain check ${check.ok ? "ok" : "FAILED"}`,
  );
  if (!okAll) screen.line(`watchdog log: ${logFile} (kept)`);
  return okAll;
}

const PROJECT_ROOT_DIST = path.resolve(__dirname, "..");

async function run(): Promise<void> {
  const screen = new DemoScreen(process.stdout);
  const res: Resources = {};
  let exiting = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (exiting) return;
    exiting = true;
    screen.fail(`${sig}: stopping`);
    void cleanup(res, screen).finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let ok = false;
  const started = Date.now();
  try {
    ok = await main(screen, res);
  } catch (e) {
    screen.fail((e as Error).message);
  }
  if (exiting) return;
  exiting = true;
  // The log is the evidence when something failed: keep the temp dir then.
  if (!ok && res.tmp) res.tmp = undefined;
  await cleanup(res, screen);
  screen.line(`demo ${ok ? "passed" : "FAILED"} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.exit(ok ? 0 : 1);
}

void run();
