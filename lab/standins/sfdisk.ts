// sfdisk for lab servers: the real sfdisk, then the lab re-reads the partition table of the LUN behind the device
// (the kernel's BLKRRPART), so partitions appear as sdb1 ... on every server that has the LUN.
import * as fs from "fs";
import { spawnSync } from "child_process";
import { realTool } from "./mount";
import { rescanLun, resolveDevice } from "../devices";
import { loadContext } from "../storage/server-context";

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const r = spawnSync(realTool("sfdisk", "/usr/sbin/sfdisk"), argv, { stdio: "inherit" });
  const rc = r.status ?? 1;
  if (rc !== 0) return rc;
  const ctx = loadContext();
  const luns = new Set<string>();
  for (const a of argv) {
    if (!a.startsWith("/dev/") || !fs.existsSync(a)) continue;
    const d = resolveDevice(ctx.labDir, ctx.identity.name, a);
    if (d) luns.add(d.lun);
  }
  for (const lun of luns) await rescanLun(ctx.labDir, lun);
  return rc;
}

if (require.main === module) {
  main().then(
    (code) => { process.exitCode = code; },
    (e) => { process.stderr.write(`sfdisk: ${(e as Error).message}\n`); process.exitCode = 1; },
  );
}
