// The lab: a pool of simulated Oracle VM servers on one machine, and the faults it can inject.
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { dom0CgroupDir, labCgroupDir, removeCgroupTree, serverCgroupDir, setFrozen, isFrozen } from "./cgroup";
import { installFirewall, removeFirewall, setCut, setPartitioned } from "./firewall";
import { clearFaults, LoseAt, loseAnswersLeft, setLoseAnswers, writeXendFault, XendFault } from "./faults";
import { fingerprintOf, generateKey, publicKeyLine } from "./keys";
import { LabInfo, LabLun, LabServer, layout } from "./layout";
import { bootServer, killServer, prepareServer, PROJECT_ROOT, serverIsRunning, serverNamespacePid, waitForSsh } from "./server";
import { allocateSlot, releaseSlot, slotAddress } from "./slots";
import { SHUTDOWN_SCRIPT } from "./standins/manifest";
import { hwWatchdogFiles, HwWatchdogStatus, hwWatchdogStatus, setHwWatchdogTimeout, startHwWatchdog, stopHwWatchdog } from "./hw-watchdog-control";
import { randomUUID } from "crypto";
import { storageLossState } from "./storage-loss";

const execFileAsync = promisify(execFile);

export interface LabUpOptions {
  servers: number;
  dir: string;
  /** MB each server offers to guests and Domain-0 together. */
  memoryMb?: number;
  /** Size of each shared LUN image (sparse). */
  lunSizeMb?: number;
  bootTimeoutMs?: number;
  /** Timeout of every server's hardware watchdog (/dev/watchdog), like softdog's soft_margin; default 4000 ms. */
  watchdogTimeoutMs?: number;
}

export interface LoopRecord {
  loop: string;
  major: number;
  minor: number;
  partitions: { number: number; startSector: number; sectors: number; loop: string; major: number; minor: number }[];
}

export type ServerPower = "on" | "off";
export type HangScope = "dom0" | "machine";
export interface ServerRuntimeState {
  power: ServerPower;
  hung: boolean;
  /** What a hang froze: dom0 only (its guests run on) or the whole machine. */
  hangScope?: HangScope;
  partitioned: boolean;
  /** Crashed silently: its address drops every packet (set with `partitioned`) until it is powered on again. */
  silentCrash?: boolean;
  /** Addresses cut from this server by `lab partition SERVER --from ADDRESS` (the rest still reach it). */
  cutFrom?: string[];
  /** `lab xend`: xend down or slow (absent: up). */
  xend?: XendFault;
  since: string;
}

export const DEFAULT_LAB_DIR = process.env.OVM_HA_LAB_DIR || "/var/tmp/ovm-ha-lab";

export class LabError extends Error {}

function requireRoot(): void {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new LabError("the lab needs root (it makes mount namespaces, loop devices, cgroups and firewall rules): run it as root");
  }
}

function requireTools(): void {
  const missing: string[] = [];
  for (const tool of ["/usr/sbin/sshd", "ssh-keygen", "unshare", "nsenter", "losetup", "nft", "mkfs.ocfs2", "blkid", "mounted.ocfs2", "sfdisk", "/sbin/modprobe", "perl", "sudo"]) {
    try {
      execFileSync("sh", ["-c", 'command -v "$1"', "probe", tool], { stdio: "ignore" });
    } catch {
      missing.push(tool);
    }
  }
  if (missing.length) {
    throw new LabError(`the lab needs these tools, which are missing: ${missing.join(", ")}. On Debian: apt-get install -y openssh-server ocfs2-tools nftables kmod perl sudo util-linux fdisk (or run .ci/run)`);
  }
}

export function loadLab(dir: string): LabInfo {
  const file = layout.labJson(dir);
  if (!fs.existsSync(file)) throw new LabError(`no lab in ${dir} (no lab.json): start one with \`ovm-ha lab up --servers N --dir ${dir}\``);
  return JSON.parse(fs.readFileSync(file, "utf8")) as LabInfo;
}

