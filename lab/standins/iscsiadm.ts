// iscsiadm (open-iscsi 2.0-871, 2009) for lab servers: discovery answered from lab.json, node records and sessions
// kept like the real tool, login attaching the target's LUN as the server's next sdX through the device model.
import { attachDisk, detachDisk } from "../devices";
import {
  addSession,
  deleteRecord,
  formatPortalComma,
  formatTarget,
  NodeRecord,
  parsePortal,
  readRecords,
  readRecordSettings,
  readSessions,
  removeSession,
  updateRecordSetting,
  Session,
  writeRecord,
} from "../storage/iscsi-state";
import { Io, isPartitioned, readIfExists, runStandin, serverPath, StandinContext } from "../storage/server-context";
import * as path from "path";

export const ISCSI_ERR = {
  ok: 0,
  trans: 4,
  login: 5,
  inval: 7,
  transTimeout: 8,
  sessExists: 15,
  noObjsFound: 21,
} as const;

const VALUE_OPTS: Record<string, string> = {
  "-m": "mode", "--mode": "mode", "-t": "type", "--type": "type", "-p": "portal", "--portal": "portal",
  "-T": "targetname", "--targetname": "targetname", "-o": "op", "--op": "op", "-I": "interface",
  "--interface": "interface", "-r": "sid", "--sid": "sid", "-n": "name", "--name": "name", "-v": "value",
  "--value": "value", "-P": "print", "--print": "print", "-L": "loginall", "--loginall": "loginall",
  "-U": "logoutall", "--logoutall": "logoutall", "-d": "debug", "--debug": "debug",
};
const FLAG_OPTS: Record<string, string> = { "-l": "login", "--login": "login", "-u": "logout", "--logout": "logout" };

export interface IscsiArgs {
  [k: string]: string | boolean | undefined;
}

export function parseIscsiArgs(argv: string[]): IscsiArgs | string {
  const a: IscsiArgs = {};
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let inline: string | undefined;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (VALUE_OPTS[arg]) {
      const v = inline ?? argv[++i];
      if (v === undefined) return `option '${arg}' requires an argument`;
      a[VALUE_OPTS[arg]] = v;
    } else if (FLAG_OPTS[arg]) {
      a[FLAG_OPTS[arg]] = true;
    } else {
      return `unrecognized option '${arg}'`;
    }
  }
  return a;
}

function bracket(r: NodeRecord): string {
  return `[iface: default, target: ${r.iqn}, portal: ${formatPortalComma(r)}]`;
}
function sessionBracket(s: Session): string {
  return `[sid: ${s.sid}, target: ${s.iqn}, portal: ${formatPortalComma(s)}]`;
}

/** Records or sessions matching -T and -p (address, optional port and tpgt). */
function matches(r: NodeRecord, a: IscsiArgs): boolean {
  if (typeof a.targetname === "string" && r.iqn !== a.targetname) return false;
  if (typeof a.portal === "string") {
    const p = parsePortal(a.portal);
    if (p.address !== r.address) return false;
    if (p.port !== undefined && p.port !== r.port) return false;
    if (p.tpgt !== undefined && p.tpgt !== r.tpgt) return false;
  }
  return true;
}

function discovery(a: IscsiArgs, ctx: StandinContext, io: Io): number {
  const type = a.type ?? "sendtargets";
  if (type !== "sendtargets" && type !== "st") {
    io.err(`iscsiadm: discovery type ${type} is not supported\n`);
    return ISCSI_ERR.inval;
  }
  if (typeof a.portal !== "string") {
    io.err("iscsiadm: portal not specified for discovery\n");
    return ISCSI_ERR.inval;
  }
  const want = parsePortal(a.portal);
  const iscsi = ctx.lab.storage.iscsi;
  const port = want.port ?? 3260;
  if (isPartitioned(ctx)) {
    io.err(`iscsiadm: cannot make connection to ${want.address}: Connection timed out\n`);
    io.err("iscsiadm: connection login retries (reopen_max) 5 exceeded\n");
    io.err("iscsiadm: Could not perform SendTargets discovery: connection timed out\n");
    return ISCSI_ERR.transTimeout;
  }
  if (want.address !== iscsi.portalAddress || port !== iscsi.port) {
    io.err(`iscsiadm: cannot make connection to ${want.address}: Connection refused\n`);
    io.err("iscsiadm: connection login retries (reopen_max) 5 exceeded\n");
    io.err("iscsiadm: Could not perform SendTargets discovery: encountered connection failure\n");
    return ISCSI_ERR.trans;
  }
  const found: NodeRecord[] = iscsi.targets.map((t) => ({ iqn: t.iqn, address: iscsi.portalAddress, port: iscsi.port, tpgt: t.tpgt }));
  // Like the real tool: records from this portal that the target no longer reports are removed, new ones added,
  // records the administrator deleted earlier come back.
  for (const r of readRecords(ctx)) {
    if (r.address === iscsi.portalAddress && r.port === iscsi.port && !found.some((f) => f.iqn === r.iqn && f.tpgt === r.tpgt)) {
      deleteRecord(ctx, r);
    }
  }
  for (const r of found) {
    writeRecord(ctx, r);
    io.out(formatTarget(r) + "\n");
  }
  return ISCSI_ERR.ok;
}

