// Looks at guest processes through /proc (servers share the host's pid namespace, so a pid seen in a server
// is the same everywhere). A record remembers the process start time too, so a recycled pid is not taken for
// the guest.
import * as fs from "fs";

const CLOCK_TICKS = 100;

interface ProcStat {
  state: string;
  utime: number;
  stime: number;
  startTicks: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may contain spaces; fields after it are space-separated.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: rest[0], utime: Number(rest[11]), stime: Number(rest[12]), startTicks: Number(rest[19]) };
}

export function processStartTicks(pid: number): number | undefined {
  return readStat(pid)?.startTicks;
}

/** True while the process exists and is not a zombie (a zombie no longer runs the guest). */
export function isProcessAlive(pid: number, startTicks?: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const st = readStat(pid);
  if (!st || st.state === "Z" || st.state === "X") return false;
  return startTicks === undefined || st.startTicks === startTicks;
}

/** True when the process is stopped by a signal (SIGSTOP: a paused guest). */
export function isProcessStopped(pid: number): boolean {
  const st = readStat(pid);
  return st?.state === "T";
}

export function cpuSeconds(pid: number): number {
  const st = readStat(pid);
  return st ? (st.utime + st.stime) / CLOCK_TICKS : 0;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls /proc until the process is gone; false on timeout. */
export async function waitProcessGone(pid: number, startTicks: number | undefined, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid, startTicks)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}
