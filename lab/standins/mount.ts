// mount for lab servers. OCFS2 and NFS have no kernel support here, so a mount of either is a bind mount of the
// shared lab directory behind the volume (by OCFS2 UUID) or behind the export, plus an /etc/mtab line; the checks
// a real mount makes first (device type by the real blkid, o2cb online, NFS server reachable) come before it.
// `UUID=`/`LABEL=` sources are resolved as util-linux mount does (the real blkid -U/-L, which scan the server's
// /proc/partitions), and mtab records the device found. Everything else goes to the real mount.
import * as fs from "fs";
import * as path from "path";
import { execFileSync, spawnSync } from "child_process";
import { REAL_DIR } from "./manifest";
import { layout } from "../layout";
import { formatMountListing, hasOption, MountEntry, readFstab, readMtab, writeMtab } from "../storage/mtab";
import { readRuntime } from "../storage/o2cb-state";
import { Io, isPartitioned, runStandin, serverPath, StandinContext } from "../storage/server-context";
import { nodeSlots, serversMounting } from "../storage/volume-users";

/** A kernel message in the server's console log (what dmesg would show). */
function appendConsole(ctx: StandinContext, line: string): void {
  try {
    fs.appendFileSync(layout.serverLog(ctx.labDir, ctx.identity.name), line + "\n");
  } catch {
    /* no console log outside a lab */
  }
}

/** The real binary kept beside the wrapper (or the host's, when run outside a lab server). */
export function realTool(name: string, fallback: string): string {
  const kept = path.join(REAL_DIR, name);
  return fs.existsSync(kept) ? kept : fallback;
}

