// Which whole disks appeared in /proc/partitions between two reads (seed 9.2.1 steps 6 and 8: the new iSCSI
// device is the row that was not there before the login). Pure.
import { Partition } from "../../parsers/proc-partitions";

/** True when `name` is a partition of `disk` as the kernel names them: sdb1 of sdb, loop0p1 of loop0. */
export function isPartitionOf(name: string, disk: string): boolean {
  if (!name.startsWith(disk) || name === disk) return false;
  const rest = name.slice(disk.length);
  return /\d$/.test(disk) ? /^p\d+$/.test(rest) : /^\d+$/.test(rest);
}

/** Rows that are partitions of another row of the same table. */
function partitionRows(rows: readonly Partition[]): Set<string> {
  const names = rows.map((r) => r.name);
  return new Set(names.filter((n) => names.some((d) => isPartitionOf(n, d))));
}

/** Whole disks present in `after` and not in `before` (a LUN's partitions appear with it and are not counted). */
export function newDisks(before: readonly Partition[], after: readonly Partition[]): Partition[] {
  const known = new Set(before.map((p) => p.name));
  const parts = partitionRows(after);
  return after.filter((p) => !known.has(p.name) && !parts.has(p.name));
}

/** The partitions of `disk` (its name without /dev/) listed in the table, in table order. */
export function partitionsOf(rows: readonly Partition[], disk: string): Partition[] {
  return rows.filter((r) => isPartitionOf(r.name, disk));
}
