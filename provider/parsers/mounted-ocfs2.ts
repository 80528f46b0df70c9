import { ParseError } from "./parse-error";
import { numberedLines, NumberedLine } from "./text-lines";

/** One row of `mounted.ocfs2 -d`. */
export interface Ocfs2Volume {
  device: string;
  /** `ocfs2` in the 1.4 layout (FS column); undefined in the 1.8 layout, which has no FS column. */
  fs?: string;
  /** Cluster stack, e.g. `o2cb`; undefined when the layout has no Stack column. */
  stack?: string;
  /** Cluster name (1.8 layout, global-heartbeat volumes); undefined when blank. */
  cluster?: string;
  /** Flags column of the 1.8 layout (e.g. `G` for global heartbeat); undefined when blank. */
  flags?: string;
  /** 32 upper-case hex digits, no dashes. */
  uuid: string;
  /** Empty string when the volume has no label. */
  label: string;
}

/** One row of `mounted.ocfs2 -f`. */
export interface Ocfs2Mounters {
  device: string;
  fs?: string;
  stack?: string;
  cluster?: string;
  flags?: string;
  /** Node names (or numbers, when names are unknown) that have the volume mounted; [] for `Not mounted`. */
  nodes: string[];
}

interface Column {
  name: string;
  start: number;
}

const KNOWN_COLUMNS = ["Device", "FS", "Stack", "Cluster", "F", "UUID", "Label", "Nodes"];

function readHeader(line: NumberedLine, command: string, last: string): Column[] {
  const columns: Column[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line.text)) !== null) columns.push({ name: m[0], start: m.index });
  const names = columns.map((c) => c.name);
  if (names[0] !== "Device" || names[names.length - 1] !== last || names.some((n) => !KNOWN_COLUMNS.includes(n))) {
    throw new ParseError(command, `unrecognised header (expected Device ... ${last})`, line.text, line.number);
  }
  return columns;
}

/**
 * Cuts a row at the header's column starts when the row is aligned with the header (the tool pads each
 * column to the header's width, and blank Cluster/F cells are only recoverable by position). Returns null
 * when the row is not aligned, e.g. whitespace was squeezed on the way.
 */
function sliceAligned(row: string, columns: Column[]): Record<string, string> | null {
  const cells: Record<string, string> = {};
  for (let i = 0; i < columns.length; i++) {
    const start = columns[i].start;
    if (start > 0 && start <= row.length && !/\s/.test(row[start - 1])) return null;
    const end = i + 1 < columns.length ? columns[i + 1].start : row.length;
    const cell = row.slice(Math.min(start, row.length), Math.max(Math.min(end, row.length), start)).trim();
    cells[columns[i].name] = cell;
  }
  return cells;
}

function optional(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}

function findHeader(lines: NumberedLine[], command: string, last: string): { columns: Column[]; rows: NumberedLine[] } {
  const nonEmpty = lines.filter((l) => l.text.trim() !== "");
  if (nonEmpty.length === 0) throw new ParseError(command, "empty output (the header is always printed)");
  const columns = readHeader(nonEmpty[0], command, last);
  return { columns, rows: nonEmpty.slice(1) };
}

const UUID = /^[0-9A-Fa-f]{32}$/;

/** Parses `mounted.ocfs2 -d` in the 1.4 layout (`Device FS Stack UUID Label`) or 1.8 (`Device Stack Cluster F UUID Label`). */
export function parseMountedOcfs2Detect(text: string): Ocfs2Volume[] {
  const command = "mounted.ocfs2 -d";
  const { columns, rows } = findHeader(numberedLines(text), command, "Label");
  const names = columns.map((c) => c.name);
  if (!names.includes("UUID")) throw new ParseError(command, "header has no UUID column", "", 1);
  const volumes: Ocfs2Volume[] = [];
  for (const row of rows) {
    // The UUID is the anchor: the columns before it are fixed except the optional blank Cluster/F cells.
    const tokens = row.text.trim().split(/\s+/);
    const uuidIndex = tokens.findIndex((t, i) => i > 0 && UUID.test(t));
    if (uuidIndex < 0) throw new ParseError(command, "row has no 32-hex-digit UUID", row.text, row.number);
    const before = tokens.slice(1, uuidIndex);
    const label = tokens.slice(uuidIndex + 1).join(" ");
    const v: Ocfs2Volume = { device: tokens[0], uuid: tokens[uuidIndex].toUpperCase(), label };
    const aligned = sliceAligned(row.text, columns);
    if (aligned) {
      v.fs = optional(aligned.FS);
      v.stack = optional(aligned.Stack);
      v.cluster = optional(aligned.Cluster);
      v.flags = optional(aligned.F);
      if (aligned.Label !== undefined) v.label = aligned.Label;
    } else {
      const middle = names.slice(1, names.indexOf("UUID"));
      if (before.length > middle.length) throw new ParseError(command, "more cells than header columns", row.text, row.number);
      // Without alignment, blank cells can only be the trailing optional ones (Cluster, F).
      middle.forEach((name, i) => {
        const cell = before[i];
        if (name === "FS") v.fs = cell;
        else if (name === "Stack") v.stack = cell;
        else if (name === "Cluster") v.cluster = cell;
        else if (name === "F") v.flags = cell;
      });
    }
    for (const k of ["fs", "stack", "cluster", "flags"] as const) if (v[k] === undefined) delete v[k];
    volumes.push(v);
  }
  return volumes;
}

/** Parses `mounted.ocfs2 -f` in the 1.4 layout (`Device FS Nodes`) or 1.8 (`Device Stack Cluster F Nodes`). */
export function parseMountedOcfs2Full(text: string): Ocfs2Mounters[] {
  const command = "mounted.ocfs2 -f";
  const { columns, rows } = findHeader(numberedLines(text), command, "Nodes");
  const names = columns.map((c) => c.name);
  const out: Ocfs2Mounters[] = [];
  for (const row of rows) {
    let cells = sliceAligned(row.text, columns);
    if (!cells) {
      // Squeezed whitespace: take the leading fixed cells (Device, FS, Stack) by token, the rest is Nodes;
      // Cluster/F are then assumed blank (they are blank for local-heartbeat volumes).
      const tokens = row.text.trim().split(/\s+/);
      cells = {};
      let i = 0;
      for (const name of names) {
        if (name === "Cluster" || name === "F" || name === "Nodes") continue;
        cells[name] = tokens[i++] ?? "";
      }
      cells.Nodes = tokens.slice(i).join(" ");
    }
    const device = cells.Device;
    const nodesText = (cells.Nodes ?? "").trim();
    if (!device || !device.startsWith("/") || nodesText === "") {
      throw new ParseError(command, "expected `DEVICE ... Nodes`", row.text, row.number);
    }
    const nodes = /^Not mounted$/i.test(nodesText) ? [] : nodesText.split(/\s*,\s*/).filter((n) => n !== "");
    const m: Ocfs2Mounters = { device, nodes };
    const fs = optional(cells.FS), stack = optional(cells.Stack), cluster = optional(cells.Cluster), flags = optional(cells.F);
    if (fs !== undefined) m.fs = fs;
    if (stack !== undefined) m.stack = stack;
    if (cluster !== undefined) m.cluster = cluster;
    if (flags !== undefined) m.flags = flags;
    out.push(m);
  }
  return out;
}