/** A server's name, from its name or address (a clear error naming the lab's servers otherwise). */
export function serverName(info: LabInfo, name: string): string {
  return findServer(info, name).name;
}

function findServer(info: LabInfo, name: string): LabServer {
  const s = info.servers.find((x) => x.name === name || x.address === name);
  if (!s) throw new LabError(`no server '${name}' in the lab at ${info.dir}; its servers are: ${info.servers.map((x) => x.name).join(", ")}`);
  return s;
}

function readState(info: LabInfo, name: string): ServerRuntimeState {
  try {
    return JSON.parse(fs.readFileSync(layout.serverState(info.dir, name), "utf8"));
  } catch {
    return { power: "off", hung: false, partitioned: false, since: new Date().toISOString() };
  }
}

function writeState(info: LabInfo, name: string, patch: Partial<ServerRuntimeState>): void {
  const next = { ...readState(info, name), ...patch, since: new Date().toISOString() };
  fs.writeFileSync(layout.serverState(info.dir, name), JSON.stringify(next) + "\n");
}

function nodeBinary(): string {
  return process.execPath;
}

async function createLuns(info: LabInfo, luns: LabLun[]): Promise<void> {
  fs.mkdirSync(layout.lunDir(info.dir), { recursive: true });
  const loops: Record<string, LoopRecord> = fs.existsSync(layout.loopsJson(info.dir))
    ? JSON.parse(fs.readFileSync(layout.loopsJson(info.dir), "utf8"))
    : {};
  for (const lun of luns) {
    if (!fs.existsSync(lun.image)) {
      fs.writeFileSync(lun.image, "");
      fs.truncateSync(lun.image, lun.sizeMb * 1024 * 1024);
    }
    if (loops[lun.id] && fs.existsSync(loops[lun.id].loop)) continue;
    const { stdout } = await execFileAsync("losetup", ["-f", "--show", lun.image]);
    const loop = stdout.trim();
    const [major, minor] = fs.readFileSync(`/sys/block/${path.basename(loop)}/dev`, "utf8").trim().split(":").map(Number);
    loops[lun.id] = { loop, major, minor, partitions: [] };
  }
  fs.writeFileSync(layout.loopsJson(info.dir), JSON.stringify(loops, null, 2) + "\n");
}

function detachLoops(dir: string): void {
  if (!fs.existsSync(layout.loopsJson(dir))) return;
  const loops: Record<string, LoopRecord> = JSON.parse(fs.readFileSync(layout.loopsJson(dir), "utf8"));
  for (const rec of Object.values(loops)) {
    for (const dev of [...rec.partitions.map((p) => p.loop), rec.loop]) {
      try { execFileSync("losetup", ["-d", dev], { stdio: "ignore" }); } catch { /* already detached */ }
    }
  }
  fs.writeFileSync(layout.loopsJson(dir), "{}\n");
}

