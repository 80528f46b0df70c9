import { ParseError } from "./parse-error";
import { numberedLines } from "./text-lines";

export interface MountEntry {
  /** The mounted thing: `/dev/sdb1`, `host:/export`, `proc`. */
  source: string;
  mountPoint: string;
  fsType: string;
  /** Options in order, e.g. ["rw", "_netdev", "heartbeat=local"]. */
  options: string[];
  dump: number;
  pass: number;
}

/** Undoes the kernel's/getmntent's octal escapes: `\040` space, `\011` tab, `\012` newline, `\134` backslash. */
export function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Escapes space, tab, newline and backslash as octal, the inverse of unescapeMountField. */
export function escapeMountField(field: string): string {
  return field.replace(/[ \t\n\\]/g, (c) => "\\" + c.charCodeAt(0).toString(8).padStart(3, "0"));
}

/** Parses /etc/mtab or /proc/mounts: `source mountpoint type options dump pass`, fields octal-escaped. */
export function parseMtab(text: string, command = "/proc/mounts"): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const { text: raw, number } of numberedLines(text)) {
    const line = raw.trim();
    if (line === "") continue;
    const f = line.split(/\s+/);
    if (f.length < 4 || f.length > 6 || (f[4] !== undefined && !/^\d+$/.test(f[4])) || (f[5] !== undefined && !/^\d+$/.test(f[5]))) {
      throw new ParseError(command, "expected `source mountpoint type options dump pass`", raw, number);
    }
    entries.push({
      source: unescapeMountField(f[0]),
      mountPoint: unescapeMountField(f[1]),
      fsType: f[2],
      options: unescapeMountField(f[3]).split(","),
      dump: Number(f[4] ?? 0),
      pass: Number(f[5] ?? 0),
    });
  }
  return entries;
}

/** The last mount on a mount point (later mounts hide earlier ones), or undefined. */
export function findMount(entries: MountEntry[], mountPoint: string): MountEntry | undefined {
  const norm = mountPoint.length > 1 ? mountPoint.replace(/\/+$/, "") : mountPoint;
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i].mountPoint === norm) return entries[i];
  return undefined;
}

/** The value of `key=value` among options, true for a bare flag, undefined when absent. */
export function mountOption(options: string[], key: string): string | true | undefined {
  for (const o of options) {
    if (o === key) return true;
    if (o.startsWith(key + "=")) return o.slice(key.length + 1);
  }
  return undefined;
}
