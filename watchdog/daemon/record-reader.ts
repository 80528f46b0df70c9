// Reads the pool's HA record, the guests' records and the drain requests from the shared storage in ONE SSH
// command on whichever server answers: `tail -v -n +1` prints each file behind a `==> FILE <==` header.
import { createHash } from "crypto";
import { shellWithArgs, type Argv } from "../../provider/ssh";
import { GuestRecordSchema, PoolRecordSchema, describeIssues, type GuestRecord, type PoolRecord } from "../../ha/ha-record";
import { DrainRequestSchema, DrainResponseSchema, REQUESTS_DIR, type DrainRequest, type DrainResponse } from "./drain-request";

const SCRIPT =
  'cd "$1" || exit 3; ' +
  `set -- .ovm-ha/pool.json running_pool/*/ha.json ${REQUESTS_DIR}/*.json; ` +
  'tail -v -n +1 -- "$@" 2>/dev/null; exit 0';

/** The remote command; the cluster root travels as a quoted argument. */
export function readRecordsCommand(clusterRoot: string): Argv {
  return shellWithArgs(SCRIPT, clusterRoot);
}

export interface RecordSnapshot {
  /** Undefined when pool.json is missing or invalid (see problems). */
  pool?: PoolRecord;
  guests: GuestRecord[];
  requests: DrainRequest[];
  responses: DrainResponse[];
  /** Human-readable problems (invalid files, names not matching their directory...). */
  problems: string[];
  /** Hash of the pool and guest files' contents: a change means a `config` observation. */
  recordsHash: string;
}

/** Splits `tail -v` output into files. */
export function splitTailOutput(text: string): { file: string; content: string }[] {
  const out: { file: string; content: string }[] = [];
  const re = /^==> (.+) <==$/gm;
  let m: RegExpExecArray | null;
  let last: { file: string; start: number } | undefined;
  while ((m = re.exec(text))) {
    if (last) out.push({ file: last.file, content: text.slice(last.start, m.index) });
    last = { file: m[1], start: m.index + m[0].length };
  }
  if (last) out.push({ file: last.file, content: text.slice(last.start) });
  return out;
}

export function parseRecords(text: string): RecordSnapshot {
  const snap: RecordSnapshot = { guests: [], requests: [], responses: [], problems: [], recordsHash: "" };
  const hash = createHash("sha256");
  const files = splitTailOutput(text);
  for (const { file, content } of files) {
    let json: unknown;
    try {
      json = JSON.parse(content);
    } catch (e) {
      if (file.startsWith(REQUESTS_DIR) && content.trim() === "") continue; // being written
      snap.problems.push(`${file}: not valid JSON (${(e as Error).message})`);
      continue;
    }
    if (file === ".ovm-ha/pool.json") {
      hash.update(file).update(content.trim());
      const r = PoolRecordSchema.safeParse(json);
      if (r.success) snap.pool = r.data;
      else snap.problems.push(`${file}: ${describeIssues(r.error).join("; ")}`);
    } else if (/^running_pool\/[^/]+\/ha\.json$/.test(file)) {
      hash.update(file).update(content.trim());
      const r = GuestRecordSchema.safeParse(json);
      const dir = file.split("/")[1];
      if (!r.success) snap.problems.push(`${file}: ${describeIssues(r.error).join("; ")}`);
      else if (r.data.name !== dir) snap.problems.push(`${file}: name '${r.data.name}' differs from its directory '${dir}'; ignored`);
      else snap.guests.push(r.data);
    } else if (file.startsWith(`${REQUESTS_DIR}/`)) {
      const base = file.slice(REQUESTS_DIR.length + 1);
      if (base.endsWith(".response.json")) {
        const r = DrainResponseSchema.safeParse(json);
        if (r.success) snap.responses.push(r.data);
      } else {
        const r = DrainRequestSchema.safeParse(json);
        if (!r.success) snap.problems.push(`${file}: ${describeIssues(r.error).join("; ")}`);
        else if (`${r.data.server}.json` !== base) snap.problems.push(`${file}: names server '${r.data.server}'; ignored`);
        else snap.requests.push(r.data);
      }
    }
  }
  if (!files.some((f) => f.file === ".ovm-ha/pool.json")) snap.problems.push(".ovm-ha/pool.json: missing");
  snap.guests.sort((a, b) => (a.name < b.name ? -1 : 1));
  snap.recordsHash = hash.digest("hex");
  return snap;
}
