// Stand-in for Xen 3.4's `xm` on a lab server: domains are guest processes (lab/guest/guest.pl), their records
// live in /run/xend. Output and exit codes follow /work/shared/reference/formats.md.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { faultFiles, readXendFault } from "../faults";
import { layout } from "../layout";
import { DomainRecord, DomainStore, domainName } from "../hypervisor/domain-store";
import { killGuest, pauseGuest, requestShutdown, runlogPath, startGuest, unpauseGuest } from "../hypervisor/guest-control";
import { HostContext, findServer, loadHostContext } from "../hypervisor/host-context";
import { freeMemoryMb, notEnoughMemoryMessage } from "../hypervisor/memory";
import { LineReader, MigrationOffer } from "../hypervisor/migration-protocol";
import { cpuSeconds, isProcessStopped, processStartTicks, sleep, waitProcessGone } from "../hypervisor/process-probe";
import { deviceNumber, parseVmConfig, VmConfig, VmConfigError } from "../hypervisor/vm-config";
import { XmError, alreadyExists, noSuchDomain, notRunning } from "../hypervisor/xm-error";
import { formatInfo, formatList, ListRow, recordRow } from "../hypervisor/xm-output";

export interface XmIo {
  out(text: string): void;
}

/** Opens a session to the target's xm-receive; the default is ssh from this server's own address. */
export type ReceiverConnector = (ctx: HostContext, targetName: string) => ChildProcess;

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

function fileDisks(cfg: VmConfig): { path: string; dev: string }[] {
  return cfg.disks.filter((d) => d.type === "file" || d.type.startsWith("tap:")).map((d) => ({ path: d.target, dev: d.dev }));
}

/** Disks of a domain made before records kept them: read from its vm.cfg, if still readable. */
function disksOf(rec: DomainRecord): { path: string; dev: string }[] {
  if (rec.disks) return rec.disks;
  try {
    return fileDisks(parseVmConfig(fs.readFileSync(rec.cfgPath, "utf8")));
  } catch {
    return [];
  }
}

/** Memory copied per millisecond by a migration (about 1 GB/s): a 256 MB guest takes a quarter of a second. */
const MIGRATION_MB_PER_MS = 1;

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
      disks: fileDisks(cfg),
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

/** ssh from this server's own address, so a partition of either end cuts the session. */
export const sshConnector: ReceiverConnector = (ctx, targetName) => {
  const target = ctx.lab.servers.find((s) => s.name === targetName)!;
  const keys = layout.keysDir(ctx.identity.labDir);
  const argv = [
    "-b", ctx.server.address,
    "-i", path.join(keys, "id_ed25519"),
    "-p", String(target.port),
    "-o", `UserKnownHostsFile=${path.join(keys, "known_hosts")}`,
    "-o", "StrictHostKeyChecking=yes",
    "-o", "ConnectTimeout=3",
    "-o", "BatchMode=yes",
    "-o", "IdentitiesOnly=yes",
    "-o", "ServerAliveInterval=1",
    "-o", "ServerAliveCountMax=3",
    `root@${target.address}`,
    ctx.lab.runtime.node,
    path.join(ctx.lab.runtime.dist, "lab", "standins", "xm-receive.js"),
  ];
  return spawn("ssh", argv, { stdio: ["pipe", "pipe", "pipe"] });
};

/** Turns ssh's complaint into what xend's socket layer would have said. */
export function connectError(stderr: string): string {
  if (/Connection refused/i.test(stderr)) return "can't connect: (111, 'Connection refused')";
  if (/timed out/i.test(stderr)) return "can't connect: (110, 'Connection timed out')";
  if (/No route to host/i.test(stderr)) return "can't connect: (113, 'No route to host')";
  if (/Network is unreachable/i.test(stderr)) return "can't connect: (101, 'Network is unreachable')";
  const last = stderr.trim().split("\n").pop() || "connection closed";
  return `can't connect: ${last}`;
}

