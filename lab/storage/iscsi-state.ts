// open-iscsi state in a lab server: node records under /var/lib/iscsi/nodes/IQN/IP,PORT,TPGT/default (persistent,
// like the real layout) and sessions under /run/iscsi/sessions (gone after a power cycle).
import * as fs from "fs";
import * as path from "path";
import { serverPath } from "./server-context";

export interface NodeRecord {
  iqn: string;
  address: string;
  port: number;
  tpgt: number;
}
export interface Session extends NodeRecord {
  sid: number;
  lun: string;
  disk: string;
}

export const NODES_DIR = "/var/lib/iscsi/nodes";
export const SESSIONS_DIR = "/run/iscsi/sessions";

/** `IP:PORT,TPGT IQN` (IPv6 addresses in brackets). */
export function formatTarget(r: NodeRecord): string {
  const host = r.address.includes(":") ? `[${r.address}]` : r.address;
  return `${host}:${r.port},${r.tpgt} ${r.iqn}`;
}

/** `IP,PORT` as in the login/logout messages. */
export function formatPortalComma(r: NodeRecord): string {
  return `${r.address},${r.port}`;
}

/** `-p` values: `IP`, `IP:PORT`, `IP:PORT,TPGT`, `[v6]:PORT,TPGT`. */
export function parsePortal(p: string): { address: string; port?: number; tpgt?: number } {
  let rest = p;
  let tpgt: number | undefined;
  const comma = rest.lastIndexOf(",");
  if (comma >= 0) {
    tpgt = Number(rest.slice(comma + 1));
    rest = rest.slice(0, comma);
  }
  let address = rest;
  let port: number | undefined;
  const v6 = /^\[(.*)\](?::(\d+))?$/.exec(rest);
  if (v6) {
    address = v6[1];
    port = v6[2] ? Number(v6[2]) : undefined;
  } else if (/^[^:]+:\d+$/.test(rest)) {
    const i = rest.lastIndexOf(":");
    address = rest.slice(0, i);
    port = Number(rest.slice(i + 1));
  }
  return { address, port, tpgt };
}

function recordDir(ctx: { root: string }, r: NodeRecord): string {
  return path.join(serverPath(ctx, NODES_DIR), r.iqn, `${r.address},${r.port},${r.tpgt}`);
}

export function writeRecord(ctx: { root: string }, r: NodeRecord): void {
  const dir = recordDir(ctx, r);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "default"),
    [
      "# BEGIN RECORD 2.0-871",
      `node.name = ${r.iqn}`,
      `node.tpgt = ${r.tpgt}`,
      "node.startup = automatic",
      "iface.iscsi_ifacename = default",
      "iface.transport_name = tcp",
      "node.discovery_type = send_targets",
      `node.conn[0].address = ${r.address}`,
      `node.conn[0].port = ${r.port}`,
      "node.conn[0].startup = manual",
      "# END RECORD",
      "",
    ].join("\n"),
  );
}

/** The settings of a node record (`name = value` lines of its file, comments left out). */
export function readRecordSettings(ctx: { root: string }, r: NodeRecord): Record<string, string> {
  const out: Record<string, string> = {};
  let text = "";
  try {
    text = fs.readFileSync(path.join(recordDir(ctx, r), "default"), "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    const m = /^([^#=\s][^=]*?)\s*=\s*(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** Sets one setting of a node record in its file (replaced in place, or added before `# END RECORD`). */
export function updateRecordSetting(ctx: { root: string }, r: NodeRecord, name: string, value: string): void {
  const file = path.join(recordDir(ctx, r), "default");
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const i = lines.findIndex((l) => !l.startsWith("#") && l.includes("=") && l.slice(0, l.indexOf("=")).trim() === name);
  if (i >= 0) lines[i] = `${name} = ${value}`;
  else {
    const end = lines.findIndex((l) => l.startsWith("# END RECORD"));
    lines.splice(end >= 0 ? end : lines.length, 0, `${name} = ${value}`);
  }
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, lines.join("\n"));
  fs.renameSync(tmp, file);
}

export function deleteRecord(ctx: { root: string }, r: NodeRecord): void {
  fs.rmSync(recordDir(ctx, r), { recursive: true, force: true });
  const iqnDir = path.join(serverPath(ctx, NODES_DIR), r.iqn);
  try {
    if (fs.readdirSync(iqnDir).length === 0) fs.rmdirSync(iqnDir);
  } catch {
    /* gone */
  }
}

export function readRecords(ctx: { root: string }): NodeRecord[] {
  const base = serverPath(ctx, NODES_DIR);
  const out: NodeRecord[] = [];
  if (!fs.existsSync(base)) return out;
  for (const iqn of fs.readdirSync(base).sort()) {
    const iqnDir = path.join(base, iqn);
    if (!fs.statSync(iqnDir).isDirectory()) continue;
    for (const portal of fs.readdirSync(iqnDir).sort()) {
      const m = /^(.*),(\d+),(\d+)$/.exec(portal);
      if (m) out.push({ iqn, address: m[1], port: Number(m[2]), tpgt: Number(m[3]) });
    }
  }
  return out;
}

export function readSessions(ctx: { root: string }): Session[] {
  const dir = serverPath(ctx, SESSIONS_DIR);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as Session)
    .sort((a, b) => a.sid - b.sid);
}

export function addSession(ctx: { root: string }, s: Omit<Session, "sid">): Session {
  const dir = serverPath(ctx, SESSIONS_DIR);
  fs.mkdirSync(dir, { recursive: true });
  const counter = path.join(dir, "..", "last-sid");
  let last = 0;
  try {
    last = Number(fs.readFileSync(counter, "utf8")) || 0;
  } catch {
    /* first session since boot */
  }
  const session: Session = { ...s, sid: last + 1 };
  fs.writeFileSync(counter, String(session.sid));
  fs.writeFileSync(path.join(dir, `${session.sid}.json`), JSON.stringify(session) + "\n");
  return session;
}

export function removeSession(ctx: { root: string }, sid: number): void {
  fs.rmSync(path.join(serverPath(ctx, SESSIONS_DIR), `${sid}.json`), { force: true });
}

export function sameTarget(a: NodeRecord, b: NodeRecord): boolean {
  return a.iqn === b.iqn && a.address === b.address && a.port === b.port && a.tpgt === b.tpgt;
}