/** `lab up`: make (or reuse) the lab's files, then boot every server. */
export async function labUp(opts: LabUpOptions): Promise<LabInfo> {
  requireRoot();
  requireTools();
  if (!Number.isInteger(opts.servers) || opts.servers < 1 || opts.servers > 200) {
    throw new LabError(`--servers must be a whole number from 1 to 200, got ${opts.servers}`);
  }
  const dir = path.resolve(opts.dir);
  fs.mkdirSync(dir, { recursive: true });
  // sshd reads authorized_keys as the user logging in (the non-root sudo user too): the lab dir must be searchable.
  fs.chmodSync(dir, 0o755);
  if (fs.existsSync(layout.labJson(dir))) {
    const old = loadLab(dir);
    if (old.servers.some((s) => serverIsRunning(old, s.name))) {
      throw new LabError(`a lab is already running in ${dir}: run \`ovm-ha lab down --dir ${dir}\` first`);
    }
    await labDown(dir);
  }
  const slot = allocateSlot(dir);
  try {
    const keys = layout.keysDir(dir);
    fs.mkdirSync(keys, { recursive: true });
    generateKey(path.join(keys, "id_ed25519"), "ovm-ha-lab-root");
    fs.writeFileSync(path.join(keys, "authorized_keys"), publicKeyLine(path.join(keys, "id_ed25519.pub")) + "\n");

    const memoryMb = opts.memoryMb ?? 16384;
    const servers: LabServer[] = [];
    const knownHosts: string[] = [];
    for (let i = 1; i <= opts.servers; i++) {
      const name = `ovs${i}`;
      fs.mkdirSync(layout.serverDir(dir, name), { recursive: true });
      // A new lab starts with no record of an earlier one's watchdog resets (the servers' disks are kept).
      for (const f of [hwWatchdogFiles.resets(dir, name), hwWatchdogFiles.state(dir, name)]) fs.rmSync(f, { force: true });
      const hostKey = path.join(layout.serverDir(dir, name), "ssh_host_ed25519_key");
      generateKey(hostKey, name);
      const address = slotAddress(slot, i);
      servers.push({ name, address, port: 22, hostKeyFingerprint: fingerprintOf(hostKey + ".pub"), totalMemoryMb: memoryMb, dom0MemoryMb: 1024, nrCpus: 4 });
      knownHosts.push(`${name},${address} ${publicKeyLine(hostKey + ".pub")}`);
    }
    fs.writeFileSync(path.join(keys, "known_hosts"), knownHosts.join("\n") + "\n");

    const lunSizeMb = opts.lunSizeMb ?? 2048;
    const luns: LabLun[] = [];
    const iscsiTargets = [1, 2, 3].map((n) => ({ iqn: `iqn.2006-01.lab.ovm-ha:s${slot}.target${n}`, tpgt: n, lun: `iscsi${n}` }));
    for (const t of iscsiTargets) luns.push({ id: t.lun, kind: "iscsi", iqn: t.iqn, tpgt: t.tpgt, image: path.join(layout.lunDir(dir), `${t.lun}.img`), sizeMb: lunSizeMb });
    luns.push({ id: "san1", kind: "san", sanDevice: "sdb", image: path.join(layout.lunDir(dir), "san1.img"), sizeMb: lunSizeMb });
    // Client addresses (.240 ...): the watchdog and its replicas bind one, so a cut can single one of them out.
    const clientAddresses = [240, 241, 242, 243].map((h) => slotAddress(slot, h));
    const portalAddress = slotAddress(slot, 250);
    const nfsHost = slotAddress(slot, 251);
    const info: LabInfo = {
      dir,
      slot,
      servers,
      privateKeyPath: path.join(keys, "id_ed25519"),
      knownHostsPath: path.join(keys, "known_hosts"),
      sudoUser: "ovmadmin",
      watchdogAddress: clientAddresses[0],
      clientAddresses,
      storage: {
        iscsi: { portal: `${portalAddress}:3260`, portalAddress, port: 3260, targets: iscsiTargets },
        san: [{ device: "/dev/sdb", lun: "san1" }],
        nfs: { export: `${nfsHost}:/export/ovs`, host: nfsHost, path: "/export/ovs" },
      },
      runtime: { node: nodeBinary(), dist: path.join(PROJECT_ROOT, "dist") },
    };
    fs.writeFileSync(path.join(dir, "luns.json"), JSON.stringify(luns, null, 2) + "\n");
    fs.mkdirSync(path.join(layout.nfsRoot(dir), "export", "ovs"), { recursive: true });
    fs.mkdirSync(layout.volumesDir(dir), { recursive: true });
    await createLuns(info, luns);
    installFirewall(slot);
    fs.writeFileSync(layout.labJson(dir), JSON.stringify(info, null, 2) + "\n");
    if (opts.watchdogTimeoutMs !== undefined) setHwWatchdogTimeout(dir, opts.watchdogTimeoutMs);
    else fs.rmSync(path.join(dir, "hw-watchdog.json"), { force: true });
    await Promise.all(servers.map((s) => powerOn(info, s.name, opts.bootTimeoutMs)));
    return info;
  } catch (e) {
    await labDown(dir).catch(() => undefined);
    throw e;
  }
}

