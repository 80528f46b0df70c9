// mkfs.ocfs2 for lab servers: the real mkfs.ocfs2 (ocfs2-tools 1.8.7), with the cluster check it makes on a device
// that already holds OCFS2 done by the lab (the host runs no o2cb, so the real check cannot run here):
//   - without -F, o2cb offline on this server: the real tool runs as it is and fails as a real server does
//     ("Overwriting existing ocfs2 partition." then "Unable to access cluster service while initializing the
//     cluster", exit 1). A device holding anything else (ext4, an LVM PV...) is formatted without a word, as the
//     real tool does: it protects only OCFS2 volumes.
//   - without -F, o2cb online: a volume mounted on another powered-on lab server fails the cluster lock as the
//     real one does (check.c: "while locking the cluster" / "This volume appears to be in use in the cluster.";
//     the lock error text "Trylock failed" is o2dlm's O2DLM_ET_TRYLOCK_FAILED, read from the sources, not
//     captured); otherwise the real tool runs with -F and its "Cluster check disabled" warning (which a real
//     server with o2cb online does not print) is dropped. The "Proceed (y/N)" prompt stays the real one's.
//   - with -F: the real tool as it is (no cluster check, the warning printed).
// A device mounted on this server is refused first, as the real tool's own mtab check does.
import * as fs from "fs";
import { spawnSync } from "child_process";
import { realTool, probeDevice } from "./mount";
import { readMtab } from "../storage/mtab";
import { readRuntime } from "../storage/o2cb-state";
import { loadContext, serverPath, StandinContext } from "../storage/server-context";
import { serversMounting } from "../storage/volume-users";
import { resolveDevice } from "../devices";

const WITH_VALUE = new Set(["-b", "-C", "-N", "-L", "-J", "-T", "-M", "-U", "--fs-features", "--fs-feature-level", "--cluster-stack", "--cluster-name"]);

function deviceArg(argv: string[]): string | undefined {
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (WITH_VALUE.has(argv[i])) i++;
    else if (!argv[i].startsWith("-")) positional.push(argv[i]);
  }
  return positional[0];
}

/** -F / --force given, possibly in a cluster of short flags (-Fx). */
export function hasForce(argv: string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (WITH_VALUE.has(a)) {
      i++;
      continue;
    }
    if (a === "--force") return true;
    if (/^-[A-Za-z]+$/.test(a) && a.includes("F")) return true;
  }
  return false;
}

function mountedHere(ctx: StandinContext, device: string): boolean {
  const me = resolveDevice(ctx.labDir, ctx.identity.name, device);
  return readMtab(ctx).some((e) => {
    if (e.device === device) return true;
    const other = resolveDevice(ctx.labDir, ctx.identity.name, e.device);
    return e.type === "ocfs2" && me !== undefined && other?.lun === me.lun && other.partition === me.partition;
  });
}

function runReal(argv: string[], dropClusterWarning: boolean): number {
  if (!dropClusterWarning) return spawnSync(realTool("mkfs.ocfs2", "/usr/sbin/mkfs.ocfs2"), argv, { stdio: "inherit" }).status ?? 1;
  const r = spawnSync(realTool("mkfs.ocfs2", "/usr/sbin/mkfs.ocfs2"), ["-F", ...argv], { stdio: ["inherit", "inherit", "pipe"], encoding: "utf8" });
  process.stderr.write((r.stderr ?? "").split("\n").filter((l) => l !== "WARNING: Cluster check disabled.").join("\n"));
  return r.status ?? 1;
}

function main(): number {
  const argv = process.argv.slice(2);
  const device = deviceArg(argv);
  let ctx: StandinContext | undefined;
  try {
    ctx = loadContext();
  } catch {
    ctx = undefined; // not in a lab server: the real tool as it is
  }
  if (!device || !ctx || !fs.existsSync(serverPath(ctx, device))) return runReal(argv, false);
  const force = hasForce(argv);
  if (mountedHere(ctx, device)) {
    if (!force) {
      process.stderr.write(`${device} is mounted; will not make a ocfs2 volume here!\n`);
      return 1;
    }
    process.stderr.write(`${device} is mounted; overwriting anyway. Hope /etc/mtab is incorrect.\n`);
  }
  if (force) return runReal(argv, false);
  const holdsOcfs2 = probeDevice(serverPath(ctx, device))?.type === "ocfs2";
  if (!holdsOcfs2 || !readRuntime(ctx).online) return runReal(argv, false);
  const elsewhere = serversMounting(ctx.labDir, ctx.identity.name, device).filter((s) => s !== ctx!.identity.name);
  if (elsewhere.length > 0) {
    process.stdout.write("Cluster stack: classic o2cb\nOverwriting existing ocfs2 partition.\n");
    process.stderr.write("mkfs.ocfs2 1.8.7\nmkfs.ocfs2: Trylock failed while locking the cluster\nThis volume appears to be in use in the cluster.\n");
    return 1;
  }
  return runReal(argv, true);
}

if (require.main === module) process.exitCode = main();
