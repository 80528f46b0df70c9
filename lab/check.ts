// Split-brain checker. Every lab guest appends `<server> <pid> <epoch_ms>` to `<disk image>.runlog` every
// 200 ms while it runs (lab/guest/guest.pl); the disk images are on shared storage, so one guest's records from
// every server meet in one file. Each (server, pid) incarnation ran over [first record, last record]; two
// incarnations whose spans overlap mean the guest ran twice at once, which HA must never allow.
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";

export interface Incarnation {
  server: string;
  pid: number;
  /** Epoch ms of its first and last record. */
  first: number;
  last: number;
  records: number;
}

export interface Overlap {
  /** The run log, relative to the lab dir (one file per guest disk image). */
  guest: string;
  a: Incarnation;
  b: Incarnation;
  /** Epoch ms window during which both ran. */
  start: number;
  end: number;
}

export interface CheckResult {
  ok: boolean;
  overlaps: Overlap[];
  /** Run logs (guests) seen. */
  guests: number;
  /** Well-formed records read. */
  records: number;
}

function findRunlogs(dir: string, out: string[]): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // storage not created yet, or a directory that vanished while scanning
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    // Symlinks are not followed: the storage tree is real directories, and a link could loop.
    if (e.isDirectory()) findRunlogs(p, out);
    else if (e.isFile() && e.name.endsWith(".runlog")) out.push(p);
  }
}

/** Incarnations of one guest from its run log lines; malformed lines (a torn write) are skipped. */
export function incarnationsFromLines(lines: Iterable<string>): { incarnations: Incarnation[]; records: number } {
  const byKey = new Map<string, Incarnation>();
  let records = 0;
  for (const line of lines) {
    const m = /^(\S+) (\d+) (\d+)$/.exec(line.trim());
    if (!m) continue;
    records++;
    const [server, pid, ms] = [m[1], Number(m[2]), Number(m[3])];
    const key = `${server} ${pid}`;
    const inc = byKey.get(key);
    if (!inc) byKey.set(key, { server, pid, first: ms, last: ms, records: 1 });
    else {
      inc.first = Math.min(inc.first, ms);
      inc.last = Math.max(inc.last, ms);
      inc.records++;
    }
  }
  return { incarnations: [...byKey.values()].sort((x, y) => x.first - y.first), records };
}

/** Every pair of different incarnations whose spans intersect (touching counts: same millisecond). */
export function findOverlaps(guest: string, incarnations: Incarnation[]): Overlap[] {
  const out: Overlap[] = [];
  for (let i = 0; i < incarnations.length; i++) {
    for (let j = i + 1; j < incarnations.length; j++) {
      const a = incarnations[i];
      const b = incarnations[j];
      const start = Math.max(a.first, b.first);
      const end = Math.min(a.last, b.last);
      if (start <= end) out.push({ guest, a, b, start, end });
    }
  }
  return out;
}

async function readLines(file: string): Promise<string[]> {
  const lines: string[] = [];
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) lines.push(line);
  return lines;
}

export async function checkLab(labDir: string): Promise<CheckResult> {
  const files: string[] = [];
  findRunlogs(path.join(labDir, "storage"), files);
  files.sort();
  const overlaps: Overlap[] = [];
  let records = 0;
  for (const file of files) {
    let lines: string[];
    try {
      lines = await readLines(file);
    } catch {
      continue;
    }
    const parsed = incarnationsFromLines(lines);
    records += parsed.records;
    overlaps.push(...findOverlaps(path.relative(labDir, file), parsed.incarnations));
  }
  return { ok: overlaps.length === 0, overlaps, guests: files.length, records };
}

const iso = (ms: number) => new Date(ms).toISOString();

export function formatOverlap(o: Overlap): string {
  return (
    `OVERLAP ${o.guest}: ${o.a.server} pid ${o.a.pid} and ${o.b.server} pid ${o.b.pid} ran together ` +
    `from ${iso(o.start)} to ${iso(o.end)} (${o.end - o.start} ms)`
  );
}

/** `ok` when no guest ran twice, else one line per overlap (no trailing newline). */
export function formatCheckReport(r: CheckResult): string {
  if (r.ok) return "ok";
  return r.overlaps.map(formatOverlap).join("\n");
}

