import { ParseError } from "./parse-error";
import { numberedLines } from "./text-lines";

export interface Partition {
  major: number;
  minor: number;
  /** Size in 1 KiB blocks. */
  blocks: number;
  name: string;
}

const COMMAND = "cat /proc/partitions";

/** Parses /proc/partitions: header `major minor  #blocks  name`, a blank line, rows `%4d  %7d %10llu %s`. */
export function parseProcPartitions(text: string): Partition[] {
  const rows: Partition[] = [];
  let sawHeader = false;
  for (const { text: raw, number } of numberedLines(text)) {
    const line = raw.trim();
    if (line === "") continue;
    if (/^major\s+minor\s+#blocks\s+name$/.test(line)) {
      sawHeader = true;
      continue;
    }
    const m = /^(\d+)\s+(\d+)\s+(\d+)\s+(\S+)$/.exec(line);
    if (!m) throw new ParseError(COMMAND, "expected `major minor #blocks name`", raw, number);
    rows.push({ major: Number(m[1]), minor: Number(m[2]), blocks: Number(m[3]), name: m[4] });
  }
  if (!sawHeader) throw new ParseError(COMMAND, "missing header `major minor  #blocks  name`");
  return rows;
}

/** Rows present in `after` but not in `before` (by name): the disks that appeared, e.g. after an iSCSI login. */
export function addedPartitions(before: Partition[], after: Partition[]): Partition[] {
  const known = new Set(before.map((p) => p.name));
  return after.filter((p) => !known.has(p.name));
}