/** Log in to every record matching the args; `requireAll` = a specific target was asked for. */
export async function login(ctx: StandinContext, io: Io, a: IscsiArgs): Promise<number> {
  let records = readRecords(ctx).filter((r) => matches(r, a));
  // --loginall=automatic (boot, `service iscsi start`): only records whose node.startup is automatic.
  if (typeof a.loginall === "string" && a.loginall !== "all") records = records.filter((r) => (readRecordSettings(ctx, r)["node.startup"] ?? "automatic") === a.loginall);
  if (records.length === 0) {
    io.err("iscsiadm: No records found\n");
    return ISCSI_ERR.noObjsFound;
  }
  const specific = typeof a.targetname === "string";
  const sessions = readSessions(ctx);
  const todo = records.filter((r) => specific || !sessions.some((s) => s.iqn === r.iqn && s.address === r.address && s.port === r.port));
  if (todo.length === 0) {
    io.err(`iscsiadm: default: ${records.length} session requested, but ${records.length} already present.\n`);
    io.err("iscsiadm: Could not log into all portals\n");
    return ISCSI_ERR.sessExists;
  }
  for (const r of todo) io.out(`Logging in to ${bracket(r)}\n`);
  let rc: number = ISCSI_ERR.ok;
  const iscsi = ctx.lab.storage.iscsi;
  for (const r of todo) {
    const fail = (code: number, why: string) => {
      io.err(`iscsiadm: Could not login to ${bracket(r)}: \n`);
      io.err(`iscsiadm: initiator reported error (${code} - ${why})\n`);
      rc = code;
    };
    if (readSessions(ctx).some((s) => s.iqn === r.iqn && s.address === r.address && s.port === r.port)) {
      fail(ISCSI_ERR.sessExists, "already exists");
      continue;
    }
    if (isPartitioned(ctx) || r.address !== iscsi.portalAddress || r.port !== iscsi.port) {
      fail(ISCSI_ERR.transTimeout, "connection timed out");
      continue;
    }
    const target = iscsi.targets.find((t) => t.iqn === r.iqn && t.tpgt === r.tpgt);
    if (!target) {
      fail(ISCSI_ERR.login, "encountered iSCSI login failure");
      continue;
    }
    const disk = await attachDisk(ctx.labDir, ctx.identity.name, target.lun);
    addSession(ctx, { ...r, lun: target.lun, disk });
    io.out(`Login to ${bracket(r)}: successful\n`);
  }
  if (rc !== ISCSI_ERR.ok && todo.length > 1) io.err("iscsiadm: Could not log into all portals\n");
  return rc;
}

export async function logout(ctx: StandinContext, io: Io, a: IscsiArgs): Promise<number> {
  const sessions = readSessions(ctx).filter((s) => matches(s, a) && (typeof a.sid !== "string" || s.sid === Number(a.sid)));
  if (sessions.length === 0) {
    io.err("iscsiadm: No matching sessions found\n");
    return ISCSI_ERR.noObjsFound;
  }
  for (const s of sessions) io.out(`Logging out of session ${sessionBracket(s)}\n`);
  for (const s of sessions) {
    await detachDisk(ctx.labDir, ctx.identity.name, s.lun);
    removeSession(ctx, s.sid);
    io.out(`Logout of ${sessionBracket(s)}: successful\n`);
  }
  return ISCSI_ERR.ok;
}

/** Keys a record is looked up by (its directory name): open-iscsi refuses to change them. */
const LOOKUP_KEYS = new Set(["node.name", "node.tpgt", "node.conn[0].address", "node.conn[0].port", "iface.iscsi_ifacename"]);
const SETTING_NAME = /^(node|iface)\.[A-Za-z0-9_.[\]]+$/;

/**
 * `-o update -n NAME -v VALUE`: changes the setting in every matching record's file (what `-o show` prints and what
 * `--loginall=automatic` at boot reads). Refusals as open-iscsi words them (iscsiadm.c): no name/value, an iface.*
 * setting other than iface.transport_name, a lookup key.
 */
