// Which lab servers have an OCFS2 volume mounted, read from each server's own /etc/mtab (the lab's mounts are
// bind mounts, so the kernel's table cannot say). A server that is powered off holds nothing: its mounts went
// with its kernel. Used where the real cluster would know it: mkfs.ocfs2's cluster check, the node slots at mount.
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { readDisks, resolveDevice } from "../devices";
import { layout } from "../layout";
import { parseMountTable } from "./mtab";
import { readIfExists } from "./server-context";

/** Servers (powered on, `self` included) that have the LUN extent behind `device` of `self` mounted as OCFS2. */
export function serversMounting(labDir: string, self: string, device: string): string[] {
  const me = resolveDevice(labDir, self, device);
  if (!me) return [];
  const out: string[] = [];
  for (const s of fs.readdirSync(path.join(labDir, "servers"))) {
    const state = readIfExists(layout.serverState(labDir, s));
    if (state && /"power"\s*:\s*"off"/.test(state)) continue;
    const mtab = readIfExists(path.join(layout.serverUpper(labDir, s), "etc", "mtab")) ?? "";
    for (const e of parseMountTable(mtab)) {
      if (e.type !== "ocfs2") continue;
      const other = resolveDevice(labDir, s, e.device);
      if (other && other.lun === me.lun && other.partition === me.partition && readDisks(labDir, s).length) {
        out.push(s);
        break;
      }
    }
  }
  return out;
}

/** The volume's node slot count as the real tunefs.ocfs2 reads it (`-Q "%N\n"`); undefined when unreadable. */
export function nodeSlots(device: string): number | undefined {
  try {
    const out = execFileSync("tunefs.ocfs2", ["-Q", "%N\\n", device], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const n = Number(out.trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
