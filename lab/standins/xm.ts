// Stand-in for Xen 3.4's `xm` on a lab server: domains are guest processes (lab/guest/guest.pl), their records
// live in /run/xend. Output and exit codes follow /work/shared/reference/formats.md.
import * as fs from "fs";
import * as path from "path";
import { faultFiles, readXendFault } from "../faults";
import { DomainRecord, DomainStore, domainName } from "../hypervisor/domain-store";
import { killGuest, pauseGuest, requestShutdown, runlogPath, startGuest, unpauseGuest } from "../hypervisor/guest-control";
import { HostContext, loadHostContext } from "../hypervisor/host-context";
import { freeMemoryMb, notEnoughMemoryMessage } from "../hypervisor/memory";
import { migrate, ReceiverConnector, sshConnector } from "../hypervisor/migrate-out";
import { cpuSeconds, isProcessStopped, sleep, waitProcessGone } from "../hypervisor/process-probe";
import { deviceNumber, fileDiskSpecs, parseVmConfig, VmConfigError } from "../hypervisor/vm-config";
import { XmError, alreadyExists, noSuchDomain, notRunning } from "../hypervisor/xm-error";
import { formatInfo, formatList, ListRow, recordRow } from "../hypervisor/xm-output";

export { connectError, sshConnector } from "../hypervisor/migrate-out";
export type { ReceiverConnector } from "../hypervisor/migrate-out";

export interface XmIo {
  out(text: string): void;
}

const DOM0 = "Domain-0";

function isDom0(dom: string): boolean {
  return dom === DOM0 || dom === "0";
}

function dom0Row(ctx: HostContext): ListRow {
  let uptime = 0;
  try {
    uptime = Number(fs.readFileSync("/proc/uptime", "utf8").split(" ")[0]) || 0;
  } catch {
    /* no /proc: leave 0 */
  }
  // Dom0 is mostly idle: a small share of the machine's uptime is a plausible CPU time.
  return { name: DOM0, id: 0, memory: ctx.server.dom0MemoryMb, vcpus: ctx.server.nrCpus, state: "r-----", cpuSeconds: uptime * 0.02 };
}

function guestRow(rec: DomainRecord): ListRow {
  const stopped = rec.pid > 0 ? isProcessStopped(rec.pid) : true;
  return recordRow(rec, stopped, rec.pid > 0 ? cpuSeconds(rec.pid) : 0);
}

async function list(ctx: HostContext, store: DomainStore, args: string[], io: XmIo): Promise<void> {
  const doms = args.filter((a) => !a.startsWith("-"));
  const bad = args.find((a) => a.startsWith("-"));
  if (bad) throw new XmError(`option ${bad} not recognized`);
  const records = await store.withLock(() => store.list());
  const rows: ListRow[] = [];
  if (doms.length === 0) {
    rows.push(dom0Row(ctx), ...records.map(guestRow));
  } else {
    for (const dom of doms) {
      if (isDom0(dom)) {
        rows.push(dom0Row(ctx));
        continue;
      }
      const rec = records.find((r) => domainName(r) === dom) ?? (/^\d+$/.test(dom) ? records.find((r) => r.id === Number(dom)) : undefined);
      if (!rec) throw noSuchDomain(dom);
      rows.push(guestRow(rec));
    }
  }
  io.out(formatList(rows));
}

async function info(ctx: HostContext, store: DomainStore, io: XmIo): Promise<void> {
  const records = await store.withLock(() => store.list());
  io.out(
    formatInfo({
      host: ctx.server.name,
      nrCpus: ctx.server.nrCpus,
      totalMemoryMb: ctx.server.totalMemoryMb,
      freeMemoryMb: freeMemoryMb(ctx.server, records),
    }),
  );
}

function resolveCfgPath(cfg: string): string | undefined {
  if (fs.existsSync(cfg)) return path.resolve(cfg);
  // Like xm, a bare name is also looked up under /etc/xen.
  if (!path.isAbsolute(cfg) && fs.existsSync(path.join("/etc/xen", cfg))) return path.join("/etc/xen", cfg);
  return undefined;
}

