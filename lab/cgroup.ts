// One cgroup (v2) per lab server: the lab's handle on "every process of the server", so that a crash kills them
// all at once and a hang freezes them all without racing against forks.
import * as fs from "fs";
import * as path from "path";

function cgroupRoot(): string {
  for (const candidate of ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]) {
    if (fs.existsSync(path.join(candidate, "cgroup.procs")) && fs.existsSync(path.join(candidate, "cgroup.max.depth"))) {
      return candidate;
    }
  }
  throw new Error("the lab needs a cgroup v2 hierarchy (/sys/fs/cgroup or /sys/fs/cgroup/unified) and found none");
}

export function labCgroupDir(slot: number): string {
  return path.join(cgroupRoot(), `ovm-ha-lab-${slot}`);
}

export function serverCgroupDir(slot: number, server: string): string {
  return path.join(labCgroupDir(slot), server);
}

export function ensureCgroup(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
}

export function cgroupPids(dir: string): number[] {
  try {
    return fs.readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function setFrozen(dir: string, frozen: boolean): void {
  fs.writeFileSync(path.join(dir, "cgroup.freeze"), frozen ? "1" : "0");
}

export function isFrozen(dir: string): boolean {
  try {
    return /^frozen 1$/m.test(fs.readFileSync(path.join(dir, "cgroup.events"), "utf8"));
  } catch {
    return false;
  }
}

/** Kills every process of the cgroup (frozen ones too) and waits until it is empty. */
export async function killCgroup(dir: string, timeoutMs = 10000): Promise<void> {
  if (!fs.existsSync(dir)) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (cgroupPids(dir).length === 0) return;
    if (fs.existsSync(path.join(dir, "cgroup.kill"))) {
      fs.writeFileSync(path.join(dir, "cgroup.kill"), "1");
    } else {
      for (const pid of cgroupPids(dir)) {
        try { process.kill(pid, "SIGKILL"); } catch { /* already gone */ }
      }
    }
    // A frozen task dies only once thawed on some kernels.
    try { setFrozen(dir, false); } catch { /* no freezer */ }
    if (Date.now() > deadline) throw new Error(`processes of cgroup ${dir} did not die within ${timeoutMs} ms: ${cgroupPids(dir).join(" ")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function removeCgroupTree(dir: string): Promise<void> {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await removeCgroupTree(path.join(dir, entry.name));
  }
  await killCgroup(dir);
  for (let i = 0; ; i++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
