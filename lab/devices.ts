// The lab's device model: which shared LUN each server sees as which sdX disk, the loop devices behind disks and
// their partitions, the /dev nodes of every server and its /proc/partitions. The kernel here parses no partition
// tables, so a partition is a second loop device over the LUN image with an offset and a size limit, made by
// rescanLun after reading the table with the real sfdisk (what the kernel does on attach or BLKRRPART).
import * as fs from "fs";
import * as path from "path";
import { randomUUID } from "crypto";
import * as lockfile from "proper-lockfile";
import writeFileAtomic from "write-file-atomic";
import { layout } from "./layout";
import { runOnHost } from "./storage/host-namespace";
import { readIfExists } from "./storage/server-context";

export interface PartitionLoop {
  number: number;
  startSector: number;
  sectors: number;
  loop: string;
  major: number;
  minor: number;
}
export interface LunLoop {
  loop: string;
  major: number;
  minor: number;
  partitions: PartitionLoop[];
}
/** LABDIR/storage/loops.json: lun id -> its loop devices. */
export type LoopsTable = Record<string, LunLoop>;
/** One entry of LABDIR/servers/NAME/disks.json. */
export interface AttachedDisk {
  name: string;
  lun: string;
}
export interface PartitionRow {
  major: number;
  minor: number;
  /** Size in 1 KiB blocks. */
  blocks: number;
  name: string;
}

/** The local disk of every lab server, as in the seed's example (no device nodes exist for these). */
export const LOCAL_DISK_ROWS: readonly PartitionRow[] = [
  { major: 8, minor: 0, blocks: 71687372, name: "sda" },
  { major: 8, minor: 1, blocks: 104391, name: "sda1" },
  { major: 8, minor: 2, blocks: 71577607, name: "sda2" },
  { major: 253, minor: 0, blocks: 70516736, name: "dm-0" },
  { major: 253, minor: 1, blocks: 1048576, name: "dm-1" },
];

/** Linux sd naming: 0 -> sda, 25 -> sdz, 26 -> sdaa. */
export function diskName(index: number): string {
  let s = "";
  let n = index;
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return "sd" + s;
}

/** The next free disk name; sda is the local disk. */
export function nextDiskName(used: Iterable<string>): string {
  const taken = new Set(used);
  taken.add("sda");
  for (let i = 0; ; i++) {
    const name = diskName(i);
    if (!taken.has(name)) return name;
  }
}

/** One /proc/partitions row: the kernel's `%4d  %7d %10llu %s`. */
export function formatPartitionRow(r: PartitionRow): string {
  return `${String(r.major).padStart(4)}  ${String(r.minor).padStart(7)} ${String(r.blocks).padStart(10)} ${r.name}`;
}

/** The whole /proc/partitions text: header, blank line, local disk rows, then the given lab disk rows. */
export function renderPartitions(diskRows: PartitionRow[]): string {
  const rows = [...LOCAL_DISK_ROWS, ...diskRows].map(formatPartitionRow);
  return "major minor  #blocks  name\n\n" + rows.map((r) => r + "\n").join("");
}

/** Rows for a server's attached disks: each disk, then its partitions in number order. */
export function diskRows(disks: AttachedDisk[], loops: LoopsTable, diskBlocks: (lun: string) => number): PartitionRow[] {
  const rows: PartitionRow[] = [];
  for (const d of disks) {
    const rec = loops[d.lun];
    if (!rec) continue;
    rows.push({ major: rec.major, minor: rec.minor, blocks: diskBlocks(d.lun), name: d.name });
    for (const p of [...rec.partitions].sort((a, b) => a.number - b.number)) {
      rows.push({ major: p.major, minor: p.minor, blocks: Math.floor(p.sectors / 2), name: d.name + p.number });
    }
  }
  return rows;
}

/** A partition read from the table: number and extent in 512-byte sectors. */
export interface TablePartition {
  number: number;
  startSector: number;
  sectors: number;
}

/** Partitions from `sfdisk -J` output (empty when the disk has no table). */
export function parseSfdiskJson(text: string): TablePartition[] {
  if (!text.trim()) return [];
  const table = JSON.parse(text).partitiontable;
  const sectorSize: number = table?.sectorsize ?? 512;
  const out: TablePartition[] = [];
  for (const p of table?.partitions ?? []) {
    const m = /(\d+)$/.exec(String(p.node));
    if (!m || !(p.size > 0)) continue;
    const factor = sectorSize / 512;
    out.push({ number: Number(m[1]), startSector: p.start * factor, sectors: p.size * factor });
  }
  return out.sort((a, b) => a.number - b.number);
}

