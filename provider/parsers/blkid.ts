import { ParseError } from "./parse-error";
import { numberedLines } from "./text-lines";

/**
 * Reads `blkid -o value -s TYPE DEV`: the type (e.g. `ocfs2`), or null when blkid found nothing (exit 2,
 * empty output). Other non-zero exits are errors the caller must not mistake for "empty device".
 */
export function parseBlkidType(text: string, exitCode: number): string | null {
  const command = "blkid -o value -s TYPE";
  if (exitCode === 2) return null;
  if (exitCode !== 0) throw new ParseError(command, `unexpected exit code ${exitCode}`, text.trim());
  const lines = numberedLines(text).filter((l) => l.text.trim() !== "");
  if (lines.length === 0) return null;
  if (lines.length > 1) throw new ParseError(command, "more than one value for one device", lines[1].text, lines[1].number);
  const value = lines[0].text.trim();
  if (!/^[A-Za-z0-9_.+-]+$/.test(value)) throw new ParseError(command, "not a filesystem type", value, lines[0].number);
  return value;
}

export interface BlkidDevice {
  device: string;
  /** All NAME="value" tags, e.g. LABEL, UUID, TYPE, BLOCK_SIZE. */
  tags: Record<string, string>;
  type?: string;
  label?: string;
  uuid?: string;
}

/** Parses full-form blkid lines: `/dev/sdb1: LABEL="ovsroot" UUID="..." TYPE="ocfs2"` (values may hold \" and \\). */
export function parseBlkid(text: string): BlkidDevice[] {
  const command = "blkid";
  const devices: BlkidDevice[] = [];
  for (const { text: raw, number } of numberedLines(text)) {
    const line = raw.trim();
    if (line === "") continue;
    const head = /^(\/\S*?):(?:\s+|$)/.exec(line);
    if (!head) throw new ParseError(command, "expected `DEVICE: NAME=\"value\" ...`", raw, number);
    const tags: Record<string, string> = {};
    let rest = line.slice(head[0].length);
    const tag = /^([A-Z_][A-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*/;
    while (rest !== "") {
      const m = tag.exec(rest);
      if (!m) throw new ParseError(command, "bad NAME=\"value\" tag", raw, number);
      tags[m[1]] = m[2].replace(/\\(.)/g, "$1");
      rest = rest.slice(m[0].length);
    }
    devices.push({
      device: head[1],
      tags,
      ...(tags.TYPE !== undefined ? { type: tags.TYPE } : {}),
      ...(tags.LABEL !== undefined ? { label: tags.LABEL } : {}),
      ...(tags.UUID !== undefined ? { uuid: tags.UUID } : {}),
    });
  }
  return devices;
}

/** What `blkid -p` (low-level probe, no cache) found on a device or at an offset of it. */
export type BlkidProbe =
  /** Exit 2: no signature of any kind. */
  | { kind: "nothing" }
  /** Exit 0: the tags of what was found (TYPE/USAGE for a file system, LVM PV or RAID member; PTTYPE/PTUUID for a partition table). */
  | { kind: "found"; tags: Record<string, string> }
  /** Exit 8: several signatures that contradict each other (libblkid's "ambivalent result"). */
  | { kind: "ambivalent"; detail: string };

/** `-o export` escapes with a backslash the characters that are not safe in a shell (e.g. `VERSION=LVM2\ 001`). */
function unescapeExport(v: string): string {
  return v.replace(/\\(.)/g, "$1");
}

/**
 * Reads `blkid -p -o export [-O OFFSET] [-S SIZE] DEV`: `NAME=value` lines (util-linux 2.38: DEVNAME first, then
 * e.g. LABEL, UUID, VERSION, BLOCK_SIZE, TYPE, USAGE; or PTUUID, PTTYPE for a partition table). Exit 2 is
 * "nothing found", exit 8 an ambivalent probe; any other exit is an error, never "empty".
 */
export function parseBlkidExport(text: string, exitCode: number, stderr = ""): BlkidProbe {
  const command = "blkid -p -o export";
  if (exitCode === 2) return { kind: "nothing" };
  if (exitCode === 8) return { kind: "ambivalent", detail: stderr.trim() || "ambivalent result" };
  if (exitCode !== 0) throw new ParseError(command, `unexpected exit code ${exitCode}`, (stderr || text).trim());
  const tags: Record<string, string> = {};
  for (const { text: raw, number } of numberedLines(text)) {
    const line = raw.trim();
    if (line === "") continue;
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new ParseError(command, "expected NAME=value", raw, number);
    tags[m[1]] = unescapeExport(m[2]);
  }
  delete tags.DEVNAME;
  if (Object.keys(tags).length === 0) throw new ParseError(command, "exit 0 but no tags (expected TYPE or PTTYPE)", text.trim());
  return { kind: "found", tags };
}
