// The host's side of each lab server's hardware watchdog: where its files are, its timeout, starting and stopping
// its timer process (lab/hw-watchdog.ts), and the lab's own record of the resets it made. The timer process runs
// on the host in a cgroup of its own beside the server's (ovm-ha-lab-SLOT/hwwd-NAME), as a watchdog chip's timer
// runs outside the OS it watches: `lab hang` (dom0 or machine) freezes the server, never its timer. A power off
// (`lab crash`, `lab power off`) stops it, as it cuts the chip's power; a power on starts it again, stopped
// (disarmed) until something in the server opens /dev/watchdog.
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ensureCgroup, killCgroup, labCgroupDir } from "./cgroup";
import { LabInfo, layout } from "./layout";

/** softdog's default soft_margin is 60 s; the lab's matches the agent's default device timeout (4 s). */
export const DEFAULT_HW_WATCHDOG_TIMEOUT_MS = 4000;

export const hwWatchdogFiles = {
  /** The lab-wide timeout (like softdog's soft_margin module parameter): `{ "timeoutMs": N }`. */
  config: (dir: string) => path.join(dir, "hw-watchdog.json"),
  /** The device node inside the server (/dev/watchdog): a FIFO in the server's /dev, read by the timer. */
  device: (dir: string, name: string) => path.join(layout.serverDev(dir, name), "watchdog"),
  /** The timer's state as last changed (open, armed, last keepalive): `lab status` shows it. */
  state: (dir: string, name: string) => path.join(layout.serverDir(dir, name), "hw-watchdog.state.json"),
  /** One JSON line per reset the timer made: the lab's own record (tests assert on it). */
  resets: (dir: string, name: string) => path.join(layout.serverDir(dir, name), "hw-watchdog.resets"),
  pid: (dir: string, name: string) => path.join(layout.serverDir(dir, name), "hw-watchdog.pid"),
  log: (dir: string, name: string) => path.join(layout.serverDir(dir, name), "hw-watchdog.log"),
};

export function hwWatchdogCgroupDir(slot: number, name: string): string {
  return path.join(labCgroupDir(slot), `hwwd-${name}`);
}

export function hwWatchdogTimeoutMs(dir: string): number {
  try {
    const v = JSON.parse(fs.readFileSync(hwWatchdogFiles.config(dir), "utf8")).timeoutMs;
    if (Number.isInteger(v) && v > 0) return v;
  } catch {
    /* not set: the default */
  }
  return DEFAULT_HW_WATCHDOG_TIMEOUT_MS;
}

/** Sets the lab's watchdog timeout; it applies from the next open of /dev/watchdog on each server. */
export function setHwWatchdogTimeout(dir: string, timeoutMs: number): void {
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 3600000) {
    throw new Error(`the hardware watchdog's timeout must be a whole number of milliseconds from 100 to 3600000, got ${timeoutMs}`);
  }
  const file = hwWatchdogFiles.config(dir);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify({ timeoutMs }) + "\n");
  fs.renameSync(`${file}.tmp`, file);
}

/** The device FIFO in the server's /dev (made before the server boots, kept across boots). */
export function ensureHwWatchdogDevice(dir: string, name: string): void {
  const dev = hwWatchdogFiles.device(dir, name);
  let st: fs.Stats | undefined;
  try { st = fs.lstatSync(dev); } catch { st = undefined; }
  if (st && st.isFIFO()) return;
  if (st) fs.rmSync(dev, { force: true });
  execFileSync("mkfifo", ["-m", "600", dev]);
}

/** Whether a process is alive (a zombie is not). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

export function hwWatchdogPid(dir: string, name: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(hwWatchdogFiles.pid(dir, name), "utf8"));
    return pid > 0 && alive(pid) && fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("hw-watchdog") ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the server's timer process unless it runs already (it survives the resets it makes). */
