import { ParseError } from "./parse-error";
import { escapeMountField, MountEntry, unescapeMountField } from "./mtab";
import { numberedLines } from "./text-lines";

/** An fstab entry has the fields of a mount table line. */
export type FstabEntry = MountEntry;

/** A line of fstab: an entry (with its original text) or a comment/blank line kept verbatim. */
export type FstabLine =
  | { kind: "entry"; entry: FstabEntry; raw: string }
  | { kind: "comment"; raw: string }
  | { kind: "blank"; raw: string };

/** Parses /etc/fstab, keeping comments and blank lines so a rewrite changes only what it must. */
export function parseFstab(text: string): FstabLine[] {
  const lines: FstabLine[] = [];
  const all = numberedLines(text);
  // A trailing newline yields one empty last element, which is not a line of the file.
  if (all.length > 0 && all[all.length - 1].text === "" && text.endsWith("\n")) all.pop();
  for (const { text: raw, number } of all) {
    const line = raw.trim();
    if (line === "") {
      lines.push({ kind: "blank", raw });
      continue;
    }
    if (line.startsWith("#")) {
      lines.push({ kind: "comment", raw });
      continue;
    }
    const f = line.split(/\s+/);
    if (f.length < 3 || f.length > 6 || f.slice(4).some((x) => !/^\d+$/.test(x))) {
      throw new ParseError("/etc/fstab", "expected `source mountpoint type [options [dump [pass]]]`", raw, number);
    }
    lines.push({
      kind: "entry",
      raw,
      entry: {
        source: unescapeMountField(f[0]),
        mountPoint: unescapeMountField(f[1]),
        fsType: f[2],
        options: (f[3] === undefined ? "defaults" : unescapeMountField(f[3])).split(","),
        dump: Number(f[4] ?? 0),
        pass: Number(f[5] ?? 0),
      },
    });
  }
  return lines;
}

/** One fstab line for an entry, fields escaped. */
export function formatFstabEntry(e: FstabEntry): string {
  return [escapeMountField(e.source), escapeMountField(e.mountPoint), e.fsType,
    escapeMountField(e.options.join(",")), String(e.dump), String(e.pass)].join(" ");
}

/** Writes lines back: untouched lines keep their original text; entries without raw are formatted. */
export function formatFstab(lines: (FstabLine | { kind: "entry"; entry: FstabEntry; raw?: string })[]): string {
  return lines.map((l) => (l.kind === "entry" && l.raw === undefined ? formatFstabEntry(l.entry) : l.raw!)).join("\n") + "\n";
}

/** The entries only. */
export function fstabEntries(lines: FstabLine[]): FstabEntry[] {
  return lines.flatMap((l) => (l.kind === "entry" ? [l.entry] : []));
}