/** Probe a device with the real blkid: TYPE and UUID (upper-case hex without dashes), or undefined. */
export function probeDevice(device: string): { type: string; uuid: string; label?: string } | undefined {
  try {
    const out = execFileSync("blkid", ["-o", "export", device], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const v: Record<string, string> = {};
    for (const line of out.split("\n")) {
      const i = line.indexOf("=");
      if (i > 0) v[line.slice(0, i)] = line.slice(i + 1);
    }
    if (!v.TYPE) return undefined;
    return { type: v.TYPE, uuid: (v.UUID ?? "").replace(/-/g, "").toUpperCase(), label: v.LABEL };
  } catch {
    return undefined;
  }
}

const TAG_RE = /^(UUID|LABEL)=(.*)$/;

/** A `UUID=...` or `LABEL=...` mount source (fstab's tag form). */
export function isTagSource(source: string): boolean {
  return TAG_RE.test(source);
}

/**
 * The device a mount source names: a tag resolved by the real blkid (`blkid -U`/`-L`, no cache file, so a
 * reformat or a renamed disk is seen at once; inside a server it scans the server's own /proc/partitions and
 * /dev), anything else as it is. Like util-linux, the value is matched exactly as blkid prints it (an OCFS2
 * UUID in the dashed lower-case form). undefined: no device has that tag.
 */
export function resolveSource(source: string): string | undefined {
  const m = TAG_RE.exec(source);
  if (!m) return source;
  const value = m[2].replace(/^"(.*)"$/, "$1");
  if (!value) return undefined;
  try {
    const out = execFileSync("blkid", ["-c", "/dev/null", m[1] === "UUID" ? "-U" : "-L", value], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return out.split("\n")[0].trim() || undefined;
  } catch {
    return undefined;
  }
}

/** util-linux 2.13's refusal of a tag no device has. */
function noSuchDevice(io: Io, source: string): number {
  io.err(`mount: special device ${source} does not exist\n`);
  return 32;
}

function bindMount(source: string, dir: string): { ok: boolean; err: string } {
  const r = spawnSync(realTool("mount", "/usr/bin/mount"), ["--bind", source, dir], { encoding: "utf8" });
  return { ok: r.status === 0, err: (r.stderr ?? "").trim() };
}

function optionList(opts: string | undefined, drop: string[] = []): string[] {
  return (opts ?? "")
    .split(",")
    .filter((o) => o && o !== "defaults" && o !== "rw" && !drop.includes(o));
}

function alreadyMounted(ctx: StandinContext, io: Io, device: string, dir: string): boolean {
  if (readMtab(ctx).some((e) => e.dir === dir || e.device === device)) {
    io.err(`mount: ${device} already mounted or ${dir} busy\n`);
    return true;
  }
  return false;
}

export function mountOcfs2(ctx: StandinContext, io: Io, source: string, dir: string, opts?: string): number {
  const device = resolveSource(source);
  if (device === undefined) return noSuchDevice(io, source);
  if (!fs.existsSync(serverPath(ctx, dir))) {
    io.err(`mount: mount point ${dir} does not exist\n`);
    return 32;
  }
  if (!fs.existsSync(serverPath(ctx, device))) {
    io.err(`mount.ocfs2: No such file or directory while opening device ${device}\n`);
    return 1;
  }
  if (alreadyMounted(ctx, io, device, dir)) return 32;
  const probe = probeDevice(serverPath(ctx, device));
  if (!probe || probe.type !== "ocfs2" || !probe.uuid) {
    io.err(`mount.ocfs2: Bad magic number in inode while trying to determine heartbeat information\n`);
    return 1;
  }
  if (!readRuntime(ctx).online) {
    io.err("mount.ocfs2: Unable to access cluster service while trying initialize cluster\n");
    return 1;
  }
  // Each node that mounts the volume takes one of its node slots (mkfs.ocfs2 -N); with none free the kernel's
  // ocfs2_find_slot fails the mount with EINVAL ("no free slots available!" in dmesg), and mount.ocfs2 says so in
  // its "<strerror> while mounting ... Check 'dmesg'" form.
  const slots = nodeSlots(serverPath(ctx, device));
  const holders = serversMounting(ctx.labDir, ctx.identity.name, device).filter((s) => s !== ctx.identity.name);
  if (slots !== undefined && holders.length >= slots) {
    io.err(`mount.ocfs2: Invalid argument while mounting ${device} on ${dir}. Check 'dmesg' for more information on this error.\n`);
    appendConsole(ctx, `(mount.ocfs2,${process.pid},0):ocfs2_find_slot ERROR: no free slots available!`);
    return 1;
  }
  const volume = layout.volumeDir(ctx.labDir, probe.uuid);
  fs.mkdirSync(volume, { recursive: true });
  const r = bindMount(volume, serverPath(ctx, dir));
  if (!r.ok) {
    io.err(`mount.ocfs2: ${r.err}\n`);
    return 1;
  }
  const options = ["rw", ...optionList(opts, ["_netdev", "heartbeat=local"]), "_netdev", "heartbeat=local"].join(",");
  writeMtab(ctx, [...readMtab(ctx), { device, dir, type: "ocfs2", options, freq: "0", passno: "0" }]);
  return 0;
}

/** NFS: `HOST:/PATH` must be the lab's NFS server and a path under its export. */
export function mountNfs(ctx: StandinContext, io: Io, source: string, dir: string, opts?: string): number {
  const m = /^([^:]+):(\/.*)$/.exec(source);
  if (!m) {
    io.err(`mount.nfs: remote share not in 'host:dir' format\n`);
    return 32;
  }
  const [, host, remotePath] = m;
  if (!fs.existsSync(serverPath(ctx, dir))) {
    io.err(`mount.nfs: mount point ${dir} does not exist\n`);
    return 32;
  }
  if (alreadyMounted(ctx, io, source, dir)) return 32;
  const nfs = ctx.lab.storage.nfs;
  if (host !== nfs.host || isPartitioned(ctx)) {
    io.err("mount.nfs: Connection timed out\n");
    return 32;
  }
  const exportPath = path.posix.normalize(nfs.path);
  const wanted = path.posix.normalize(remotePath);
  const local = path.join(layout.nfsRoot(ctx.labDir), wanted);
  if (wanted === exportPath) fs.mkdirSync(local, { recursive: true });
  if (!(wanted === exportPath || wanted.startsWith(exportPath + "/")) || !fs.existsSync(local)) {
    io.err(`mount.nfs: access denied by server while mounting ${source}\n`);
    return 32;
  }
  const r = bindMount(local, serverPath(ctx, dir));
  if (!r.ok) {
    io.err(`mount.nfs: ${r.err}\n`);
    return 32;
  }
  const options = ["rw", ...optionList(opts, [`addr=${host}`]), `addr=${host}`].join(",");
  writeMtab(ctx, [...readMtab(ctx), { device: source, dir, type: "nfs", options, freq: "0", passno: "0" }]);
  return 0;
}

export function isNfsSource(source: string): boolean {
  return /^[^/:]+:\//.test(source);
}

/** Mount one table entry of a type the lab handles. */
export function mountEntry(ctx: StandinContext, io: Io, e: Pick<MountEntry, "device" | "dir" | "type" | "options">): number {
  if (e.type === "ocfs2") return mountOcfs2(ctx, io, e.device, e.dir, e.options);
  if (e.type === "nfs" || e.type === "nfs4") return mountNfs(ctx, io, e.device, e.dir, e.options);
  io.err(`mount: unknown filesystem type '${e.type}'\n`);
  return 32;
}

/** `mount -a [-t TYPES] [-O OPTS]` over fstab, for the lab's types; entries already mounted are skipped. */
export function mountAll(ctx: StandinContext, io: Io, types?: string[], withOptions?: string[]): number {
  let rc = 0;
  const mounted = readMtab(ctx);
  for (const e of readFstab(ctx)) {
    if (e.type !== "ocfs2" && e.type !== "nfs" && e.type !== "nfs4") continue;
    if (types && !types.includes(e.type)) continue;
    if (hasOption(e.options, "noauto")) continue;
    if (withOptions && !withOptions.every((o) => hasOption(e.options, o))) continue;
    if (mounted.some((m) => m.dir === e.dir)) continue;
    rc = mountEntry(ctx, io, e) || rc;
  }
  return rc;
}

interface MountArgs {
  all: boolean;
  types?: string[];
  options?: string;
  testOpts?: string[];
  positional: string[];
  passthrough: boolean;
}

export function parseMountArgs(argv: string[]): MountArgs {
  const a: MountArgs = { all: false, positional: [], passthrough: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-a" || arg === "--all") a.all = true;
    else if (arg === "-t" || arg === "--types") a.types = (argv[++i] ?? "").split(",");
    else if (arg.startsWith("-t") && arg.length > 2) a.types = arg.slice(2).split(",");
    else if (arg === "-o" || arg === "--options") a.options = argv[++i];
    else if (arg === "-O" || arg === "--test-opts") a.testOpts = (argv[++i] ?? "").split(",");
    else if (arg === "-v" || arg === "-n" || arg === "-l") continue;
    else if (arg.startsWith("-")) a.passthrough = true;
    else a.positional.push(arg);
  }
  return a;
}

export function mountCommand(argv: string[], ctx: StandinContext, io: Io): number | "real" {
  const a = parseMountArgs(argv);
  if (a.passthrough) return "real";
  const labTypes = ["ocfs2", "nfs", "nfs4"];
  if (a.all) {
    if (a.types && !a.types.every((t) => labTypes.includes(t))) return "real";
    return mountAll(ctx, io, a.types, a.testOpts);
  }
  if (a.positional.length === 0) {
    for (const e of readMtab(ctx)) {
      if (!a.types || a.types.includes(e.type)) io.out(formatMountListing(e) + "\n");
    }
    return 0;
  }
  if (a.positional.length === 1) {
    const e = readFstab(ctx).find((x) => x.dir === a.positional[0] || x.device === a.positional[0]);
    if (!e || !labTypes.includes(e.type)) return "real";
    return mountEntry(ctx, io, { ...e, options: a.options ?? e.options });
  }
  const [device, dir] = a.positional;
  let type = a.types?.[0];
  if (!type) {
    if (isNfsSource(device)) type = "nfs";
    else {
      const resolved = resolveSource(device);
      if (resolved === undefined) return noSuchDevice(io, device);
      if (probeDevice(serverPath(ctx, resolved))?.type === "ocfs2") type = "ocfs2";
    }
  }
  if (!type || !labTypes.includes(type)) return "real";
  return mountEntry(ctx, io, { device, dir, type, options: a.options ?? "defaults" });
}

if (require.main === module) {
  runStandin((argv, ctx, io) => {
    const rc = mountCommand(argv, ctx, io);
    if (rc !== "real") return rc;
    const r = spawnSync(realTool("mount", "/usr/bin/mount"), argv, { stdio: "inherit" });
    return r.status ?? 1;
  });
}
