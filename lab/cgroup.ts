// One cgroup (v2) per lab server: the lab's handle on "every process of the server", so that a crash kills them
// all at once and a hang freezes them without racing against forks. Inside it, two leaves: `dom0` (sshd, xm,
// agents: everything dom0 runs) and `guests` (the guest processes). On Xen a hung dom0 leaves its guests
// running, so `lab hang` freezes `dom0` only; `lab hang --machine` and `lab crash` act on the whole server.
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

/** `lab storage-loss`: the server's FUSE passthroughs, beside its cgroup (a hang must not freeze them). */
export function storageFaultCgroupDir(slot: number, server: string): string {
  return path.join(labCgroupDir(slot), `storage-${server}`);
}

/** Dom0's processes: sshd and everything it starts (xm, agents). */
export function dom0CgroupDir(slot: number, server: string): string {
  return path.join(serverCgroupDir(slot, server), "dom0");
}

/** The server's guest processes (started by xm create / migrations into the server). */
export function guestsCgroupDir(slot: number, server: string): string {
  return path.join(serverCgroupDir(slot, server), "guests");
}

/**
 * Inside a server: the guests cgroup beside the dom0 cgroup the caller runs in (from /proc/self/cgroup), or
 * undefined when the caller is not in a lab server's dom0 (a unit test on the host).
 */
export function siblingGuestsCgroup(procSelfCgroup: string): string | undefined {
  const m = /^0::(\/(?:.*\/)?ovm-ha-lab-\d+\/[^/]+)\/dom0$/m.exec(procSelfCgroup);
  return m ? path.join(cgroupRoot(), m[1], "guests") : undefined;
}

export function ensureCgroup(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
}

/** Processes of the cgroup and of every cgroup below it. */
export function cgroupPids(dir: string): number[] {
  let own: number[];
  try {
    own = fs.readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
  let children: fs.Dirent[] = [];
  try {
    children = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
  } catch {
    /* vanished meanwhile */
  }
  return [...own, ...children.flatMap((c) => cgroupPids(path.join(dir, c.name)))];
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

function thawTree(dir: string): void {
  try { setFrozen(dir, false); } catch { /* no freezer, or gone */ }
  try {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) thawTree(path.join(dir, e.name));
  } catch { /* gone */ }
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
    // A frozen task dies only once thawed on some kernels (a hung dom0 is a frozen child cgroup).
    thawTree(dir);
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
