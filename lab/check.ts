// Split-brain checker. Every lab guest appends `<server> <pid> <epoch_ms>` to `<disk image>.runlog` every
// 200 ms while it runs (lab/guest/guest.pl); the disk images are on shared storage, so one guest's records from
// every server meet in one file. Each (server, pid) incarnation ran over [first record, last record]; two
// incarnations whose spans overlap mean the guest ran twice at once, which HA must never allow.
// It also knows which guests should have run (the HA guest records on the shared storage, or a list given) and
// fails when one has no run record in the window; it reports each guest's downtime (its longest gap without a
// record). It never passes on nothing: no expected guest, or no run record, is a failure.
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { firstFileDisk, parseVmConfig } from "./hypervisor/vm-config";

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

export interface CheckOptions {
  /** Guests that must have run (names); default: every guest whose HA record (running_pool/NAME/ha.json) says ha. */
  guests?: string[];
  /** Window (epoch ms); default: from the first record of any expected guest to now. */
  since?: number;
  until?: number;
  /** Fail when a guest's downtime in the window exceeds this. */
  maxDowntimeMs?: number;
}

export interface GuestReport {
  name: string;
  /** Its run log, relative to the lab dir; undefined when none was found. */
  runlog?: string;
  /** Records in the window. */
  records: number;
  /** Servers it ran on in the window, in order of first appearance. */
  servers: string[];
  /** Longest time in the window without a record of it (window edges count), and where that gap lies. */
  downtimeMs: number;
  downtimeFrom: number;
  downtimeTo: number;
}

export interface CheckResult {
  ok: boolean;
  overlaps: Overlap[];
  /** Run logs (guests) seen. */
  guests: number;
  /** Well-formed records read. */
  records: number;
  /** Each expected guest, with its downtime. */
  expected: GuestReport[];
  /** Why the check fails, other than overlaps (no expected guest, a guest without records, too much downtime). */
  problems: string[];
  window: { since: number; until: number };
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


interface GuestRecordFile {
  name: string;
  ha: boolean;
  dir: string;
}

/** HA guest records (`.../running_pool/NAME/ha.json`) found on the shared storage. */
function findGuestRecords(dir: string, out: GuestRecordFile[]): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) findGuestRecords(p, out);
    else if (e.isFile() && e.name === "ha.json") {
      try {
        // Only the two fields the checker needs: the checker judges the world, not the watchdog's schema.
        const rec = JSON.parse(fs.readFileSync(p, "utf8")) as { name?: unknown; ha?: unknown };
        if (typeof rec.name === "string") out.push({ name: rec.name, ha: rec.ha === true, dir });
      } catch {
        /* a record being written: the next check reads it */
      }
    }
  }
}

/** The run log beside the guest's first file-backed disk in its directory, else any run log there. */
function runlogOfGuestDir(dir: string, runlogs: string[]): string | undefined {
  const inDir = runlogs.filter((r) => path.dirname(r) === dir);
  try {
    const disk = firstFileDisk(parseVmConfig(fs.readFileSync(path.join(dir, "vm.cfg"), "utf8")));
    const mine = disk && inDir.find((r) => path.basename(r) === path.basename(disk.target) + ".runlog");
    if (mine) return mine;
  } catch {
    /* no readable vm.cfg: any run log of the directory */
  }
  return inDir[0];
}

/** Longest stretch of [since, until] with no record (times sorted ascending). */
export function longestGap(times: number[], since: number, until: number): { ms: number; from: number; to: number } {
  let best = { ms: -1, from: since, to: until };
  let prev = since;
  for (const t of [...times.filter((x) => x >= since && x <= until), until]) {
    if (t - prev > best.ms) best = { ms: t - prev, from: prev, to: t };
    prev = t;
  }
  return { ...best, ms: Math.max(0, best.ms) };
}

async function readLines(file: string): Promise<string[]> {
  const lines: string[] = [];
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) lines.push(line);
  return lines;
}

