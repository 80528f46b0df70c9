import { CommandArgumentError } from "./command-argument-error";
import { compactSize, devicePath, integerInRange, powerOfTwoSize, sizeInBytes } from "./argument-rules";

export interface MkfsOcfs2Options {
  device: string;
  /** Volume label, 1..63 bytes (mkfs.ocfs2 refuses 64 and more). */
  label: string;
  /** Bytes or e.g. "4K": power of two, 512..4096. */
  blockSize?: number | string;
  /** Bytes or e.g. "4K": power of two, 4K..1M. */
  clusterSize?: number | string;
  /** Bytes or e.g. "64M": at least 4M, whole KiB. */
  journalSize?: number | string;
  /** 1..255 (mkfs.ocfs2's default is 8). */
  nodeSlots?: number;
  /** -T: `mail`, `datafiles` (1.4) or `vmstore` (later tools). */
  fsType?: "mail" | "datafiles" | "vmstore";
  /** -M: `cluster` (default) or `local`. */
  mountType?: "local" | "cluster";
  /**
   * -F: skip the overwrite prompt. mkfs.ocfs2 does not protect existing data, so the caller must have
   * probed the device (blkid) before setting this.
   */
  force?: boolean;
  /**
   * -x: no "Proceed (y/N)" prompt over an existing OCFS2 volume (only with the user's overwrite). The cluster
   * check (is it mounted on another node) still runs; -F would skip it, and the provider never passes -F.
   */
  noPrompt?: boolean;
  /** -n: report what would be done, write nothing. */
  dryRun?: boolean;
}

/** mkfs.ocfs2 argv, e.g. `mkfs.ocfs2 -L mylabel -b 4K -C 4K -J size=64M -N 16 /dev/sdb1`. */
export function mkfsOcfs2(o: MkfsOcfs2Options): string[] {
  const device = devicePath("device", o.device);
  if (typeof o.label !== "string" || o.label === "" || Buffer.byteLength(o.label, "utf8") >= 64 || /[\x00-\x1f\x7f]/.test(o.label)) {
    throw new CommandArgumentError("label", o.label, "must be 1 to 63 bytes without control characters");
  }
  const argv = ["mkfs.ocfs2"];
  if (o.force) argv.push("-F");
  if (o.noPrompt) argv.push("-x");
  if (o.dryRun) argv.push("-n");
  // The label is the value of -L, so getopt never reads it as an option even if it starts with '-'.
  argv.push("-L", o.label);
  if (o.blockSize !== undefined) argv.push("-b", compactSize(powerOfTwoSize("blockSize", o.blockSize, 512, 4096)));
  if (o.clusterSize !== undefined) argv.push("-C", compactSize(powerOfTwoSize("clusterSize", o.clusterSize, 4096, 1024 * 1024)));
  if (o.journalSize !== undefined) {
    const j = sizeInBytes("journalSize", o.journalSize);
    if (j < 4 * 1024 * 1024 || j % 1024 !== 0) {
      throw new CommandArgumentError("journalSize", o.journalSize, "must be at least 4M and a whole number of KiB");
    }
    argv.push("-J", `size=${compactSize(j)}`);
  }
  if (o.nodeSlots !== undefined) argv.push("-N", String(integerInRange("nodeSlots", o.nodeSlots, 1, 255)));
  if (o.fsType !== undefined) {
    if (!["mail", "datafiles", "vmstore"].includes(o.fsType)) throw new CommandArgumentError("fsType", o.fsType, "must be mail, datafiles or vmstore");
    argv.push("-T", o.fsType);
  }
  if (o.mountType !== undefined) {
    if (o.mountType !== "local" && o.mountType !== "cluster") throw new CommandArgumentError("mountType", o.mountType, "must be local or cluster");
    argv.push("-M", o.mountType);
  }
  argv.push(device);
  return argv;
}
