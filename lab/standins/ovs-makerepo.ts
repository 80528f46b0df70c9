// /usr/lib/ovs/ovs-makerepo SOURCE C "DESCRIPTION" for lab servers: registers the repository in
// /etc/ovs/repositories(.options), mounts it at /OVS/<UUID>, creates the pool folders on the storage and, for the
// cluster root (C), links /OVS/running_pool ... to it. Idempotent. File formats: lab/storage/repositories.ts.
import * as fs from "fs";
import * as path from "path";
import { isNfsSource, mountEntry, probeDevice, resolveSource } from "./mount";
import { readMtab } from "../storage/mtab";
import {
  nfsRepositoryUuid,
  POOL_DIRS,
  readRepositoryOptions,
  registerRepository,
  repositoryMountPoint,
  Repository,
  RepositoryOptions,
} from "../storage/repositories";
import { Io, runStandin, serverPath, StandinContext } from "../storage/server-context";

export const OCFS2_REPO_OPTIONS = "_netdev,datavolume,nointr";
/** NFS options: hard mounts over TCP (formats.md: Oracle's own options were not found). */
export const NFS_REPO_OPTIONS = "hard,proto=tcp,vers=3,timeo=600,retrans=2,nointr";

/** The UUID and type of a repository source, or an error message. */
export function identifySource(ctx: StandinContext, source: string): { uuid: string; type: string; options: string } | string {
  if (isNfsSource(source)) return { uuid: nfsRepositoryUuid(source), type: "nfs", options: NFS_REPO_OPTIONS };
  // UUID=/LABEL= (an fstab line moved by ovs-cluster-check): the device blkid finds; the source is kept as given.
  const device = resolveSource(source);
  if (device === undefined) return `${source}: no such device`;
  const probe = probeDevice(serverPath(ctx, device));
  if (!probe) return `${source}: no file system found`;
  if (probe.type !== "ocfs2") return `${source}: not an OCFS2 volume (${probe.type})`;
  return { uuid: probe.uuid, type: "ocfs2", options: OCFS2_REPO_OPTIONS };
}

/** Mount a registered repository at /OVS/<UUID> unless it is mounted already. */
export function mountRepository(ctx: StandinContext, io: Io, repo: Repository, opts?: RepositoryOptions): number {
  const dir = repositoryMountPoint(repo.uuid);
  if (readMtab(ctx).some((e) => e.dir === dir)) return 0;
  fs.mkdirSync(serverPath(ctx, dir), { recursive: true });
  const type = opts?.type ?? (isNfsSource(repo.source) ? "nfs" : "ocfs2");
  const options = opts?.options ?? (type === "nfs" ? NFS_REPO_OPTIONS : OCFS2_REPO_OPTIONS);
  return mountEntry(ctx, io, { device: repo.source, dir, type, options });
}

/** /OVS/running_pool ... -> /OVS/<UUID>/running_pool ... (a real directory of the same name is left alone). */
export function linkClusterRoot(ctx: StandinContext, uuid: string): void {
  for (const pool of POOL_DIRS) {
    const link = serverPath(ctx, path.posix.join("/OVS", pool));
    const target = path.posix.join(repositoryMountPoint(uuid), pool);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(link);
    } catch {
      /* missing */
    }
    if (st?.isSymbolicLink()) {
      if (fs.readlinkSync(link) === target) continue;
      fs.unlinkSync(link);
    } else if (st?.isDirectory()) {
      if (fs.readdirSync(link).length > 0) continue;
      fs.rmdirSync(link);
    } else if (st) {
      continue;
    }
    fs.symlinkSync(target, link);
  }
}

export function makeRepo(argv: string[], ctx: StandinContext, io: Io): number {
  const [source, role, ...descParts] = argv;
  if (!source || !role) {
    io.err('Usage: ovs-makerepo <source> C "<description>"\n');
    return 1;
  }
  // The only role any published source shows is C (seed 9.3.1, 9.3.2); the real tool's full list could not be
  // found, so the lab refuses the rest rather than guess: a provider passing another role fails here first.
  if (role !== "C") {
    io.err(`ovs-makerepo: role '${role}' is not one the lab knows: only C (cluster root), as in the seed\n`);
    return 1;
  }
  const id = identifySource(ctx, source);
  if (typeof id === "string") {
    io.err(`ovs-makerepo: ${id}\n`);
    return 1;
  }
  const repo = { uuid: id.uuid, source };
  const opts: RepositoryOptions = { uuid: id.uuid, type: id.type, options: id.options, role, description: descParts.join(" ") };
  const rc = mountRepository(ctx, io, repo, opts);
  if (rc !== 0) {
    io.err(`ovs-makerepo: cannot mount ${source} on ${repositoryMountPoint(id.uuid)}\n`);
    return rc;
  }
  registerRepository(ctx, repo, opts);
  for (const pool of POOL_DIRS) fs.mkdirSync(serverPath(ctx, path.posix.join(repositoryMountPoint(id.uuid), pool)), { recursive: true });
  linkClusterRoot(ctx, id.uuid);
  io.out(`Repository ${id.uuid} (${source}) mounted at ${repositoryMountPoint(id.uuid)}\n`);
  return 0;
}

/** Mount every registered repository (boot, like the ovsrepositories service) and relink the cluster root. */
export function mountRepositories(ctx: StandinContext, io: Io, repos: Repository[]): number {
  let rc = 0;
  const options = readRepositoryOptions(ctx);
  for (const repo of repos) {
    const opts = options.find((o) => o.uuid === repo.uuid);
    const r = mountRepository(ctx, io, repo, opts);
    rc = r || rc;
    if (r === 0 && opts?.role === "C") linkClusterRoot(ctx, repo.uuid);
  }
  return rc;
}

if (require.main === module) runStandin(makeRepo);
