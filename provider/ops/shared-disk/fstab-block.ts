// The ovm-ha block of /etc/fstab (between the marker comments of provider/render/fstab.ts) holds one line per
// managed mount point, possibly of several SharedDisks. Each SharedDisk replaces or removes only its own line;
// the administrator's lines outside the block are kept byte for byte. Pure.
import { FSTAB_BEGIN_MARKER, FSTAB_END_MARKER, FstabEntry, renderFstab } from "../../render/fstab";
import { fstabEntries, parseFstab } from "../../parsers/fstab";

export interface FstabSplit {
  /** Lines before the block (or the whole file when there is none). */
  head: string[];
  /** Entries inside the block. */
  entries: FstabEntry[];
  /** Lines after the block. */
  tail: string[];
  hasBlock: boolean;
}

function linesOf(text: string): string[] {
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

export function splitFstab(text: string): FstabSplit {
  const lines = linesOf(text);
  const begin = lines.findIndex((l) => l.trim() === FSTAB_BEGIN_MARKER);
  const end = begin < 0 ? -1 : lines.findIndex((l, i) => i > begin && l.trim() === FSTAB_END_MARKER);
  if (begin < 0 || end < 0) return { head: lines, entries: [], tail: [], hasBlock: false };
  const inner = lines.slice(begin + 1, end).join("\n");
  const entries = fstabEntries(parseFstab(inner === "" ? "" : inner + "\n")).map((e) => ({
    device: e.source,
    mountPoint: e.mountPoint,
    type: e.fsType as "ocfs2" | "nfs",
    options: e.options,
  }));
  return { head: lines.slice(0, begin), entries, tail: lines.slice(end + 1), hasBlock: true };
}

function join(head: string[], block: string, tail: string[]): string {
  const out = [...head];
  if (block !== "") out.push(...linesOf(block));
  out.push(...tail);
  return out.length === 0 ? "" : out.join("\n") + "\n";
}

/** fstab with `entry` as the block's line for its mount point (added at the end of the block, or replaced). */
export function withEntry(text: string, entry: FstabEntry): string {
  const s = splitFstab(text);
  const i = s.entries.findIndex((e) => e.mountPoint === entry.mountPoint);
  const entries = [...s.entries];
  if (i >= 0) entries[i] = entry;
  else entries.push(entry);
  return join(s.head, renderFstab(entries), s.tail);
}

/** fstab without the block's line for `mountPoint`; the block goes when it is left empty. */
export function withoutEntry(text: string, mountPoint: string): string {
  const s = splitFstab(text);
  if (!s.hasBlock) return text;
  const entries = s.entries.filter((e) => e.mountPoint !== mountPoint);
  return join(s.head, entries.length ? renderFstab(entries) : "", s.tail);
}

/** The block's line for `mountPoint`, if any. */
export function entryFor(text: string, mountPoint: string): FstabEntry | undefined {
  return splitFstab(text).entries.find((e) => e.mountPoint === mountPoint);
}
