import { ParseError } from "./parse-error";
import { numberedLines } from "./text-lines";

/** One entry of a partition table, in 512-byte sectors as `sfdisk -d` prints them (unit: sectors). */
export interface PartitionEntry {
  /** The partition number (from the node name: /dev/sdb1 → 1, /dev/loop0p2 → 2). */
  number: number;
  node: string;
  start: number;
  size: number;
  /** `83` (dos), a GUID (gpt), as printed; old sfdisk prints `Id=83`. */
  type?: string;
}

export interface PartitionTable {
  /** `dos`, `gpt`...; undefined in the old (util-linux 2.13) dump, which does not say (it only knew DOS tables). */
  label?: string;
  /** The disk identifier: `0x2417ee0f` (dos) or a GUID (gpt); undefined when not printed. */
  id?: string;
  /** Sector size when printed (`sector-size: 512`); the dump's start/size are in these units. */
  sectorSize: number;
  entries: PartitionEntry[];
}

const COMMAND = "sfdisk -d";

/**
 * Reads `sfdisk -d DISK`. util-linux 2.38: `label: dos`, `label-id: 0x...`, `device:`, `unit: sectors`,
 * `sector-size: 512`, a blank line, then `NODE : start=N, size=N, type=83[, bootable]`. Old sfdisk (EL5):
 * `# partition table of DISK`, `unit: sectors`, rows `NODE : start=     2048, size=  2095104, Id=83` and
 * unused slots with size=0 (left out here). A disk without a table is exit 1, not this parser's input.
 */
export function parseSfdiskDump(text: string): PartitionTable {
  const table: PartitionTable = { sectorSize: 512, entries: [] };
  let sawHeader = false;
  for (const { text: raw, number } of numberedLines(text)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) {
      if (line.startsWith("# partition table of")) sawHeader = true;
      continue;
    }
    const row = /^(\S+)\s*:\s*(.*)$/.exec(line);
    if (row && row[1].startsWith("/")) {
      const fields: Record<string, string> = {};
      for (const part of row[2].split(",")) {
        const kv = /^\s*([A-Za-z-]+)\s*=\s*(.*?)\s*$/.exec(part);
        if (kv) fields[kv[1].toLowerCase()] = kv[2].replace(/^"(.*)"$/, "$1");
      }
      const n = /(\d+)$/.exec(row[1]);
      if (!n || fields.start === undefined || fields.size === undefined || !/^\d+$/.test(fields.start) || !/^\d+$/.test(fields.size)) {
        throw new ParseError(COMMAND, "expected `NODE : start=N, size=N, type=T`", raw, number);
      }
      const size = Number(fields.size);
      if (size === 0) continue;
      const type = fields.type ?? fields.id;
      table.entries.push({ number: Number(n[1]), node: row[1], start: Number(fields.start), size, ...(type !== undefined ? { type } : {}) });
      continue;
    }
    const header = /^([a-z-]+):\s*(.*)$/.exec(line);
    if (!header) throw new ParseError(COMMAND, "expected a `key: value` header or a partition row", raw, number);
    sawHeader = true;
    if (header[1] === "label") table.label = header[2];
    else if (header[1] === "label-id") table.id = header[2];
    else if (header[1] === "sector-size") table.sectorSize = Number(header[2]);
    else if (header[1] === "unit" && header[2] !== "sectors") throw new ParseError(COMMAND, `unit ${header[2]} (expected sectors)`, raw, number);
  }
  if (!sawHeader) throw new ParseError(COMMAND, "no header (label:/unit:) in the dump");
  table.entries.sort((a, b) => a.number - b.number);
  return table;
}

/** sfdisk's refusal for a disk with no partition table (exit 1): `sfdisk: DISK: does not contain a recognized partition table`. */
export function isNoPartitionTable(stderr: string): boolean {
  return /does not contain a recognized partition table/.test(stderr);
}