/** Device name (sdb, sdb1) -> disk name and partition number. */
export function splitDeviceName(name: string): { disk: string; partition?: number } | undefined {
  const m = /^(sd[a-z]+)(\d*)$/.exec(name);
  if (!m) return undefined;
  return m[2] ? { disk: m[1], partition: Number(m[2]) } : { disk: m[1] };
}

// ---------------------------------------------------------------------------------------------------------------
// State files

export function readLoops(labDir: string): LoopsTable {
  const f = layout.loopsJson(labDir);
  return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, "utf8")) : {};
}

function writeLoops(labDir: string, loops: LoopsTable): void {
  writeFileAtomic.sync(layout.loopsJson(labDir), JSON.stringify(loops, null, 2) + "\n");
}

export function readDisks(labDir: string, server: string): AttachedDisk[] {
  const f = layout.serverDisks(labDir, server);
  if (!fs.existsSync(f)) return [];
  const text = fs.readFileSync(f, "utf8").trim();
  return text ? JSON.parse(text) : [];
}

function writeDisks(labDir: string, server: string, disks: AttachedDisk[]): void {
  writeFileAtomic.sync(layout.serverDisks(labDir, server), JSON.stringify(disks) + "\n");
}

function serverNames(labDir: string): string[] {
  const dir = path.join(labDir, "servers");
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((n) => fs.existsSync(layout.serverDisks(labDir, n)));
}

/** Servers whose disks.json lists the LUN. */
export function serversWithLun(labDir: string, lunId: string): string[] {
  return serverNames(labDir).filter((s) => readDisks(labDir, s).some((d) => d.lun === lunId));
}

