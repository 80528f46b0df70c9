// `ovm-ha agent`: the self-fencing agent on a server (watchdog/agent/agent.ts). Started by its init script
// (/etc/rc.d/init.d/ovm-ha-agent, installed by ServerPool); SIGTERM stops it cleanly (slot `stopped`, device
// disarmed); it exits non-zero when it cannot start or could not stop cleanly (the device then resets the server).
import { Command } from "commander";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AgentTiming, DEFAULT_AGENT_TIMING } from "../ha/disk-heartbeat";
import { PoolRecordSchema } from "../ha/ha-record";
import { Agent } from "../watchdog/agent/agent";
import { WatchdogDevice } from "../watchdog/agent/watchdog-device";

interface AgentCliOptions {
  server?: string;
  clusterRoot: string;
  device: string;
  bootIdFile: string;
  deviceTimeoutFile?: string;
  pidFile?: string;
  xm: string;
}

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ovm-ha-agent: ${line}\n`);
}

/**
 * The pool record's timing.agent (the watchdog computes its message wait from the same record), or the defaults.
 * Bounded: storage that hangs at start must not hang the agent before it has armed anything.
 */
async function timingOf(clusterRoot: string): Promise<AgentTiming> {
  const file = path.posix.join(clusterRoot, ".ovm-ha", "pool.json");
  let text: string;
  try {
    text = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`reading ${file}: no answer within 10 s`)), 10000);
      fs.promises.readFile(file, "utf8").then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`cannot read the pool record: ${(e as Error).message}: not starting`);
    log(`no pool record at ${file}: default timing`);
    return { ...DEFAULT_AGENT_TIMING };
  }
  const parsed = PoolRecordSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`the pool record ${file} is invalid (${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}): not starting`);
  return parsed.data.timing.agent;
}

/**
 * The device's own timeout where the kernel shows it (/sys/class/watchdog/watchdogN/timeout, seconds): longer than
 * timing.agent.deviceTimeoutMs would make the watchdog's message wait too short, so the agent refuses to start.
 */
function checkDeviceTimeout(file: string, timing: AgentTiming): void {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    log(`cannot verify the device's timeout (${file} not readable): it must be at most ${timing.deviceTimeoutMs} ms (timing.agent.deviceTimeoutMs)`);
    return;
  }
  const seconds = Number(text.trim());
  if (Number.isFinite(seconds) && seconds * 1000 > timing.deviceTimeoutMs) {
    throw new Error(`the watchdog device's timeout is ${seconds} s (${file}), longer than timing.agent.deviceTimeoutMs ${timing.deviceTimeoutMs} ms: a storage fence would declare this server off too early. Load softdog with soft_margin=${Math.floor(timing.deviceTimeoutMs / 1000)} or raise timing.agent.deviceTimeoutMs`);
  }
}

function sysfsTimeoutFile(device: string): string {
  const m = /^\/dev\/(watchdog\d+)$/.exec(device);
  return `/sys/class/watchdog/${m ? m[1] : "watchdog0"}/timeout`;
}

export function agentCommand(): Command {
  return new Command("agent")
    .description("the self-fencing agent on a server: disk heartbeat in its slot on the shared storage, poison pill, watchdog device")
    .requiredOption("--cluster-root <dir>", "the pool's cluster root as mounted on this server (holds .ovm-ha/)")
    .option("--server <name>", "this server's name in the pool record (default: the host name)")
    .option("--device <path>", "the watchdog device", "/dev/watchdog")
    .option("--boot-id-file <path>", "where this boot's id is read", "/proc/sys/kernel/random/boot_id")
    .option("--device-timeout-file <path>", "the device's timeout in seconds (default /sys/class/watchdog/watchdogN/timeout)")
    .option("--pid-file <path>", "write the agent's pid here once the device is armed")
    .option("--xm <path>", "xm, to destroy the guests when self-fencing", "/usr/sbin/xm")
    .action(async (o: AgentCliOptions) => {
      const server = o.server ?? os.hostname().split(".")[0];
      const clusterRoot = path.posix.resolve(o.clusterRoot);
      const timing = await timingOf(clusterRoot);
      checkDeviceTimeout(o.deviceTimeoutFile ?? sysfsTimeoutFile(o.device), timing);
      const bootId = fs.readFileSync(o.bootIdFile, "utf8").trim();
      if (!bootId) throw new Error(`${o.bootIdFile} is empty: no boot id`);
      // As SBD and wdmd do (they go further, with realtime scheduling): a starved agent misses feeds and resets a
      // healthy server. The highest nice priority keeps it ahead of a saturated dom0's ordinary work.
      raisePriority(log);
      const agent = new Agent({ server, clusterRoot, timing, device: new WatchdogDevice(o.device), bootId, xm: o.xm, log });
      let stopping = false;
      const stop = (sig: string) => {
        if (stopping) return;
        stopping = true;
        log(`${sig}: stopping`);
        void agent.stop().then((clean) => process.exit(clean ? 0 : 1));
      };
      process.on("SIGTERM", () => stop("SIGTERM"));
      process.on("SIGINT", () => stop("SIGINT"));
      process.on("SIGHUP", () => log("SIGHUP ignored"));
      await agent.start();
      if (o.pidFile) fs.writeFileSync(o.pidFile, `${process.pid}\n`);
      log(`running as ${server} (pid ${process.pid})`);
      // Runs until stopped; while self-fencing it keeps the device open (unfed) until the reset.
      setInterval(() => undefined, 1 << 30);
      await new Promise(() => undefined);
    });
}

/**
 * nice -20 for every thread of the agent, and for its autogroup. setpriority() on a pid changes one thread only on
 * Linux, and the slot writes and pill reads (the lease) run on libuv's pool threads, started by the first file
 * read (timingOf, above); with autogroup scheduling the session's own nice level is what weighs against other
 * sessions (the init script starts the agent with setsid). Measured by the soak: only the main thread had -20.
 */
function raisePriority(log: (line: string) => void): void {
  const failed: string[] = [];
  let tids: string[] = [];
  try {
    tids = fs.readdirSync("/proc/self/task");
  } catch {
    tids = [String(process.pid)];
  }
  for (const tid of tids) {
    try {
      os.setPriority(Number(tid), -20);
    } catch (e) {
      failed.push(`thread ${tid}: ${(e as Error).message}`);
    }
  }
  try {
    if (fs.existsSync("/proc/self/autogroup")) fs.writeFileSync("/proc/self/autogroup", "-20");
  } catch (e) {
    failed.push(`autogroup: ${(e as Error).message}`);
  }
  if (failed.length) log(`could not raise the agent's priority everywhere (${failed.join("; ")}): it competes with ordinary processes for the CPU there`);
}
