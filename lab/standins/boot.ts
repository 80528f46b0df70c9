// Power-on of a lab server (run inside it before sshd): what the kernel and the init scripts of a real Oracle VM
// server would do. Fresh mtab and /run state, SAN disks attached, iSCSI sessions to every node record, o2cb online
// when enabled, fstab _netdev OCFS2/NFS lines and registered repositories mounted. Failures are logged, never fatal.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { attachDisk, detachAllDisks } from "../devices";
import { iscsiService } from "./init-iscsi";
import { o2cbService } from "./init-o2cb";
import { mountAll } from "./mount";
import { mountRepositories } from "./ovs-makerepo";
import { BOOT_MTAB, writeMtab } from "../storage/mtab";
import { readRecords } from "../storage/iscsi-state";
import { readSysconfig } from "../storage/o2cb-state";
import { readRepositories } from "../storage/repositories";
import { Io, loadContext, processIo, serverPath, StandinContext } from "../storage/server-context";

const RC3 = "/etc/rc.d/rc3.d";

/**
 * EL5's rc 3: every /etc/rc.d/rc3.d/S* script with "start", in order. On EL5 sshd (S55) starts before the late
 * services (the ovm-ha agent is S98), so they run in the background here while the lab's boot goes on to sshd;
 * each init script bounds itself. Their output goes to /var/log/ovm-lab-rc3.log.
 */
function startServices(io: Io): void {
  const scripts = fs.existsSync(RC3) ? fs.readdirSync(RC3).filter((f) => f.startsWith("S")).sort() : [];
  if (scripts.length === 0) return;
  const log = fs.openSync("/var/log/ovm-lab-rc3.log", "a");
  const child = spawn("/bin/sh", ["-c", 'for f in "$@"; do echo "rc3: $f start"; "$f" start; echo "rc3: $f start: exit $?"; done', "rc3", ...scripts.map((x) => path.join(RC3, x))], {
    detached: true,
    stdio: ["ignore", log, log],
    cwd: "/",
  });
  child.unref();
  fs.closeSync(log);
  io.out(`boot: starting ${scripts.join(" ")} (rc3.d) in the background\n`);
}

export async function boot(ctx: StandinContext, io: Io): Promise<number> {
  const step = async (what: string, fn: () => Promise<unknown> | unknown) => {
    try {
      await fn();
    } catch (e) {
      io.err(`boot: ${what}: ${(e as Error).message}\n`);
    }
  };
  io.out(`boot ${ctx.identity.name} ${new Date().toISOString()}\n`);
  await step("mtab", () => writeMtab(ctx, BOOT_MTAB));
  await step("/run", () => {
    for (const d of ["/run/iscsi", "/run/o2cb"]) {
      fs.rmSync(serverPath(ctx, d), { recursive: true, force: true });
      fs.mkdirSync(serverPath(ctx, d), { recursive: true });
    }
  });
  // ocfs2-tools fork+exec /sbin/modprobe and, when that exec fails, the child carries on as a second mkfs.ocfs2.
  // A server whose /sbin became a directory in its own disk (a wrapper written under /sbin hides the host's
  // /sbin -> usr/sbin symlink) would lack it, so make sure it is there.
  await step("modprobe", () => {
    const sbin = serverPath(ctx, "/sbin/modprobe");
    if (!fs.existsSync(sbin) && fs.existsSync(serverPath(ctx, "/usr/sbin/modprobe"))) fs.symlinkSync("/usr/sbin/modprobe", sbin);
  });
  await step("disks", () => detachAllDisks(ctx.labDir, ctx.identity.name));
  for (const san of ctx.lab.storage.san) {
    await step(`SAN ${san.lun}`, () => attachDisk(ctx.labDir, ctx.identity.name, san.lun, path.basename(san.device)));
  }
  if (readRecords(ctx).length > 0) await step("iscsi", () => iscsiService(["start"], ctx, io));
  if (readSysconfig(ctx).enabled) await step("o2cb", () => o2cbService(["start"], ctx, io));
  await step("fstab nfs", () => mountAll(ctx, io, ["nfs", "nfs4"]));
  await step("fstab ocfs2", () => mountAll(ctx, io, ["ocfs2"], ["_netdev"]));
  await step("repositories", () => mountRepositories(ctx, io, readRepositories(ctx)));
  // EL5's rc 3 (the ovm-ha agent starts here), in the background: sshd comes first, as on EL5.
  await step("rc3.d", () => startServices(io));
  return 0;
}

if (require.main === module) {
  boot(loadContext(), processIo).then(
    (code) => { process.exitCode = code; },
    (e) => { process.stderr.write(`boot: ${(e as Error).message}\n`); process.exitCode = 1; },
  );
}
