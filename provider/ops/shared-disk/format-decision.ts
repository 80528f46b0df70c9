// Data is sacred: what to do with a device before formatting it, from what the probes found on it (blkid,
// mounted.ocfs2 -d) and what the state remembers. Pure, so every case is a unit test.

/** What a probe of one device found. `type` undefined: no file system signature at all. */
export interface DeviceContents {
  device: string;
  type?: string;
  label?: string;
  /** OCFS2 UUID as 32 upper-case hex digits (other file systems: as blkid prints it). */
  uuid?: string;
}

export interface FormatWanted {
  label: string;
  /** The volume this resource made or adopted before (from state), when known. */
  expectedUuid?: string;
  /** The user asked to format over whatever is there. */
  overwrite: boolean;
}

export type FormatDecision =
  | { action: "format"; reason: string }
  | { action: "adopt"; uuid: string; reason: string }
  | { action: "refuse"; reason: string };

/** 32 upper-case hex digits: the form mounted.ocfs2 prints and ovs-makerepo names /OVS/<UUID> by. */
export function canonicalOcfs2Uuid(uuid: string): string {
  return uuid.replace(/-/g, "").toUpperCase();
}

function describe(c: DeviceContents): string {
  const parts = [c.type ?? "no file system"];
  if (c.label) parts.push(`label ${JSON.stringify(c.label)}`);
  if (c.uuid) parts.push(`UUID ${c.uuid}`);
  return parts.join(", ");
}

/**
 * - nothing on the device: format.
 * - the same OCFS2 volume (label, and the remembered UUID when there is one): adopt, never format again.
 * - anything else: refuse, naming the device and what it holds, unless overwrite is set.
 */
export function decideFormat(found: DeviceContents, wanted: FormatWanted): FormatDecision {
  if (found.type === undefined) return { action: "format", reason: `${found.device} holds no file system` };
  const sameVolume =
    found.type === "ocfs2" &&
    found.label === wanted.label &&
    found.uuid !== undefined &&
    (wanted.expectedUuid === undefined || canonicalOcfs2Uuid(found.uuid) === canonicalOcfs2Uuid(wanted.expectedUuid));
  if (sameVolume) return { action: "adopt", uuid: canonicalOcfs2Uuid(found.uuid!), reason: `${found.device} already holds this OCFS2 volume (${describe(found)})` };
  if (wanted.overwrite) return { action: "format", reason: `overwrite is set: formatting ${found.device} over ${describe(found)}` };
  const expected = wanted.expectedUuid ? ` UUID ${wanted.expectedUuid}` : "";
  return {
    action: "refuse",
    reason:
      `${found.device} holds ${describe(found)}, not the OCFS2 volume label ${JSON.stringify(wanted.label)}${expected}: ` +
      `refusing to format it (its data would be lost). Choose another device, or set overwrite: true to destroy what it holds.`,
  };
}

export type PartitionDecision =
  /** The disk has a partition table: use its first partition. */
  | { action: "use-partition" }
  /** Empty disk: write one partition spanning it. */
  | { action: "partition" }
  /** The whole disk holds a file system: decide about it as a device (adopt it whole, or refuse). */
  | { action: "whole-disk" };

/**
 * Partition once (seed 9.2.1 step 8, 9.2.2 step 1): only a disk with no partition and no file system on it is
 * partitioned; a disk holding a file system directly is never repartitioned (that would destroy it) unless
 * overwrite is set.
 */
export function decidePartition(hasPartitions: boolean, wholeDisk: DeviceContents, overwrite: boolean): PartitionDecision {
  if (hasPartitions) return { action: "use-partition" };
  if (wholeDisk.type === undefined || overwrite) return { action: "partition" };
  return { action: "whole-disk" };
}