function update(ctx: StandinContext, io: Io, a: IscsiArgs, records: NodeRecord[]): number {
  const name = typeof a.name === "string" ? a.name : undefined;
  const value = typeof a.value === "string" ? a.value : undefined;
  if (name === undefined || value === undefined) {
    io.err("iscsiadm: update requires name and value\n");
    return ISCSI_ERR.inval;
  }
  const key = name === "node.transport_name" ? "iface.transport_name" : name;
  if (key.startsWith("iface.") && key !== "iface.transport_name") {
    io.err(`iscsiadm: Cannot modify ${name}. Use iface mode to update this value.\n`);
    return ISCSI_ERR.inval;
  }
  if (LOOKUP_KEYS.has(key) || !SETTING_NAME.test(key) || /[\n=]/.test(value)) {
    io.err(`iscsiadm: Cannot modify ${name}. It is used to look up the record and cannot be changed.\n`);
    return ISCSI_ERR.inval;
  }
  for (const r of records) updateRecordSetting(ctx, r, key, value);
  return ISCSI_ERR.ok;
}

async function nodeMode(a: IscsiArgs, ctx: StandinContext, io: Io): Promise<number> {
  if (a.login || a.loginall) return login(ctx, io, a);
  if (a.logout || a.logoutall) return logout(ctx, io, a);
  const records = readRecords(ctx).filter((r) => matches(r, a));
  const op = a.op;
  if (op === "new") {
    if (typeof a.targetname !== "string" || typeof a.portal !== "string") {
      io.err("iscsiadm: --targetname and --portal are required for new records\n");
      return ISCSI_ERR.inval;
    }
    const p = parsePortal(a.portal);
    const r = { iqn: a.targetname, address: p.address, port: p.port ?? 3260, tpgt: p.tpgt ?? 1 };
    writeRecord(ctx, r);
    io.out(`New iSCSI node [tcp:[hw=,ip=,net_if=,iscsi_if=default] ${formatPortalComma(r)},${r.tpgt} ${r.iqn}] added\n`);
    return ISCSI_ERR.ok;
  }
  if (records.length === 0) {
    io.err("iscsiadm: No records found\n");
    return ISCSI_ERR.noObjsFound;
  }
  if (op === "delete") {
    for (const r of records) deleteRecord(ctx, r);
    return ISCSI_ERR.ok;
  }
  if (op === "update") return update(ctx, io, a, records);
  if (op !== undefined && op !== "show") {
    io.err(`iscsiadm: Invalid op ${op}\n`);
    return ISCSI_ERR.inval;
  }
  if (typeof a.targetname === "string" && op === undefined) {
    for (const r of records) {
      const file = path.join(serverPath(ctx, "/var/lib/iscsi/nodes"), r.iqn, `${r.address},${r.port},${r.tpgt}`, "default");
      io.out((readIfExists(file) ?? "").split("\n").filter((l) => l && !l.startsWith("#")).join("\n") + "\n");
    }
    return ISCSI_ERR.ok;
  }
  for (const r of records) io.out(formatTarget(r) + "\n");
  return ISCSI_ERR.ok;
}

async function sessionMode(a: IscsiArgs, ctx: StandinContext, io: Io): Promise<number> {
  if (a.logout) return logout(ctx, io, a);
  const sessions = readSessions(ctx).filter((s) => typeof a.sid !== "string" || s.sid === Number(a.sid));
  if (sessions.length === 0) {
    io.err("iscsiadm: No active sessions.\n");
    return ISCSI_ERR.noObjsFound;
  }
  for (const s of sessions) io.out(`tcp: [${s.sid}] ${formatTarget(s)}\n`);
  return ISCSI_ERR.ok;
}

export async function iscsiadm(argv: string[], ctx: StandinContext, io: Io): Promise<number> {
  const a = parseIscsiArgs(argv);
  if (typeof a === "string") {
    io.err(`iscsiadm: ${a}\n`);
    return ISCSI_ERR.inval;
  }
  switch (a.mode) {
    case "discovery":
      return discovery(a, ctx, io);
    case "node":
      return nodeMode(a, ctx, io);
    case "session":
      return sessionMode(a, ctx, io);
    case undefined:
      io.err("iscsiadm: no mode specified\n");
      return ISCSI_ERR.inval;
    default:
      io.err(`iscsiadm: Invalid mode ${a.mode}\n`);
      return ISCSI_ERR.inval;
  }
}

if (require.main === module) runStandin(iscsiadm);