/**
 * What xm meets when it talks to xend (`lab xend`): xend stopped gives xm's own socket error (Xen 3.4
 * tools/python/xen/xm/main.py: `err("Unable to connect to xend: %s. Is xend running?" % ex[1])`, exit 1); a
 * busy xend handles the request late.
 */
export async function reachXend(ctx: HostContext): Promise<void> {
  const fault = readXendFault(ctx.identity.labDir, ctx.server.name);
  if (fault?.mode === "down") throw new XmError("Unable to connect to xend: No such file or directory. Is xend running?");
  if (fault?.mode === "slow" && !fault.stale) await sleep(fault.ms);
}

async function create(ctx: HostContext, store: DomainStore, args: string[], io: XmIo): Promise<void> {
  const files = args.filter((a) => !a.startsWith("-"));
  if (files.length !== 1) throw new XmError("'xm create' requires a config file argument.");
  const cfgPath = resolveCfgPath(files[0]);
  if (!cfgPath) throw new XmError(`Unable to open config file: ${files[0]}`);
  io.out(`Using config file "${cfgPath}".\n`);
  // xm reads the config file itself, then asks xend (a real `xm create` with xend down prints both lines).
  await reachXend(ctx);
  let cfg;
  try {
    cfg = parseVmConfig(fs.readFileSync(cfgPath, "utf8"));
  } catch (e) {
    if (e instanceof VmConfigError) throw new XmError(`Invalid configuration in ${cfgPath}: ${e.message}`);
    throw e;
  }
  const rec = await store.withLock(() => {
    const records = store.list();
    const existing = records.find((r) => r.name === cfg.name);
    if (existing) throw alreadyExists(cfg.name, existing.id);
    const free = freeMemoryMb(ctx.server, records);
    if (cfg.memory > free) throw new XmError(notEnoughMemoryMessage(cfg.memory, free));
    for (const disk of cfg.disks) {
      if ((disk.type === "file" || disk.type.startsWith("tap:")) && !fs.existsSync(disk.target)) {
        throw new XmError(`Device ${deviceNumber(disk.dev)} (vbd) could not be connected. ${disk.target} does not exist.`);
      }
    }
    const runlog = runlogPath(cfg);
    const guest = startGuest(ctx.server.name, cfg.name, runlog);
    const r: DomainRecord = {
      name: cfg.name,
      id: store.allocateId(),
      memory: cfg.memory,
      vcpus: cfg.vcpus,
      cfgPath,
      pid: guest.pid,
      pidStart: guest.pidStart,
      state: "running",
      startedAt: Date.now(),
      runlog,
      disks: fileDiskSpecs(cfg),
    };
    store.put(r);
    return r;
  });
  io.out(`Started domain ${rec.name} (id=${rec.id})\n`);
}

async function lookup(store: DomainStore, dom: string): Promise<DomainRecord> {
  if (isDom0(dom)) throw new XmError("Cannot perform this operation on the privileged domain 0");
  const rec = await store.withLock(() => store.find(dom));
  if (!rec) throw noSuchDomain(dom);
  return rec;
}

async function shutdown(store: DomainStore, args: string[]): Promise<void> {
  const wait = args.includes("-w") || args.includes("--wait");
  const all = args.includes("-a") || args.includes("--all");
  const doms = args.filter((a) => !a.startsWith("-"));
  if (!all && doms.length !== 1) throw new XmError("'xm shutdown' requires 1 argument.");
  const targets = await store.withLock(() => {
    const records = all ? store.list().filter((r) => r.state === "running" || r.state === "paused") : [];
    if (!all) {
      if (isDom0(doms[0])) throw new XmError("Cannot perform this operation on the privileged domain 0");
      const rec = store.find(doms[0]);
      if (!rec) throw noSuchDomain(doms[0]);
      if (rec.state === "migrating" || rec.state === "migrating-out") throw notRunning();
      records.push(rec);
    }
    for (const rec of records) {
      if (rec.state !== "shutdown") store.put({ ...rec, state: "shutdown" });
      requestShutdown(rec);
    }
    return records;
  });
  if (!wait) return;
  for (const rec of targets) {
    if (!(await waitProcessGone(rec.pid, rec.pidStart, 60000))) throw new XmError(`Domain ${rec.name} did not shut down`);
  }
  await store.withLock(() => targets.forEach((r) => store.remove(r.name)));
}