async function migrate(ctx: HostContext, store: DomainStore, args: string[], connect: ReceiverConnector): Promise<void> {
  const positional: string[] = [];
  let live = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-l" || a === "--live") {
      live = true;
      continue;
    }
    if (a === "-c" || a === "--change_home_server") continue;
    if (a === "-r" || a === "--resource" || a === "-p" || a === "--port") {
      i++;
      continue;
    }
    if (a.startsWith("-")) throw new XmError(`option ${a} not recognized`);
    positional.push(a);
  }
  if (positional.length !== 2) throw new XmError("'xm migrate' requires between 2 and 2 arguments.");
  const [dom, host] = positional;
  if (isDom0(dom)) throw new XmError("Cannot migrate privileged domain 0");

  const me = { ownerPid: process.pid, ownerStart: processStartTicks(process.pid) };
  const rec = await store.withLock(async () => {
    const r = store.find(dom);
    if (!r) throw noSuchDomain(dom);
    if (r.state !== "running" || isProcessStopped(r.pid)) throw notRunning();
    const claimed: DomainRecord = { ...r, state: "migrating-out", ...me };
    // Without -l the domain is paused from the start of the save (xc_save not live) to its end.
    if (!live) await pauseGuest(claimed);
    store.put(claimed);
    return claimed;
  });
  // On failure the domain resumes under its own name (XendCheckpoint.save: resumeDomain, setName(domain_name)).
  const restore = () => store.withLock(() => {
    const r = store.get(rec.name);
    if (r && r.ownerPid === process.pid) {
      if (!live) unpauseGuest(r);
      store.put({ ...r, state: "running", ownerPid: undefined, ownerStart: undefined });
    }
  });

  const target = findServer(ctx.lab, host);
  if (!target) {
    await restore();
    throw new XmError("can't connect: (-2, 'Name or service not known')");
  }

  const child = connect(ctx, target.name);
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (d: string) => (stderr += d));
  child.stdin?.on("error", () => undefined); // the session may die under us; the reader sees it
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const lines = new LineReader(child.stdout!);
  const send = (line: string) => child.stdin?.write(line + "\n");
  const finish = async () => {
    child.stdin?.end();
    await Promise.race([exited, sleep(2000)]);
    child.kill("SIGKILL");
  };

  const offer: MigrationOffer = { name: rec.name, memory: rec.memory, vcpus: rec.vcpus, cfgPath: rec.cfgPath, runlog: rec.runlog, disks: disksOf(rec), from: ctx.server.name };
  send(`OFFER ${JSON.stringify(offer)}`);
  // ssh needs up to ConnectTimeout (3 s) plus login and node start-up on a busy machine.
  const answer = await lines.next(20000);
  if (answer !== "ready") {
    await finish();
    await restore();
    if (answer?.startsWith("error ")) throw new XmError(answer.slice(6));
    await Promise.race([exited, sleep(500)]);
    throw new XmError(answer === undefined ? connectError(stderr) : `unexpected answer from ${target.name}: ${answer}`);
  }

  // Memory copy: with -l the guest keeps running until the last round, when it is suspended.
  await sleep(Math.ceil(rec.memory / MIGRATION_MB_PER_MS));
  // Suspend: stop the guest here and make sure it is really gone before the target may start it.
  if (!(await killGuest(rec, 10000))) {
    send("abort");
    await finish();
    await restore();
    throw new XmError(`could not suspend domain ${rec.name}`);
  }
  send("go");
  const started = await lines.next(20000);
  await finish();
  // The guest is gone here whatever happened: like a failed live migration after suspend, it is lost.
  await store.withLock(() => store.remove(rec.name));
  if (started !== "started") {
    const why = started?.startsWith("error ") ? started.slice(6) : `connection to ${target.name} lost after suspend`;
    throw new XmError(`Migration of domain ${rec.name} failed: ${why}`);
  }
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
