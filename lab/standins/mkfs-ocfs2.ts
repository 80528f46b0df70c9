// mkfs.ocfs2 for lab servers: the real mkfs.ocfs2 with -F added (the lab has no cluster stack for its cluster
// check), stdin kept so the "Overwriting existing ocfs2 partition" prompt still aborts on EOF. Because -F skips
// the real cluster-wide "is it mounted" check, the wrapper refuses a device mounted on any powered-on lab server.
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { realTool } from "./mount";
import { readDisks, resolveDevice } from "../devices";
import { layout } from "../layout";
import { parseMountTable } from "../storage/mtab";
import { loadContext, readIfExists } from "../storage/server-context";

function deviceArg(argv: string[]): string | undefined {
  const withValue = new Set(["-b", "-C", "-N", "-L", "-J", "-T", "-M", "--fs-features", "--fs-feature-level", "--cluster-stack", "--cluster-name", "-U"]);
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (withValue.has(argv[i])) i++;
    else if (!argv[i].startsWith("-")) positional.push(argv[i]);
  }
  return positional[0];
}

/** Servers (powered on) that have this LUN extent mounted, by their own mtab. */
function mountedOn(labDir: string, server: string, device: string): string[] {
  const me = resolveDevice(labDir, server, device);
  if (!me) return [];
  const out: string[] = [];
  for (const s of fs.readdirSync(path.join(labDir, "servers"))) {
    const state = readIfExists(layout.serverState(labDir, s));
    if (state && /"power"\s*:\s*"off"/.test(state)) continue;
    const mtab = readIfExists(path.join(layout.serverUpper(labDir, s), "etc", "mtab")) ?? "";
    for (const e of parseMountTable(mtab)) {
      if (e.type !== "ocfs2") continue;
      const other = resolveDevice(labDir, s, e.device);
      if (other && other.lun === me.lun && other.partition === me.partition && readDisks(labDir, s).length) out.push(s);
    }
  }
  return out;
}

function main(): number {
  const argv = process.argv.slice(2);
  const device = deviceArg(argv);
  if (device) {
    try {
      const ctx = loadContext();
      if (mountedOn(ctx.labDir, ctx.identity.name, device).length > 0) {
        process.stderr.write(`${device} is mounted; will not make a ocfs2 volume here!\n`);
        return 1;
      }
    } catch {
      /* not in a lab server: nothing to check */
    }
  }
  const r = spawnSync(realTool("mkfs.ocfs2", "/usr/sbin/mkfs.ocfs2"), ["-F", ...argv], { stdio: "inherit" });
  return r.status ?? 1;
}

if (require.main === module) process.exitCode = main();
