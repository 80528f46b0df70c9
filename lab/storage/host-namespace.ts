// Loop devices live in the host's mount namespace (a server's /dev holds only the nodes the lab made for it), so
// lab code running inside a server enters the host's namespace to run losetup/sfdisk on them. Pid 2 (kthreadd) is
// used rather than pid 1: on the lab machine pid 1 is not dumpable and its /proc/1/ns/mnt cannot be opened.
import * as fs from "fs";
import { execFile, execFileSync } from "child_process";
import { promisify } from "util";

const execFileAsync = promisify(execFile);
const HOST_MNT_NS = "/proc/2/ns/mnt";

export function inHostNamespace(): boolean {
  try {
    return fs.readlinkSync("/proc/self/ns/mnt") === fs.readlinkSync(HOST_MNT_NS);
  } catch {
    // Cannot read pid 2's namespace: assume we are on the host (nsenter would fail anyway).
    return true;
  }
}

/** argv to run a host tool in the host's mount namespace from wherever we are. */
export function hostArgv(argv: string[]): string[] {
  return inHostNamespace() ? argv : ["nsenter", `--mount=${HOST_MNT_NS}`, "--", ...argv];
}

export async function runOnHost(argv: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const [cmd, ...args] = hostArgv(argv);
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number | string };
    return { stdout: err.stdout ?? "", stderr: err.stderr ?? String(e), code: typeof err.code === "number" ? err.code : 1 };
  }
}

export function runOnHostSync(argv: string[]): string {
  const [cmd, ...args] = hostArgv(argv);
  return execFileSync(cmd, args, { encoding: "utf8" });
}
