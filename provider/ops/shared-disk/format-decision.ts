// Data is sacred: what to do with a disk, from what the survey found on it (disk-survey.ts) and what the user and
// the state say. Pure, so every case is a unit test.
//   - A volume is adopted only by its identity: the UUID the user gives (adoptVolume) or the one this stack
//     recorded. A matching label is not an identity (`ovsroot` is every Oracle VM pool's default).
//   - Anything else the disk holds is refused without `overwrite`, naming the disk, the server and what it holds.
//   - An existing partition table is never rewritten: an empty one gets an entry appended (same identifier), and
//     with `overwrite` the existing partition 1 is formatted in place.
import { canonicalOcfs2Uuid, describeDisk, DiskSurvey, EntrySurvey, isEmptyDisk, ocfs2Volumes, unreadTable, wholeDiskSignature } from "./disk-survey";

export { canonicalOcfs2Uuid };

export interface DiskWanted {
  /** Use partition 1 (made when the disk is empty) rather than the whole disk. */
  partition: boolean;
  /** The label a new volume gets (not used to recognise one). */
  label: string;
  /** The user's adoptVolume input. */
  adoptVolume?: string;
  /** The volume this stack made or adopted before (state). */
  recordedUuid?: string;
  /** The disk identifier of the partition table this stack wrote (state), to resume a create cut before mkfs. */
  recordedTableId?: string;
  overwrite: boolean;
}

export type DiskDecision =
  | { action: "adopt"; device: string; uuid: string; label: string; partition?: number }
  | {
      action: "format";
      device: string;
      /** new-table: write a table with one partition (the disk has none); append: add it to an empty table. */
      prepare: "none" | "new-table" | "append";
      /** Partition number formatted (undefined: the whole disk). */
      partition?: number;
      reason: string;
    }
  | { action: "refuse"; reason: string };

function refuseInvisible(s: DiskSurvey, e: EntrySurvey, what: string): DiskDecision {
  return {
    action: "refuse",
    reason:
      `${s.disk} on ${s.server}: partition ${e.entry.number} (sector ${e.entry.start}) ${what}, but ${e.node} does not exist on ${s.server} ` +
      `(the partition table was written elsewhere and not re-read here): re-read it (blockdev --rereadpt ${s.disk}) or reboot, then run again`,
  };
}

export function decideDisk(s: DiskSurvey, w: DiskWanted): DiskDecision {
  const volumes = ocfs2Volumes(s);
  const identity = w.adoptVolume ?? w.recordedUuid;
  if (identity !== undefined) {
    const v = volumes.find((x) => x.uuid === canonicalOcfs2Uuid(identity));
    if (v) {
      if (v.entry && !v.entry.visible) return refuseInvisible(s, v.entry, `holds the volume ${v.uuid}`);
      return { action: "adopt", device: v.device, uuid: v.uuid, label: v.label, ...(v.entry ? { partition: v.entry.entry.number } : {}) };
    }
    if (w.adoptVolume !== undefined) {
      return {
        action: "refuse",
        reason:
          `adoptVolume ${w.adoptVolume}: ${s.disk} on ${s.server} does not hold that OCFS2 volume; it holds ${describeDisk(s)}. ` +
          `Nothing was written. Give the UUID of the volume on this disk, or leave adoptVolume out to format an empty disk.`,
      };
    }
  }
  if (isEmptyDisk(s)) {
    if (!s.table) {
      return w.partition
        ? { action: "format", device: "", prepare: "new-table", partition: 1, reason: `${s.disk} holds nothing: one partition, then the volume` }
        : { action: "format", device: s.disk, prepare: "none", reason: `${s.disk} holds nothing` };
    }
    if (w.partition) return { action: "format", device: "", prepare: "append", partition: 1, reason: `${s.disk} has an empty partition table: one partition appended` };
  }
  // A create cut between writing our table and mkfs: our table (same identifier), one entry, nothing in it.
  if (w.partition && w.recordedTableId !== undefined && s.table?.id === w.recordedTableId && s.entries.length === 1 && s.entries[0].found.kind === "nothing" && !wholeDiskSignature(s)) {
    const e = s.entries[0];
    if (!e.visible) return refuseInvisible(s, e, "is the one this stack made");
    return { action: "format", device: e.node, prepare: "none", partition: e.entry.number, reason: `partition ${e.entry.number} of the table this stack wrote holds nothing yet` };
  }
  if (w.overwrite) {
    if (!w.partition) return { action: "format", device: s.disk, prepare: "none", reason: `overwrite is set: formatting ${s.disk} over ${describeDisk(s)}` };
    if (s.table && s.entries.length > 0) {
      const e = s.entries.find((x) => x.entry.number === 1) ?? s.entries[0];
      if (!e.visible) return refuseInvisible(s, e, "is to be formatted (overwrite)");
      return { action: "format", device: e.node, prepare: "none", partition: e.entry.number, reason: `overwrite is set: formatting ${e.node} over ${describeDisk(s)} (the partition table is kept)` };
    }
    const unread = unreadTable(s);
    if (unread) {
      return {
        action: "refuse",
        reason:
          `${s.disk} on ${s.server} holds ${describeDisk(s)}: a table is never rewritten, even with overwrite. ` +
          `Remove it yourself (wipefs), or set partition: false to format the whole disk over it.`,
      };
    }
    return {
      action: "format",
      device: "",
      prepare: s.table ? "append" : "new-table",
      partition: 1,
      reason: `overwrite is set: partitioning and formatting ${s.disk} over ${describeDisk(s)}`,
    };
  }
  return { action: "refuse", reason: refusal(s, w, volumes) };
}

function refusal(s: DiskSurvey, w: DiskWanted, volumes: ReturnType<typeof ocfs2Volumes>): string {
  const head = `${s.disk} on ${s.server} holds ${describeDisk(s)}`;
  if (volumes.length > 0) {
    const v = volumes.find((x) => x.label === w.label) ?? volumes[0];
    const sameLabel = v.label === w.label ? `its label ${JSON.stringify(v.label)} matches, but a label is not an identity (this stack did not make it)` : "this stack did not make it";
    return (
      `${head}: the OCFS2 volume label ${JSON.stringify(v.label)} UUID ${v.uuid} on ${v.device} is not adopted: ${sameLabel}. ` +
      `Nothing was written. Set adoptVolume: "${v.uuid}" to use it as it is, or overwrite: true to destroy it and format.`
    );
  }
  return `${head}: refusing to write to it (its data would be lost). Nothing was written. Choose another disk, or set overwrite: true to destroy what it holds.`;
}