/** `lab down`: stop everything the lab started. Idempotent; keeps the files (the servers' disks). */
export async function labDown(dirArg: string): Promise<void> {
  requireRoot();
  const dir = path.resolve(dirArg);
  const slotText = fs.existsSync(path.join(dir, "slot")) ? fs.readFileSync(path.join(dir, "slot"), "utf8").trim() : "";
  let info: LabInfo | undefined;
  try { info = loadLab(dir); } catch { info = undefined; }
  const slot = info?.slot ?? (slotText ? Number(slotText) : undefined);
  // The watchdogs' timers first: one must not reset a server that `lab down` is stopping.
  if (info) for (const s of info.servers) await stopHwWatchdog(info, s.name);
  if (slot !== undefined) {
    await removeCgroupTree(labCgroupDir(slot));
    removeFirewall(slot);
  }
  detachLoops(dir);
  if (info) {
    for (const s of info.servers) {
      clearFaults(dir, s.name);
      writeState(info, s.name, { power: "off", hung: false, hangScope: undefined, partitioned: false, silentCrash: undefined, cutFrom: undefined, xend: undefined });
    }
  }
  if (slot !== undefined) releaseSlot(slot, dir);
}

export async function powerOn(info: LabInfo, name: string, timeoutMs = 30000): Promise<void> {
  const server = findServer(info, name);
  if (serverIsRunning(info, server.name)) throw new LabError(`server ${server.name} is already powered on`);
  prepareServer(info, server);
  // A silent crash's silence ends with the boot (a cut made by `lab partition` stays: the cable is still cut).
  if (readState(info, server.name).silentCrash) {
    setPartitioned(info.slot, server.address, false);
    writeState(info, server.name, { partitioned: false, silentCrash: undefined });
  }
  // A boot starts xend and a fresh sshd: no xend fault, no answers waiting to be lost.
  clearFaults(info.dir, server.name);
  writeState(info, server.name, { power: "on", hung: false, hangScope: undefined, xend: undefined });
  // Each boot its own id (the server sees it at /proc/sys/kernel/random/boot_id, as on Linux).
  fs.writeFileSync(layout.serverBootId(info.dir, server.name), randomUUID() + "\n");
  // The watchdog chip's timer, on the host (stopped until the server opens /dev/watchdog).
  startHwWatchdog(info, server.name);
  bootServer(info, server);
  await waitForSsh(server, timeoutMs, layout.serverLog(info.dir, server.name));
}

/**
 * `lab crash` and `lab power off`: every process of the server dies at once. This host's kernel then resets the
 * server's connections, which a dead machine never does; `silent` drops every packet to and from its address first
 * (as a dead machine is silent: peers learn only from their own deadlines), until it is powered on again.
 */
export async function crash(info: LabInfo, name: string, opts: { silent?: boolean } = {}): Promise<void> {
  const server = findServer(info, name);
  if (opts.silent) {
    setPartitioned(info.slot, server.address, true);
    writeState(info, server.name, { partitioned: true, silentCrash: true });
  }
  await stopHwWatchdog(info, server.name);
  await killServer(info, server.name);
  writeState(info, server.name, { power: "off", hung: false, hangScope: undefined });
}

/**
 * The hardware watchdog's reset (lab/hw-watchdog.ts calls it from the server's timer process): every process of the
 * server ends at once, guests included, as in a crash; then the server boots again. The timer keeps running
 * (it is the caller). `killed` runs once nothing of the server runs any more.
 */
export async function resetServer(info: LabInfo, name: string, killed?: () => void): Promise<void> {
  const server = findServer(info, name);
  await killServer(info, server.name);
  writeState(info, server.name, { power: "off", hung: false, hangScope: undefined });
  killed?.();
  await powerOn(info, server.name);
}