export function startHwWatchdog(info: LabInfo, name: string): void {
  if (hwWatchdogPid(info.dir, name) !== undefined) return;
  ensureHwWatchdogDevice(info.dir, name);
  const cg = hwWatchdogCgroupDir(info.slot, name);
  ensureCgroup(cg);
  const log = fs.openSync(hwWatchdogFiles.log(info.dir, name), "a");
  const script = path.join(info.runtime.dist, "lab", "hw-watchdog.js");
  const child = spawn("/bin/sh", ["-c", 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', "hwwd", cg, info.runtime.node, script, info.dir, name], {
    detached: true,
    stdio: ["ignore", log, log],
  });
  fs.closeSync(log);
  child.unref();
  fs.writeFileSync(hwWatchdogFiles.pid(info.dir, name), String(child.pid));
}

/** Power off: the timer stops with the chip (its state says so). */
export async function stopHwWatchdog(info: LabInfo, name: string): Promise<void> {
  await killCgroup(hwWatchdogCgroupDir(info.slot, name));
  fs.rmSync(hwWatchdogFiles.pid(info.dir, name), { force: true });
  const st = readHwWatchdogState(info.dir, name);
  if (st) writeHwWatchdogState(info.dir, name, { ...st, running: false, armed: false, open: false });
}

export interface HwWatchdogStatus {
  /** The timer process runs (the server is powered on). */
  running: boolean;
  armed: boolean;
  open: boolean;
  timeoutMs: number;
  /** Epoch ms of the last keepalive (open or write) while armed. */
  lastKeepaliveAt?: number;
  /** Resets the timer made so far (the lab's record: hw-watchdog.resets). */
  resets?: number;
  lastResetAt?: number;
}

export function readHwWatchdogState(dir: string, name: string): HwWatchdogStatus | undefined {
  try {
    return JSON.parse(fs.readFileSync(hwWatchdogFiles.state(dir, name), "utf8")) as HwWatchdogStatus;
  } catch {
    return undefined;
  }
}

export function writeHwWatchdogState(dir: string, name: string, st: HwWatchdogStatus): void {
  const file = hwWatchdogFiles.state(dir, name);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(st) + "\n");
  fs.renameSync(`${file}.tmp`, file);
}

/** One reset made by the timer. Times are epoch ms. */
export interface HwWatchdogReset {
  server: string;
  /** When the timer expired (the reset began). */
  at: number;
  /** The last keepalive before it (open or write). */
  lastKeepaliveAt: number;
  timeoutMs: number;
  /** When every process of the server (guests included) had ended. */
  killedAt?: number;
  /** When the server answered SSH again after its boot (absent if the boot failed). */
  bootedAt?: number;
  bootError?: string;
}

export function hwWatchdogResets(dir: string, name: string): HwWatchdogReset[] {
  let text = "";
  try {
    text = fs.readFileSync(hwWatchdogFiles.resets(dir, name), "utf8");
  } catch {
    return [];
  }
  // Each reset is written twice: once when it begins, then completed (same `at`); the last line for an `at` wins.
  const byAt = new Map<number, HwWatchdogReset>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as HwWatchdogReset;
      byAt.set(r.at, r);
    } catch {
      /* a torn last line while being written */
    }
  }
  return [...byAt.values()].sort((a, b) => a.at - b.at);
}

export function appendHwWatchdogReset(dir: string, name: string, r: HwWatchdogReset): void {
  fs.appendFileSync(hwWatchdogFiles.resets(dir, name), JSON.stringify(r) + "\n");
}

/** `lab status`: the timer's state, with the resets counted from the lab's record. */
export function hwWatchdogStatus(dir: string, name: string): HwWatchdogStatus {
  const st = readHwWatchdogState(dir, name) ?? { running: false, armed: false, open: false, timeoutMs: hwWatchdogTimeoutMs(dir) };
  const resets = hwWatchdogResets(dir, name);
  return { ...st, running: hwWatchdogPid(dir, name) !== undefined, resets: resets.length, lastResetAt: resets.at(-1)?.at };
}
