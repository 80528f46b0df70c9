// /etc/mtab as the lab keeps it: a regular file with fstab-style lines, written by the mount stand-in (the kernel's
// own table shows bind mounts of lab directories, not the devices a real server would show).
import * as fs from "fs";
import { serverPath } from "./server-context";

export interface MountEntry {
  device: string;
  dir: string;
  type: string;
  options: string;
  freq: string;
  passno: string;
}

/** What a freshly booted Oracle VM 2.x server has in mtab (local disk as in the seed's /proc/partitions). */
export const BOOT_MTAB: MountEntry[] = [
  ["/dev/mapper/VolGroup00-LogVol00", "/", "ext3", "rw"],
  ["proc", "/proc", "proc", "rw"],
  ["sysfs", "/sys", "sysfs", "rw"],
  ["devpts", "/dev/pts", "devpts", "rw,gid=5,mode=620"],
  ["/dev/sda1", "/boot", "ext3", "rw"],
  ["tmpfs", "/dev/shm", "tmpfs", "rw"],
].map(([device, dir, type, options]) => ({ device, dir, type, options, freq: "0", passno: "0" }));

/** Parse fstab/mtab text (comments and blank lines skipped; missing freq/passno become "0"). */
export function parseMountTable(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (!t || t.startsWith("#")) continue;
    const f = t.split(/\s+/);
    if (f.length < 3) continue;
    out.push({ device: f[0], dir: f[1], type: f[2], options: f[3] ?? "defaults", freq: f[4] ?? "0", passno: f[5] ?? "0" });
  }
  return out;
}

export function formatMountLine(e: MountEntry): string {
  return `${e.device} ${e.dir} ${e.type} ${e.options} ${e.freq} ${e.passno}`;
}

/** `mount` listing line: `DEV on DIR type TYPE (OPTS)`. */
export function formatMountListing(e: MountEntry): string {
  return `${e.device} on ${e.dir} type ${e.type} (${e.options})`;
}

export function mtabPath(ctx: { root: string }): string {
  return serverPath(ctx, "/etc/mtab");
}

export function readMtab(ctx: { root: string }): MountEntry[] {
  try {
    return parseMountTable(fs.readFileSync(mtabPath(ctx), "utf8"));
  } catch {
    return [];
  }
}

export function writeMtab(ctx: { root: string }, entries: MountEntry[]): void {
  const file = mtabPath(ctx);
  // On the host /etc/mtab is a symlink to /proc/self/mounts; the server's copy must be a regular file.
  try {
    if (fs.lstatSync(file).isSymbolicLink()) fs.unlinkSync(file);
  } catch {
    /* missing */
  }
  fs.writeFileSync(file, entries.map((e) => formatMountLine(e) + "\n").join(""));
}

export function readFstab(ctx: { root: string }): MountEntry[] {
  try {
    return parseMountTable(fs.readFileSync(serverPath(ctx, "/etc/fstab"), "utf8"));
  } catch {
    return [];
  }
}

export function hasOption(options: string, name: string): boolean {
  return options.split(",").some((o) => o === name || o.startsWith(name + "="));
}