/**
 * Freezes dom0 (sshd, xm, agents: nothing answers) while the guests keep running, as on Xen when dom0 hangs;
 * `machine` freezes the guests too.
 */
export async function hang(info: LabInfo, name: string, scope: HangScope = "dom0"): Promise<void> {
  const server = findServer(info, name);
  if (!serverIsRunning(info, server.name)) throw new LabError(`server ${server.name} is powered off: nothing to hang`);
  const cg = scope === "machine" ? serverCgroupDir(info.slot, server.name) : dom0CgroupDir(info.slot, server.name);
  setFrozen(cg, true);
  for (let i = 0; i < 200 && !isFrozen(cg); i++) await new Promise((r) => setTimeout(r, 10));
  if (!isFrozen(cg)) throw new LabError(`server ${server.name}: its ${scope === "machine" ? "processes" : "dom0"} did not freeze within 2 s`);
  writeState(info, server.name, { hung: true, hangScope: scope });
}

/**
 * Without `from`: nothing reaches the server over the network. With `from` (an address, or a server's name): only
 * the traffic between the server and that address is cut; every other server and the shared storage still reach it.
 */
export async function partition(info: LabInfo, name: string, opts: { from?: string } = {}): Promise<void> {
  const server = findServer(info, name);
  if (opts.from === undefined) {
    setPartitioned(info.slot, server.address, true);
    writeState(info, server.name, { partitioned: true });
    return;
  }
  const from = resolveAddress(info, opts.from);
  if (from === server.address) throw new LabError(`partition ${server.name} --from ${opts.from}: that is the server's own address`);
  setCut(info.slot, server.address, from, true);
  const cutFrom = [...new Set([...(readState(info, server.name).cutFrom ?? []), from])];
  writeState(info, server.name, { cutFrom });
}

/** An IPv4 address as given, or the address of a server named so. */
function resolveAddress(info: LabInfo, what: string): string {
  const s = info.servers.find((x) => x.name === what);
  if (s) return s.address;
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(what) || what.split(".").some((o) => Number(o) > 255)) {
    throw new LabError(`--from takes an IPv4 address or a server name of this lab (${info.servers.map((x) => x.name).join(", ")}), got '${what}'`);
  }
  return what;
}

/** `lab xend SERVER down|slow MS|up`: xm fails as with xend stopped, or answers late, while SSH works. */
export async function xend(info: LabInfo, name: string, fault: XendFault | undefined): Promise<void> {
  const server = findServer(info, name);
  if (fault?.mode === "slow" && (!Number.isInteger(fault.ms) || fault.ms < 1 || fault.ms > 600000)) {
    throw new LabError(`xend slow takes a whole number of milliseconds from 1 to 600000, got ${fault.ms}`);
  }
  writeXendFault(info.dir, server.name, fault);
  writeState(info, server.name, { xend: fault });
}

/**
 * `lab lose-answers SERVER N`: the next N commands run on the server (to the end, or `at: "start"`: started and
 * left running) but their answers never arrive: the SSH connection that carried each is cut.
 */
export async function loseAnswers(info: LabInfo, name: string, count: number, at: LoseAt = "end", match = ""): Promise<void> {
  const server = findServer(info, name);
  if (!Number.isInteger(count) || count < 0 || count > 100000) throw new LabError(`lose-answers takes a whole number of commands from 0 to 100000, got ${count}`);
  setLoseAnswers(info.dir, server.name, count, at, match);
}

/** Undo hang and partition (every cut of the server too). xend and lost answers have their own switches. */
export async function heal(info: LabInfo, name: string): Promise<void> {
  const server = findServer(info, name);
  setPartitioned(info.slot, server.address, false);
  for (const from of readState(info, server.name).cutFrom ?? []) setCut(info.slot, server.address, from, false);
  for (const cg of [serverCgroupDir(info.slot, server.name), dom0CgroupDir(info.slot, server.name)]) {
    try { setFrozen(cg, false); } catch { /* powered off: nothing frozen */ }
  }
  writeState(info, server.name, { hung: false, hangScope: undefined, partitioned: false, cutFrom: undefined });
}

