// What a disk holds, as one server sees it: the low-level probe of the whole disk, its partition table and the
// probe of every extent the table names (at the entry's offset, so a partition another host made is seen even
// when its node does not exist here). Pure descriptions and the emptiness rule; the probing is in block-device.ts.
import type { BlkidProbe, PartitionEntry, PartitionTable } from "../../parsers";

export interface EntrySurvey {
  entry: PartitionEntry;
  /** The node this server would name it by (/dev/sdb1), and whether it exists here. */
  node: string;
  visible: boolean;
  /** blkid -p at the entry's offset and size. */
  found: BlkidProbe;
}

export interface DiskSurvey {
  disk: string;
  server: string;
  /** blkid -p on the whole disk (a partition table shows as PTTYPE/PTUUID). */
  whole: BlkidProbe;
  /** The partition table (sfdisk -d); undefined when the disk has none. */
  table?: PartitionTable;
  entries: EntrySurvey[];
}

/** An OCFS2 volume found on the disk: on the whole disk, or in a table entry. */
export interface FoundVolume {
  device: string;
  /** 32 upper-case hex digits. */
  uuid: string;
  label: string;
  entry?: EntrySurvey;
}

/** 32 upper-case hex digits: the form mounted.ocfs2 prints and ovs-makerepo names /OVS/<UUID> by. */
export function canonicalOcfs2Uuid(uuid: string): string {
  return uuid.replace(/-/g, "").toUpperCase();
}

/** The tags of a signature that is not the partition table itself (TYPE: file system, LVM PV, RAID member...). */
function signatureTags(p: BlkidProbe): Record<string, string> | undefined {
  if (p.kind !== "found") return undefined;
  const rest = Object.fromEntries(Object.entries(p.tags).filter(([k]) => !k.startsWith("PT")));
  return Object.keys(rest).length > 0 ? rest : undefined;
}

function describeTags(t: Record<string, string>): string {
  const parts = [t.TYPE ?? (t.USAGE ? `a ${t.USAGE} signature` : "an unknown signature")];
  if (t.LABEL) parts.push(`label ${JSON.stringify(t.LABEL)}`);
  if (t.UUID) parts.push(`UUID ${t.TYPE === "ocfs2" ? canonicalOcfs2Uuid(t.UUID) : t.UUID}`);
  return parts.join(", ");
}

/** What a probe found, in words: "ext4, label "userdata", UUID ...", "nothing", "several signatures (...)". */
export function describeProbe(p: BlkidProbe): string {
  if (p.kind === "nothing") return "nothing";
  if (p.kind === "ambivalent") return `several contradicting signatures (${p.detail})`;
  const sig = signatureTags(p);
  return sig ? describeTags(sig) : "nothing";
}

/** Whether the whole disk carries a signature other than its partition table. */
export function wholeDiskSignature(s: DiskSurvey): boolean {
  return s.whole.kind === "ambivalent" || signatureTags(s.whole) !== undefined;
}

/**
 * The emptiness rule: no signature on the whole disk besides a partition table, and the table (if any) has no
 * entries. A table entry is data even when nothing is found in it (someone made it for something).
 */
export function isEmptyDisk(s: DiskSurvey): boolean {
  return !wholeDiskSignature(s) && !unreadTable(s) && (s.table === undefined || s.table.entries.length === 0);
}

/** A partition table blkid sees (PTTYPE) that sfdisk does not read: its entries are unknown, so it is data. */
export function unreadTable(s: DiskSurvey): string | undefined {
  return s.table === undefined && s.whole.kind === "found" && s.whole.tags.PTTYPE !== undefined ? s.whole.tags.PTTYPE : undefined;
}

/** Everything the disk holds, in one line for an error message. */
export function describeDisk(s: DiskSurvey): string {
  const parts: string[] = [];
  if (wholeDiskSignature(s)) parts.push(describeProbe(s.whole));
  const unread = unreadTable(s);
  if (unread) parts.push(`a ${unread} partition table that sfdisk cannot read (its entries are unknown)`);
  if (s.table) {
    const id = s.table.id ? ` (disk identifier ${s.table.id})` : "";
    const label = s.table.label ?? "a";
    if (s.entries.length === 0) parts.push(`${label === "a" ? "a" : `a ${label}`} partition table${id} with no entries`);
    else {
      const rows = s.entries.map((e) => {
        const where = `partition ${e.entry.number} at sector ${e.entry.start} (${e.entry.size} sectors)`;
        const what = e.found.kind === "nothing" ? "holding no known signature" : `holding ${describeProbe(e.found)}`;
        const node = e.visible ? "" : `, not visible as ${e.node} on ${s.server}`;
        return `${where} ${what}${node}`;
      });
      parts.push(`${label === "a" ? "a" : `a ${label}`} partition table${id} with ${rows.join("; ")}`);
    }
  }
  return parts.length > 0 ? parts.join("; and ") : "nothing";
}

/** The OCFS2 volumes on the disk (whole disk first, then the table's entries in order). */
export function ocfs2Volumes(s: DiskSurvey): FoundVolume[] {
  const out: FoundVolume[] = [];
  const whole = signatureTags(s.whole);
  if (whole?.TYPE === "ocfs2" && whole.UUID) out.push({ device: s.disk, uuid: canonicalOcfs2Uuid(whole.UUID), label: whole.LABEL ?? "" });
  for (const e of s.entries) {
    const t = signatureTags(e.found);
    if (t?.TYPE === "ocfs2" && t.UUID) out.push({ device: e.node, uuid: canonicalOcfs2Uuid(t.UUID), label: t.LABEL ?? "", entry: e });
  }
  return out;
}