/** Which LUN (and partition) a device path of a server stands for. */
export function resolveDevice(
  labDir: string,
  server: string,
  device: string,
): { disk: string; lun: string; partition?: number } | undefined {
  const parts = splitDeviceName(path.basename(device));
  if (!parts) return undefined;
  const disk = readDisks(labDir, server).find((d) => d.name === parts.disk);
  return disk ? { disk: disk.name, lun: disk.lun, partition: parts.partition } : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Locking: every change to loops.json, disks.json, /dev nodes or partitions files happens under one lab-wide lock.

export async function withDeviceLock<T>(labDir: string, fn: () => Promise<T>): Promise<T> {
  const storage = path.join(labDir, "storage");
  fs.mkdirSync(storage, { recursive: true });
  const release = await lockfile.lock(storage, {
    lockfilePath: path.join(storage, "devices.lock"),
    realpath: false,
    stale: 15000,
    retries: { retries: 200, minTimeout: 20, maxTimeout: 200 },
  });
  try {
    return await fn();
  } finally {
    await release();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Loop devices and nodes

function loopMajorMinor(loop: string): { major: number; minor: number } {
  const [major, minor] = fs.readFileSync(`/sys/block/${path.basename(loop)}/dev`, "utf8").trim().split(":").map(Number);
  return { major, minor };
}

function loopBackingFile(loop: string): string | undefined {
  try {
    return fs.readFileSync(`/sys/block/${path.basename(loop)}/loop/backing_file`, "utf8").trim();
  } catch {
    return undefined;
  }
}

function loopSectors(loop: string): number {
  return Number(fs.readFileSync(`/sys/block/${path.basename(loop)}/size`, "utf8").trim());
}

function loopOffsetSectors(loop: string): number {
  try {
    return Number(fs.readFileSync(`/sys/block/${path.basename(loop)}/loop/offset`, "utf8").trim()) / 512;
  } catch {
    return -1;
  }
}

async function hostOrThrow(argv: string[]): Promise<string> {
  const r = await runOnHost(argv);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

async function readTable(wholeLoop: string): Promise<TablePartition[]> {
  const r = await runOnHost(["sfdisk", "-J", wholeLoop]);
  if (r.code !== 0) return []; // no recognised partition table
  return parseSfdiskJson(r.stdout);
}

/** A partition loop that still maps exactly this extent of the LUN's image. */
function partitionLoopStillValid(p: PartitionLoop, image: string | undefined, want: TablePartition): boolean {
  if (p.startSector !== want.startSector || p.sectors !== want.sectors) return false;
  if (!fs.existsSync(`/sys/block/${path.basename(p.loop)}`)) return false;
  return loopBackingFile(p.loop) === image && loopOffsetSectors(p.loop) === want.startSector && loopSectors(p.loop) === want.sectors;
}

function rdevParts(rdev: number): { major: number; minor: number } {
  const major = ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
  return { major, minor };
}

async function ensureNode(file: string, major: number, minor: number): Promise<void> {
  try {
    const st = fs.statSync(file);
    const cur = rdevParts(st.rdev);
    if (st.isBlockDevice() && cur.major === major && cur.minor === minor) return;
    fs.unlinkSync(file);
  } catch {
    /* missing */
  }
  // mknod in the server's dev dir works from the host or the server: the dir is on the shared lab dir.
  await hostOrThrow(["mknod", "-m", "0660", file, "b", String(major), String(minor)]);
}

/** Make a server's /dev nodes and /proc/partitions match its disks.json and loops.json. */
async function refreshServer(labDir: string, server: string, loops: LoopsTable): Promise<void> {
  const disks = readDisks(labDir, server).filter((d) => loops[d.lun]);
  const devDir = layout.serverDev(labDir, server);
  fs.mkdirSync(devDir, { recursive: true });
  const wanted = new Map<string, { major: number; minor: number }>();
  for (const d of disks) {
    const rec = loops[d.lun];
    wanted.set(d.name, { major: rec.major, minor: rec.minor });
    for (const p of rec.partitions) wanted.set(d.name + p.number, { major: p.major, minor: p.minor });
  }
  for (const entry of fs.readdirSync(devDir)) {
    if (splitDeviceName(entry) && !wanted.has(entry)) fs.rmSync(path.join(devDir, entry), { force: true });
  }
  for (const [name, mm] of wanted) await ensureNode(path.join(devDir, name), mm.major, mm.minor);
  const text = renderPartitions(diskRows(disks, loops, (lun) => Math.floor(loopSectors(loops[lun].loop) / 2)));
  await publishPartitions(labDir, server, text);
}

/**
 * Show a server its new /proc/partitions. The kernel's file is generated whole at each read, so a reader never
 * sees half of a change; a file rewritten in place would be read empty between truncate and write (CI: "missing
 * header" on ovs3 while a partition table changed on another server). So each version is a new file, bound over
 * /proc/partitions in the running server's namespace: a read opens one complete version or the other. The
 * server's `partitions` path is a symlink to the newest version, which the next boot binds; it is swapped before
 * the namespace is looked at, so a server booting meanwhile binds the new version or is seen and given it.
 * Versions stay while the namespace runs: a file a mount stands on cannot be deleted without the kernel
 * detaching the mounts stacked on it. Each change stacks one bind mount; they go with the namespace.
 */
async function publishPartitions(labDir: string, server: string, text: string): Promise<void> {
  const link = layout.serverPartitions(labDir, server);
  if (readIfExists(link) === text) return;
  const version = writePartitionsVersion(link, text);
  const pid = serverNamespacePid(labDir, server);
  if (pid === undefined) {
    removeOldVersions(link);
    return;
  }
  await hostOrThrow([
    "nsenter", `--target=${pid}`, "--mount", "--",
    "/usr/bin/mount", "--bind", version, path.join(layout.serverRoot(labDir, server), "proc", "partitions"),
  ]);
}

/** Before a boot (no namespace): `partitions` a symlink to one version, the header alone if there was none. */
export function preparePartitions(labDir: string, server: string): void {
  const link = layout.serverPartitions(labDir, server);
  const text = readIfExists(link) ?? "major minor  #blocks  name\n\n"; // none at the first boot
  let isLink = false;
  try {
    isLink = fs.lstatSync(link).isSymbolicLink();
  } catch {
    /* missing */
  }
  if (!isLink) {
    fs.rmSync(link, { force: true });
    writePartitionsVersion(link, text);
  }
  removeOldVersions(link);
}

/** Writes a new version file and points the symlink at it (a rename: the link is always whole). */
function writePartitionsVersion(link: string, text: string): string {
  const version = `${link}@${randomUUID()}`;
  fs.writeFileSync(version, text);
  const tmp = `${link}.new`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(path.basename(version), tmp);
  fs.renameSync(tmp, link);
  return version;
}

/** Deletes every version but the one the symlink names; only while the server's namespace is gone. */
function removeOldVersions(link: string): void {
  const dir = path.dirname(link);
  const current = fs.readlinkSync(link);
  for (const f of fs.readdirSync(dir)) {
    if (f.startsWith(`${path.basename(link)}@`) && f !== current) fs.rmSync(path.join(dir, f), { force: true });
  }
}

/** The pid of the running server's namespace, or undefined when it is off (its next boot binds the file). */
function serverNamespacePid(labDir: string, server: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(layout.serverPid(labDir, server), "utf8"));
    // A pid file outlives its server, and pids are reused: the process must have the server's bind in its view.
    const mounts = fs.readFileSync(`/proc/${pid}/mountinfo`, "utf8");
    if (!mounts.split("\n").some((l) => l.split(" ")[4] === "/proc/partitions")) return undefined;
  } catch {
    return undefined;
  }
  return pid > 0 ? pid : undefined;
}

/** Re-read a LUN's partition table and make partition loops match it; call with the lock held. */
async function rescanLunLocked(labDir: string, lunId: string): Promise<LoopsTable> {
  const loops = readLoops(labDir);
  const rec = loops[lunId];
  if (!rec) throw new Error(`LUN ${lunId} has no loop device in ${layout.loopsJson(labDir)}`);
  const image = loopBackingFile(rec.loop);
  const table = await readTable(rec.loop);
  const kept: PartitionLoop[] = [];
  const old = [...rec.partitions];
  for (const want of table) {
    const i = old.findIndex((p) => p.number === want.number && partitionLoopStillValid(p, image, want));
    if (i >= 0) {
      kept.push(old[i]);
      old.splice(i, 1);
    }
  }
  for (const gone of old) await runOnHost(["losetup", "-d", gone.loop]);
  const partitions: PartitionLoop[] = [];
  for (const want of table) {
    const have = kept.find((p) => p.number === want.number);
    if (have) {
      partitions.push(have);
      continue;
    }
    if (!image) throw new Error(`cannot find the image behind ${rec.loop}`);
    const loop = (
      await hostOrThrow([
        "losetup", "-f", "--show",
        "-o", String(want.startSector * 512),
        "--sizelimit", String(want.sectors * 512),
        image,
      ])
    ).trim();
    partitions.push({ ...want, loop, ...loopMajorMinor(loop) });
  }
  rec.partitions = partitions;
  writeLoops(labDir, loops);
  for (const s of serversWithLun(labDir, lunId)) await refreshServer(labDir, s, loops);
  return loops;
}

// ---------------------------------------------------------------------------------------------------------------
// Public API

/**
 * Attach a LUN to a server as its next free sdX (or `name`, e.g. the SAN device name). Idempotent: a LUN already
 * attached keeps its name. The partition table is read as the kernel would on attach. Returns the disk name.
 */
export async function attachDisk(labDir: string, server: string, lunId: string, name?: string): Promise<string> {
  return withDeviceLock(labDir, async () => {
    const disks = readDisks(labDir, server);
    const existing = disks.find((d) => d.lun === lunId);
    if (existing) return existing.name;
    const chosen = name && !disks.some((d) => d.name === name) ? name : nextDiskName(disks.map((d) => d.name));
    disks.push({ name: chosen, lun: lunId });
    writeDisks(labDir, server, disks);
    await rescanLunLocked(labDir, lunId);
    return chosen;
  });
}

/** Detach a LUN from a server: its sdX nodes and rows go away. */
export async function detachDisk(labDir: string, server: string, lunId: string): Promise<void> {
  await withDeviceLock(labDir, async () => {
    writeDisks(labDir, server, readDisks(labDir, server).filter((d) => d.lun !== lunId));
    await refreshServer(labDir, server, readLoops(labDir));
  });
}

/** Detach every disk of a server (power on starts with no disks, like a freshly booted kernel). */
export async function detachAllDisks(labDir: string, server: string): Promise<void> {
  await withDeviceLock(labDir, async () => {
    writeDisks(labDir, server, []);
    await refreshServer(labDir, server, readLoops(labDir));
  });
}

/** Re-read a LUN's partition table and refresh every server that has the LUN attached. */
export async function rescanLun(labDir: string, lunId: string): Promise<void> {
  await withDeviceLock(labDir, async () => {
    await rescanLunLocked(labDir, lunId);
  });
}

/** Rewrite one server's /dev nodes and /proc/partitions from the current state. */
export async function refreshServerDevices(labDir: string, server: string): Promise<void> {
  await withDeviceLock(labDir, async () => refreshServer(labDir, server, readLoops(labDir)));
}

/** Detach partition loops of every LUN (for `lab down`; whole-disk loops are the lab core's). */
export async function releasePartitionLoops(labDir: string): Promise<void> {
  await withDeviceLock(labDir, async () => {
    const loops = readLoops(labDir);
    for (const rec of Object.values(loops)) {
      for (const p of rec.partitions) await runOnHost(["losetup", "-d", p.loop]);
      rec.partitions = [];
    }
    writeLoops(labDir, loops);
  });
}
