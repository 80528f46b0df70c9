import { ParseError } from "./parse-error";
import { numberedLines } from "./text-lines";

/** One target record from discovery or `iscsiadm -m node`: `IP:PORT,TPGT IQN`. */
export interface IscsiTarget {
  /** Address without brackets (IPv6 brackets removed). */
  address: string;
  port: number;
  tpgt: number;
  iqn: string;
  /** `address:port` as iscsiadm's -p wants it (IPv6 in brackets). */
  portal: string;
}

export interface IscsiSession extends IscsiTarget {
  transport: string;
  sid: number;
  /** Trailing annotation of newer iscsiadm, e.g. `non-flash`; undefined when absent. */
  note?: string;
}

const PORTAL = /^(\[[0-9A-Fa-f:.%a-zA-Z0-9]+\]|[^\s:,\[\]]+):(\d+),(\d+)$/;

function splitPortal(portalWithTpgt: string): { address: string; port: number; tpgt: number; portal: string } | null {
  const m = PORTAL.exec(portalWithTpgt);
  if (!m) return null;
  const bracketed = m[1].startsWith("[");
  const address = bracketed ? m[1].slice(1, -1) : m[1];
  return { address, port: Number(m[2]), tpgt: Number(m[3]), portal: `${bracketed ? `[${address}]` : address}:${m[2]}` };
}

/** Lines iscsiadm prints about the run rather than records (`iscsiadm: No records found`, warnings). */
function isDiagnostic(line: string): boolean {
  return /^iscsiadm:/.test(line);
}

function parseTargetLines(text: string, command: string): IscsiTarget[] {
  const targets: IscsiTarget[] = [];
  for (const { text: raw, number } of numberedLines(text)) {
    const line = raw.trim();
    if (line === "" || isDiagnostic(line)) continue;
    const parts = line.split(/\s+/);
    const p = parts.length === 2 ? splitPortal(parts[0]) : null;
    if (!p) throw new ParseError(command, "expected `IP:PORT,TPGT IQN`", raw, number);
    targets.push({ ...p, iqn: parts[1] });
  }
  return targets;
}

/** Parses `iscsiadm -m discovery -t sendtargets -p IP` output. */
export function parseIscsiDiscovery(text: string): IscsiTarget[] {
  return parseTargetLines(text, "iscsiadm -m discovery");
}

/** Parses `iscsiadm -m node` output (same record format as discovery). */
export function parseIscsiNodes(text: string): IscsiTarget[] {
  return parseTargetLines(text, "iscsiadm -m node");
}

/**
 * Parses `iscsiadm -m session`: `tcp: [1] IP:PORT,TPGT IQN` (newer versions append ` (non-flash)`); the
 * open-iscsi README's own example prints `tcp [2] ...` without the colon, so the colon is optional.
 */
export function parseIscsiSessions(text: string): IscsiSession[] {
  const command = "iscsiadm -m session";
  const sessions: IscsiSession[] = [];
  for (const { text: raw, number } of numberedLines(text)) {
    const line = raw.trim();
    if (line === "" || isDiagnostic(line)) continue;
    const m = /^(\w+):?\s*\[(\d+)\]\s+(\S+)\s+(\S+)(?:\s+\(([^)]*)\))?$/.exec(line);
    const p = m ? splitPortal(m[3]) : null;
    if (!m || !p) throw new ParseError(command, "expected `tcp: [SID] IP:PORT,TPGT IQN`", raw, number);
    sessions.push({ ...p, iqn: m[4], transport: m[1], sid: Number(m[2]), ...(m[5] !== undefined ? { note: m[5] } : {}) });
  }
  return sessions;
}

/** A bracketed record in login/logout messages, e.g. `[iface: default, target: IQN, portal: IP,PORT]`. */
export interface IscsiLoginRecord {
  iface?: string;
  sid?: number;
  iqn: string;
  address: string;
  port: number;
}

export interface IscsiLoginOutput {
  /** Records for which a `Logging in to` / `Logging out of session` line was printed. */
  attempted: IscsiLoginRecord[];
  /** Records for which `Login to [...]: successful` / `Logout of [...]: successful` was printed. */
  succeeded: IscsiLoginRecord[];
  /** `iscsiadm:` lines (errors such as `Could not login to [...]`). */
  errors: string[];
}