export async function checkLab(labDir: string, opts: CheckOptions = {}): Promise<CheckResult> {
  const storage = path.join(labDir, "storage");
  const files: string[] = [];
  findRunlogs(storage, files);
  files.sort();
  const overlaps: Overlap[] = [];
  const timesByFile = new Map<string, { server: string; ms: number }[]>();
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
    const recs: { server: string; ms: number }[] = [];
    for (const l of lines) {
      const m = /^(\S+) (\d+) (\d+)$/.exec(l.trim());
      if (m) recs.push({ server: m[1], ms: Number(m[3]) });
    }
    timesByFile.set(file, recs.sort((a, b) => a.ms - b.ms));
  }

  // Which guests should have run, and the run log of each.
  const problems: string[] = [];
  const guestRecords: GuestRecordFile[] = [];
  findGuestRecords(storage, guestRecords);
  const wanted: { name: string; runlog?: string }[] = [];
  if (opts.guests !== undefined) {
    for (const name of opts.guests) {
      const rec = guestRecords.find((r) => r.name === name);
      const dir = rec?.dir;
      const runlog = dir ? runlogOfGuestDir(dir, files) : files.find((f) => path.basename(path.dirname(f)) === name);
      wanted.push({ name, runlog });
    }
  } else {
    for (const rec of guestRecords.filter((r) => r.ha).sort((a, b) => a.name.localeCompare(b.name))) {
      wanted.push({ name: rec.name, runlog: runlogOfGuestDir(rec.dir, files) });
    }
  }
  if (wanted.length === 0) {
    problems.push(
      opts.guests !== undefined
        ? "no expected guests: the list given is empty"
        : `no expected guests: no HA guest record (running_pool/NAME/ha.json with "ha": true) under ${storage}; name the guests that must have run (--guests a,b,c)`,
    );
  }
  if (records === 0) problems.push(`no run records at all under ${storage}: no guest ever ran, so nothing was checked`);

  const firstOfWanted = Math.min(...wanted.map((w) => (w.runlog ? timesByFile.get(w.runlog)?.[0]?.ms ?? Infinity : Infinity)));
  const until = opts.until ?? Date.now();
  const since = opts.since ?? (Number.isFinite(firstOfWanted) ? firstOfWanted : until);
  const expected: GuestReport[] = [];
  for (const w of wanted) {
    const recs = (w.runlog ? timesByFile.get(w.runlog) ?? [] : []).filter((r) => r.ms >= since && r.ms <= until);
    const gap = longestGap(recs.map((r) => r.ms), since, until);
    const report: GuestReport = {
      name: w.name,
      runlog: w.runlog ? path.relative(labDir, w.runlog) : undefined,
      records: recs.length,
      servers: [...new Set(recs.map((r) => r.server))],
      downtimeMs: gap.ms,
      downtimeFrom: gap.from,
      downtimeTo: gap.to,
    };
    expected.push(report);
    if (!w.runlog) problems.push(`MISSING ${w.name}: no run log found (it never ran on any server)`);
    else if (recs.length === 0) problems.push(`MISSING ${w.name}: no run record from ${iso(since)} to ${iso(until)}`);
    else if (opts.maxDowntimeMs !== undefined && gap.ms > opts.maxDowntimeMs) {
      problems.push(`DOWNTIME ${w.name}: ${gap.ms} ms without a record from ${iso(gap.from)} to ${iso(gap.to)} (at most ${opts.maxDowntimeMs} ms allowed)`);
    }
  }
  return {
    ok: overlaps.length === 0 && problems.length === 0,
    overlaps,
    guests: files.length,
    records,
    expected,
    problems,
    window: { since, until },
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

export function formatOverlap(o: Overlap): string {
  return (
    `OVERLAP ${o.guest}: ${o.a.server} pid ${o.a.pid} and ${o.b.server} pid ${o.b.pid} ran together ` +
    `from ${iso(o.start)} to ${iso(o.end)} (${o.end - o.start} ms)`
  );
}

export function formatGuest(g: GuestReport): string {
  if (g.records === 0) return `guest ${g.name}: no run record in the window`;
  return `guest ${g.name}: ${g.records} records on ${g.servers.join(", ")}; downtime ${g.downtimeMs} ms (${iso(g.downtimeFrom)} to ${iso(g.downtimeTo)})`;
}

/**
 * First line `ok` or `FAILED`, then one line per overlap and per problem, then one line per expected guest with
 * its downtime (no trailing newline).
 */
export function formatCheckReport(r: CheckResult): string {
  const head = r.ok
    ? `ok: ${r.expected.length} guests ran from ${iso(r.window.since)} to ${iso(r.window.until)}, none on two servers at once`
    : "FAILED";
  return [head, ...r.overlaps.map(formatOverlap), ...r.problems, ...r.expected.map(formatGuest)].join("\n");
}
