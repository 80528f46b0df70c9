// Source side of `xm migrate`: claims the domain (xend renames it migrating-NAME), offers it to the target's
// xm-receive over ssh from this server's own address (see migration-protocol.ts), copies its memory (live, or
// paused without -l), and stops it here before the target may start it.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { layout } from "../layout";
import { DomainRecord, DomainStore } from "./domain-store";
import { killGuest, pauseGuest, unpauseGuest } from "./guest-control";
import { HostContext, findServer } from "./host-context";
import { LineReader, MigrationOffer } from "./migration-protocol";
import { isProcessStopped, processStartTicks, sleep } from "./process-probe";
import { fileDiskSpecs, parseVmConfig } from "./vm-config";
import { XmError, noSuchDomain, notRunning } from "./xm-error";

/** Opens a session to the target's xm-receive; the default is ssh from this server's own address. */
export type ReceiverConnector = (ctx: HostContext, targetName: string) => ChildProcess;

const isDom0 = (dom: string) => dom === "Domain-0" || dom === "0";

/** Disks of a domain made before records kept them: read from its vm.cfg, if still readable. */
function disksOf(rec: DomainRecord): { path: string; dev: string }[] {
  if (rec.disks) return rec.disks;
  try {
    return fileDiskSpecs(parseVmConfig(fs.readFileSync(rec.cfgPath, "utf8")));
  } catch {
    return [];
  }
}

/** Memory copied per millisecond by a migration (about 1 GB/s): a 256 MB guest takes a quarter of a second. */
const MIGRATION_MB_PER_MS = 1;

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

export async function migrate(ctx: HostContext, store: DomainStore, args: string[], connect: ReceiverConnector): Promise<void> {
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