async function destroy(store: DomainStore, args: string[]): Promise<void> {
  const doms = args.filter((a) => !a.startsWith("-"));
  if (doms.length !== 1) throw new XmError("'xm destroy' requires 1 argument.");
  const rec = await lookup(store, doms[0]);
  if (!(await killGuest(rec))) throw new XmError(`Domain ${rec.name} could not be destroyed`);
  await store.withLock(() => store.remove(rec.name));
}

async function pause(store: DomainStore, args: string[], paused: boolean): Promise<void> {
  const doms = args.filter((a) => !a.startsWith("-"));
  if (doms.length !== 1) throw new XmError(`'xm ${paused ? "pause" : "unpause"}' requires 1 argument.`);
  await store.withLock(async () => {
    if (isDom0(doms[0])) throw new XmError("Cannot perform this operation on the privileged domain 0");
    const rec = store.find(doms[0]);
    if (!rec) throw noSuchDomain(doms[0]);
    if (paused && rec.state === "running") {
      await pauseGuest(rec);
      store.put({ ...rec, state: "paused" });
    } else if (!paused && rec.state === "paused") {
      unpauseGuest(rec);
      store.put({ ...rec, state: "running" });
    }
  });
}

async function domid(store: DomainStore, args: string[], io: XmIo): Promise<void> {
  if (args.length !== 1) throw new XmError("'xm domid' requires 1 argument.");
  if (isDom0(args[0])) return io.out("0\n");
  const rec = await store.withLock(() => store.find(args[0]));
  if (!rec) throw noSuchDomain(args[0]);
  io.out(`${rec.id}\n`);
}

const USAGE = "Usage: xm <subcommand> [args]\n";

export async function runXm(argv: string[], ctx: HostContext, io: XmIo, connect: ReceiverConnector = sshConnector): Promise<void> {
  const [cmd, ...args] = argv;
  const store = new DomainStore(ctx.xendDir);
  if (cmd !== undefined && cmd !== "create") await reachXend(ctx);
  switch (cmd) {
    case "list":
      return list(ctx, store, args, io);
    case "info":
      return info(ctx, store, io);
    case "create":
      return create(ctx, store, args, io);
    case "shutdown":
      return shutdown(store, args);
    case "destroy":
      return destroy(store, args);
    case "migrate":
      return migrate(ctx, store, args, connect);
    case "pause":
      return pause(store, args, true);
    case "unpause":
      return pause(store, args, false);
    case "domid":
      return domid(store, args, io);
    case undefined:
      io.out(USAGE);
      throw new XmError("Subcommand required");
    default:
      throw new XmError(`Subcommand ${cmd} not found!`);
  }
}

async function main(): Promise<void> {
  let code = 0;
  const ctx = loadHostContext();
  // `lab xend SERVER slow MS --stale`: handled now, answered MS later (an answer overtaken by events).
  const fault = readXendFault(ctx.identity.labDir, ctx.server.name);
  const holdMs = fault?.mode === "slow" && fault.stale ? fault.ms : 0;
  let out = "";
  let err = "";
  const io: XmIo = { out: (t) => (holdMs ? (out += t) : process.stdout.write(t)) };
  try {
    await runXm(process.argv.slice(2), ctx, io);
  } catch (e) {
    err = `Error: ${(e as Error).message}\n`;
    code = e instanceof XmError ? e.exitCode : 1;
  }
  if (holdMs) {
    try {
      fs.appendFileSync(faultFiles.xendHeld(ctx.identity.labDir, ctx.server.name), `${Date.now()} ${process.argv.slice(2).join(" ")}\n`);
    } catch {
      /* the note is for tests only */
    }
    await sleep(holdMs);
  }
  process.stdout.write(out);
  process.stderr.write(err);
  process.stdout.write("", () => process.exit(code));
}

if (require.main === module) void main();