function parseRecord(inside: string): IscsiLoginRecord | null {
  const fields: Record<string, string> = {};
  for (const part of inside.split(",")) {
    const kv = /^\s*(\w+):\s*(.*?)\s*$/.exec(part);
    if (kv) fields[kv[1]] = kv[2];
    else if (/^\s*\d+\s*$/.test(part) && fields.portal !== undefined && !fields.portal.includes(",")) {
      // The portal is printed as `IP,PORT`, so the port arrives as its own comma-separated piece.
      fields.portal = `${fields.portal},${part.trim()}`;
    }
  }
  const portal = /^\[?(.*?)\]?,(\d+)$/.exec(fields.portal ?? "");
  if (fields.target === undefined || !portal) return null;
  return {
    ...(fields.iface !== undefined ? { iface: fields.iface } : {}),
    ...(fields.sid !== undefined && /^\d+$/.test(fields.sid) ? { sid: Number(fields.sid) } : {}),
    iqn: fields.target,
    address: portal[1],
    port: Number(portal[2]),
  };
}

/**
 * Parses `iscsiadm ... --login` / `--logout` output in the 2009 wording (`Login to [...]: successful`) and
 * the newer one (`Login to [...] successful.`).
 */
export function parseIscsiLoginOutput(text: string): IscsiLoginOutput {
  const command = "iscsiadm --login/--logout";
  const out: IscsiLoginOutput = { attempted: [], succeeded: [], errors: [] };
  for (const { text: raw, number } of numberedLines(text)) {
    const line = raw.trim();
    if (line === "") continue;
    if (isDiagnostic(line)) {
      out.errors.push(line);
      continue;
    }
    const m = /^(Logging in to|Logging out of session|Login to|Logout of)\s+\[(.*)\](.*)$/.exec(line);
    if (!m) continue; // Other informational lines (e.g. `(multiple)` notes) carry no state.
    const record = parseRecord(m[2]);
    if (!record) throw new ParseError(command, "cannot read the bracketed target record", raw, number);
    if (m[1].startsWith("Logging")) out.attempted.push(record);
    else if (/successful/.test(m[3])) out.succeeded.push(record);
    else out.errors.push(line);
  }
  return out;
}

/** iscsiadm exit codes (open-iscsi iscsi_err.h); formats.md confirms 0, 5, 8, 15, 21, 24. */
export const ISCSI_EXIT_CODES: Readonly<Record<number, string>> = {
  0: "ok",
  1: "generic-error",
  2: "session-not-found",
  3: "no-memory",
  4: "transport-error",
  5: "login-failure",
  6: "database-error",
  7: "invalid-argument",
  8: "connection-timed-out",
  9: "internal-error",
  10: "logout-failure",
  11: "pdu-timeout",
  12: "transport-not-found",
  13: "access-denied",
  14: "transport-capabilities",
  15: "session-exists",
  16: "invalid-request",
  17: "isns-unavailable",
  18: "iscsid-communication-error",
  19: "fatal-login-failure",
  20: "iscsid-not-connected",
  21: "no-objects-found",
  22: "sysfs-lookup-failure",
  23: "host-not-found",
  24: "authentication-failure",
  25: "isns-query-failure",
  26: "isns-registration-failure",
  27: "operation-not-supported",
  28: "busy",
  29: "try-again",
  30: "unknown-discovery-type",
};

export interface IscsiExitMeaning {
  code: number;
  meaning: string;
  /** The call achieved what was asked: 0, or 15 for a login whose session already exists. */
  satisfied: boolean;
  /** Nothing to list/act on (21): an empty result, not a failure, for listing commands. */
  nothingFound: boolean;
}

/** Interprets an iscsiadm exit code. `login` makes "session exists" count as success (idempotent login). */
export function iscsiExitMeaning(code: number, operation: "login" | "other" = "other"): IscsiExitMeaning {
  return {
    code,
    meaning: ISCSI_EXIT_CODES[code] ?? "unknown",
    satisfied: code === 0 || (operation === "login" && code === 15),
    nothingFound: code === 21,
  };
}
