// `lab storage-loss SERVER [--mode fail|hang]` and `lab storage-restore SERVER`: one server loses its shared
// storage while the others keep it. Over every shared-storage path the server sees (the lab's storage directory,
// which a pool on the lab's NFS export uses at its host path, and each OCFS2/NFS mount in the server's /etc/mtab),
// a FUSE passthrough (lab/storage-fuse.py) is mounted in THAT server's mount namespace only; the storage behind it
// is bound aside first (under the server's /run) so the passthrough can reach it. Its mode file decides: `fail`
// answers EIO to every operation, `hang` answers nothing until the mode changes (the caller waits in the kernel,
// as on a dead NFS hard mount or iSCSI path). Restore sets the mode back to ok (waiting operations complete, as
// queued I/O does when a path returns), then unmounts and stops the passthroughs.
//
// The passthroughs run in a cgroup of their own beside the server's (not frozen by `lab hang`), and a power off or
// a watchdog reset stops them BEFORE the server's processes are killed: a process waiting on a FUSE answer cannot
// die until it gets one (the connection's end answers it). A boot mounts the storage afresh: the fault ends with
// the power cycle, like every other fault switch.
import { execFile, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { ensureCgroup, isFrozen, killCgroup, serverCgroupDir, storageFaultCgroupDir } from "./cgroup";
import { faultsDir } from "./faults";
import { LabInfo, layout } from "./layout";
import { readMtab } from "./storage/mtab";
import { PROJECT_ROOT, serverIsRunning, serverNamespacePid } from "./server";

const execFileAsync = promisify(execFile);

export type StorageLossMode = "fail" | "hang";

export const storageLossFiles = {
  /** `{ "mode": "fail" | "hang" | "ok", "paths": [...] }`, read by every passthrough at every operation. */
  mode: (dir: string, name: string) => path.join(faultsDir(dir, name), "storage.json"),
};

export interface StorageLossState {
  mode: StorageLossMode | "ok";
  /** The paths (as the server sees them) under the passthrough. */
  paths: string[];
  since: string;
}

export function storageLossState(dir: string, name: string): StorageLossState | undefined {
  try {
    const s = JSON.parse(fs.readFileSync(storageLossFiles.mode(dir, name), "utf8")) as StorageLossState;
    return s.mode === "ok" ? undefined : s;
  } catch {
    return undefined;
  }
}

function writeMode(dir: string, name: string, s: StorageLossState): void {
  const file = storageLossFiles.mode(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(s) + "\n");
  fs.renameSync(`${file}.tmp`, file);
}

/** The shared-storage paths of the server: the lab's storage dir and its OCFS2/NFS mounts (from its mtab). */
function storagePaths(info: LabInfo, name: string): string[] {
  const mtab = readMtab({ root: `/proc/${serverNamespacePid(info, name)}/root` }).filter((e) => e.type === "ocfs2" || e.type === "nfs" || e.type === "nfs4");
  return [path.join(info.dir, "storage"), ...mtab.map((e) => e.dir)];
}

/** Mount points of type fuse in the server's namespace (mountinfo shows them relative to the server's root). */
async function fuseMounts(info: LabInfo, name: string): Promise<string[]> {
  const text = fs.readFileSync(`/proc/${serverNamespacePid(info, name)}/mountinfo`, "utf8");
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const [pre, post] = line.split(" - ");
    if (post && post.startsWith("fuse")) out.push(pre.split(" ")[4].replace(/\\040/g, " "));
  }
  return out;
}

async function inNamespace(info: LabInfo, name: string, argv: string[]): Promise<void> {
  const pid = serverNamespacePid(info, name);
  await execFileAsync("nsenter", [`--target=${pid}`, "--mount", "--root", "--wd", "--", ...argv], { cwd: "/", timeout: 20000 });
}

export async function storageLoss(info: LabInfo, name: string, mode: StorageLossMode): Promise<StorageLossState> {
  if (mode !== "fail" && mode !== "hang") throw new Error(`storage-loss --mode takes 'fail' or 'hang', got '${mode}'`);
  if (!serverIsRunning(info, name)) throw new Error(`server ${name} is powered off: no storage to lose`);
  const python = "/usr/bin/python3";
  try {
    await execFileAsync(python, ["-c", "import fusepy"]);
  } catch {
    throw new Error("lab storage-loss needs python3-fusepy (and /dev/fuse): apt-get install -y python3-fusepy (scripts/setup installs it)");
  }
  const current = storageLossState(info.dir, name);
  const paths = current?.paths ?? storagePaths(info, name);
  writeMode(info.dir, name, { mode, paths, since: new Date().toISOString() });
  if (current) return { mode, paths, since: new Date().toISOString() };
  const cg = storageFaultCgroupDir(info.slot, name);
  ensureCgroup(cg);
  const script = path.join(PROJECT_ROOT, "lab", "storage-fuse.py");
  const pid = serverNamespacePid(info, name);
  const log = fs.openSync(path.join(layout.serverDir(info.dir, name), "storage-loss.log"), "a");
  paths.forEach((p, i) => {
    const aside = `/run/ovm-lab-storage-loss/${i}`;
    // In the server's namespace and root: bind the storage aside, then the passthrough over the path.
    const inner = 'set -e; mkdir -p "$2"; mount --bind "$3" "$2"; exec "$4" "$5" "$1" "$2" "$3"';
    const child = spawn("/bin/sh", ["-c", 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', "storage-loss", cg,
      "nsenter", `--target=${pid}`, "--mount", "--root", "--wd", "--", "/bin/sh", "-c", inner, "inner",
      storageLossFiles.mode(info.dir, name), aside, p, python, script], { detached: true, stdio: ["ignore", log, log], cwd: "/" });
    child.unref();
  });
  fs.closeSync(log);
  // Mounted once every path shows a fuse mount in the server's namespace.
  const deadline = Date.now() + 10000;
  for (;;) {
    const mounted = await fuseMounts(info, name);
    if (paths.every((p) => mounted.includes(p))) break;
    if (Date.now() > deadline) {
      await storageRestore(info, name).catch(() => undefined);
      throw new Error(`storage-loss ${name}: the passthrough did not mount on ${paths.filter((p) => !mounted.includes(p)).join(", ")} within 10 s (see ${path.join(layout.serverDir(info.dir, name), "storage-loss.log")})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { mode, paths, since: new Date().toISOString() };
}

/** Storage back: waiting operations complete, the passthroughs are unmounted and stopped. */
export async function storageRestore(info: LabInfo, name: string): Promise<void> {
  const current = storageLossState(info.dir, name);
  const paths = current?.paths ?? [];
  writeMode(info.dir, name, { mode: "ok", paths, since: new Date().toISOString() });
  if (serverIsRunning(info, name) && !isFrozen(serverCgroupDir(info.slot, name))) {
    for (const [i, p] of paths.entries()) {
      await inNamespace(info, name, ["sh", "-c", 'umount -l "$1" 2>/dev/null; umount -l "$2" 2>/dev/null; true', "restore", p, `/run/ovm-lab-storage-loss/${i}`]).catch(() => undefined);
    }
  }
  await killCgroup(storageFaultCgroupDir(info.slot, name));
  fs.rmSync(storageLossFiles.mode(info.dir, name), { force: true });
}
