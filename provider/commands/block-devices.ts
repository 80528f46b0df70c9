import { CommandSpec } from "./command-argument-error";
import { absolutePath, devicePath, integerInRange } from "./argument-rules";

/** `blkid -o value -s TYPE DEV`: prints the filesystem type; exit 2 when nothing is found. */
export function blkidProbe(device: string): string[] {
  return ["blkid", "-o", "value", "-s", "TYPE", devicePath("device", device)];
}

/** `blkid DEV`: the full `DEV: LABEL="..." UUID="..." TYPE="..."` line. */
export function blkidFull(device: string): string[] {
  return ["blkid", devicePath("device", device)];
}

/**
 * `blkid -p -o export [-O OFFSET -S SIZE] DEV`: the low-level probe (no cache) of every signature libblkid knows
 * (file systems, LVM PV, RAID members, partition tables), on the whole device or, with an offset and size in
 * bytes, on the extent a partition-table entry names (which needs no partition node on this server).
 */
export function blkidLowLevel(device: string, extent?: { offset: number; size: number }): string[] {
  const argv = ["blkid", "-p", "-o", "export"];
  if (extent) {
    argv.push("-O", String(integerInRange("offset", extent.offset, 0, Number.MAX_SAFE_INTEGER)));
    argv.push("-S", String(integerInRange("size", extent.size, 1, Number.MAX_SAFE_INTEGER)));
  }
  argv.push(devicePath("device", device));
  return argv;
}

/** `sfdisk -d DISK`: the partition table as a script (exit 1 and "does not contain a recognized partition table" when none). */
export function sfdiskDump(disk: string): string[] {
  return ["sfdisk", "-d", devicePath("disk", disk)];
}

/**
 * `sfdisk --append DISK` with `,,83`: adds one Linux partition to an existing table that has no entries,
 * keeping the table and its disk identifier (a plain `sfdisk DISK` would write a new table with a new one).
 */
export function sfdiskAppendOnePartition(disk: string): CommandSpec {
  return { argv: ["sfdisk", "--append", devicePath("disk", disk)], stdin: ",,83\n" };
}

/**
 * sfdisk with a one-line script on stdin: one primary partition of type 83 (Linux) spanning the whole disk.
 * `,,83` (start and size empty = defaults) is read the same by the EL5-era sfdisk and current util-linux.
 */
export function sfdiskOnePartition(disk: string): CommandSpec {
  return { argv: ["sfdisk", devicePath("disk", disk)], stdin: ",,83\n" };
}

/** The device name of partition N of a disk: sdb → sdb1; names ending in a digit (loop0, nvme0n1) → loop0p1. */
export function partitionDevice(disk: string, n: number): string {
  const d = devicePath("disk", disk);
  return /\d$/.test(d) ? `${d}p${n}` : `${d}${n}`;
}

/** `mounted.ocfs2 -d`: every OCFS2 volume with UUID and label. */
export function mountedOcfs2Detect(): string[] {
  return ["mounted.ocfs2", "-d"];
}

/** `mounted.ocfs2 -f`: which nodes have each OCFS2 volume mounted. */
export function mountedOcfs2Full(): string[] {
  return ["mounted.ocfs2", "-f"];
}

/** `cat FILE` for the files the provider reads (/proc/partitions, /proc/mounts, /etc/fstab, cluster.conf). */
export function readFile(path: string): string[] {
  return ["cat", absolutePath("path", path)];
}
