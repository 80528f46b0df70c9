// umount for lab servers: undoes the mount stand-in's bind mounts of OCFS2/NFS volumes and their /etc/mtab lines;
// the kernel refuses the bind unmount while a process of the server has files open there ("device is busy").
import { spawnSync } from "child_process";
import { isTagSource, realTool, resolveSource } from "./mount";
import { readMtab, writeMtab } from "../storage/mtab";
import { Io, runStandin, serverPath, StandinContext } from "../storage/server-context";

export function umountTarget(ctx: StandinContext, io: Io, target: string): number | "real" {
  // mtab names the device, not the tag: `umount UUID=...` means the device blkid finds.
  if (isTagSource(target)) target = resolveSource(target) ?? target;
  const mtab = readMtab(ctx);
  let idx = -1;
  for (let i = mtab.length - 1; i >= 0; i--) {
    if (mtab[i].dir === target || mtab[i].device === target) {
      idx = i;
      break;
    }
  }
  if (idx < 0 || !["ocfs2", "nfs", "nfs4"].includes(mtab[idx].type)) return "real";
  const e = mtab[idx];
  const r = spawnSync(realTool("umount", "/usr/bin/umount"), [serverPath(ctx, e.dir)], { encoding: "utf8" });
  if (r.status !== 0) {
    if (/busy/i.test(r.stderr ?? "")) {
      io.err(`umount: ${e.dir}: device is busy.\n`);
      io.err("        (In some cases useful info about processes that use\n");
      io.err("         the device is found by lsof(8) or fuser(1))\n");
      return 1;
    }
    if (!/not mounted/i.test(r.stderr ?? "")) {
      io.err(r.stderr ?? "");
      return r.status ?? 1;
    }
  }
  writeMtab(ctx, mtab.filter((_, i) => i !== idx));
  return 0;
}

export function umountCommand(argv: string[], ctx: StandinContext, io: Io): number | "real" {
  const targets = argv.filter((a) => !a.startsWith("-"));
  if (targets.length !== 1 || argv.some((a) => a === "-a" || a === "--all")) return "real";
  return umountTarget(ctx, io, targets[0]);
}

if (require.main === module) {
  runStandin((argv, ctx, io) => {
    const rc = umountCommand(argv, ctx, io);
    if (rc !== "real") return rc;
    const r = spawnSync(realTool("umount", "/usr/bin/umount"), argv, { stdio: "inherit" });
    return r.status ?? 1;
  });
}
