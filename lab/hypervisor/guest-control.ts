// Starts and stops guest processes (lab/guest/guest.pl). A guest runs detached in its own session, stdio on
// /dev/null, so it outlives the xm command and the ssh channel that started it.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { siblingGuestsCgroup } from "../cgroup";
import { DomainRecord } from "./domain-store";
import { isProcessAlive, isProcessStopped, processStartTicks, waitProcessGone } from "./process-probe";
import { VmConfig, firstFileDisk } from "./vm-config";

/** guest.pl is not compiled; found in the source tree beside dist (dist/lab/hypervisor -> lab/guest). */
export function guestScriptPath(): string {
  const candidates = [
    path.resolve(__dirname, "../guest/guest.pl"),
    path.resolve(__dirname, "../../../lab/guest/guest.pl"),
  ];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`guest.pl not found (looked at ${candidates.join(", ")})`);
  return found;
}

/** `<image>.runlog` beside the guest's first file-backed disk. */
export function runlogPath(cfg: VmConfig): string | undefined {
  const disk = firstFileDisk(cfg);
  return disk ? `${disk.target}.runlog` : undefined;
}

export interface StartedGuest {
  pid: number;
  pidStart?: number;
}

/** The guests cgroup of the lab server we run in (beside our dom0 cgroup), if any. */
function guestsCgroup(): string | undefined {
  try {
    return siblingGuestsCgroup(fs.readFileSync("/proc/self/cgroup", "utf8"));
  } catch {
    return undefined;
  }
}

export function startGuest(server: string, name: string, runlog: string | undefined): StartedGuest {
  const argv = ["perl", guestScriptPath(), server, runlog ?? "-", name];
  // Out of dom0's cgroup before the guest runs a single line: a hung dom0 must not freeze its guests (on Xen,
  // guests keep running when dom0 hangs); a crash of the whole server still kills them.
  const cg = guestsCgroup();
  const child = cg
    ? spawn("/bin/sh", ["-c", 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', "guest", cg, ...argv], { detached: true, stdio: "ignore", cwd: "/" })
    : spawn(argv[0], argv.slice(1), { detached: true, stdio: "ignore", cwd: "/" });
  if (child.pid === undefined) throw new Error("could not start the guest process");
  child.unref();
  return { pid: child.pid, pidStart: processStartTicks(child.pid) };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** Clean shutdown request: the guest stops recording at once and exits shortly after. */
export function requestShutdown(rec: DomainRecord): void {
  if (rec.pid > 0) {
    signal(rec.pid, "SIGCONT"); // a paused guest must run to handle SIGTERM
    signal(rec.pid, "SIGTERM");
  }
}

/** Kills the guest and waits until /proc shows it gone; false if it would not die (frozen in a hung cgroup). */
export async function killGuest(rec: DomainRecord, timeoutMs = 5000): Promise<boolean> {
  if (rec.pid <= 0) return true;
  signal(rec.pid, "SIGKILL");
  return waitProcessGone(rec.pid, rec.pidStart, timeoutMs);
}

/** SIGSTOP, then wait (bounded) until /proc shows it stopped: a signal is delivered when the process next runs. */
export async function pauseGuest(rec: DomainRecord, timeoutMs = 2000): Promise<void> {
  signal(rec.pid, "SIGSTOP");
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(rec.pid, rec.pidStart) && !isProcessStopped(rec.pid) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function unpauseGuest(rec: DomainRecord): void {
  signal(rec.pid, "SIGCONT");
}