/** A planned shutdown: the server's shutdown hooks run first (bounded), then it stops. */
export async function shutdown(info: LabInfo, name: string, timeoutMs = 300000): Promise<string> {
  const server = findServer(info, name);
  const script = path.join(info.runtime.dist, "lab", "standins", `${SHUTDOWN_SCRIPT}.js`);
  let output = "";
  try {
    const r = await inServer(info, server.name, [info.runtime.node, script], timeoutMs);
    output = r.stdout + r.stderr;
  } finally {
    await crash(info, server.name);
  }
  return output;
}

export interface InServerResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a command as root inside a server's namespace and root (not over SSH): for the lab's own operations. */
export async function inServer(info: LabInfo, name: string, argv: string[], timeoutMs = 60000): Promise<InServerResult> {
  const server = findServer(info, name);
  const pid = serverNamespacePid(info, server.name);
  // Joining a frozen dom0 would freeze the command with it until `lab heal`: say so at once instead.
  if (isFrozen(dom0CgroupDir(info.slot, server.name)) || isFrozen(serverCgroupDir(info.slot, server.name))) {
    throw new LabError(`server ${server.name} is hung: nothing runs in its dom0 until \`lab heal ${server.name}\``);
  }
  try {
    // Joins the server's cgroup first, so that what it starts (a guest, say) dies with the server like the rest.
    // `--wd` without a value takes the server's own working directory (its root): nsenter opens a given path in
    // OUR mount namespace, which would leave the command in a directory outside the server's root.
    const cg = dom0CgroupDir(info.slot, server.name);
    const enter = 'echo $$ > "$1/cgroup.procs" && shift && exec nsenter "$@"';
    const { stdout, stderr } = await execFileAsync("sh", ["-c", enter, "enter", cg, `--target=${pid}`, "--mount", "--uts", "--root", "--wd", "--", ...argv], {
      cwd: "/",
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
      env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root", LANG: "C" },
    });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number | string; killed?: boolean };
    if (err.killed) throw new LabError(`command in ${server.name} timed out after ${timeoutMs} ms: ${argv.join(" ")}`);
    if (typeof err.code !== "number") throw e;
    return { stdout: err.stdout ?? "", stderr: err.stderr ?? "", code: err.code };
  }
}

export function serverStates(info: LabInfo): Record<string, ServerRuntimeState> {
  const out: Record<string, ServerRuntimeState> = {};
  for (const s of info.servers) {
    const st = readState(info, s.name);
    out[s.name] = { ...st, power: serverIsRunning(info, s.name) ? "on" : "off" };
  }
  return out;
}

export interface LabStatus {
  /** Each server's hardware watchdog: running (powered), armed, open, timeout, last keepalive, resets made. */
  watchdogs?: Record<string, HwWatchdogStatus>;
  /** Source address for the watchdog's SSH connections (`localAddress`), so `partition --from` can single it out. */
  watchdogAddress?: string;
  clientAddresses?: string[];
  servers: Record<string, ServerRuntimeState & { loseAnswersLeft: number; storageLoss?: string }>;
}

export function labStatus(info: LabInfo): LabStatus {
  const servers: LabStatus["servers"] = {};
  const watchdogs: Record<string, HwWatchdogStatus> = {};
  for (const [name, st] of Object.entries(serverStates(info))) {
    const storage = storageLossState(info.dir, name);
    servers[name] = { ...st, loseAnswersLeft: loseAnswersLeft(info.dir, name), ...(storage ? { storageLoss: storage.mode } : {}) };
    watchdogs[name] = hwWatchdogStatus(info.dir, name);
  }
  return { watchdogAddress: info.watchdogAddress, clientAddresses: info.clientAddresses, servers, watchdogs };
}
