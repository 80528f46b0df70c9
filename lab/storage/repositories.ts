// /etc/ovs/repositories and /etc/ovs/repositories.options as the lab's ovs-makerepo writes them. The real
// formats were not found (formats.md: not confirmed); the lab's choice, documented in lab/STANDINS.md:
//   repositories:          `UUID SOURCE` per line (`#` comments), UUID = 32 upper-case hex digits
//   repositories.options:  `UUID TYPE OPTIONS ROLE "DESCRIPTION"` per line, e.g.
//                          `0A1B... ocfs2 _netdev,datavolume,nointr C "cluster root"`
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { serverPath } from "./server-context";

export const REPOSITORIES = "/etc/ovs/repositories";
export const REPOSITORIES_OPTIONS = "/etc/ovs/repositories.options";
export const POOL_DIRS = ["running_pool", "seed_pool", "iso_pool", "publish_pool", "sharedDisk"];

export interface Repository {
  uuid: string;
  source: string;
}
export interface RepositoryOptions {
  uuid: string;
  type: string;
  options: string;
  role: string;
  description: string;
}

export function parseRepositories(text: string): Repository[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => l.split(/\s+/))
    .filter((f) => f.length >= 2)
    .map(([uuid, source]) => ({ uuid, source }));
}

export function parseRepositoryOptions(text: string): RepositoryOptions[] {
  const out: RepositoryOptions[] = [];
  for (const l of text.split("\n")) {
    const m = /^\s*([0-9A-Fa-f]+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(?:"(.*)")?\s*$/.exec(l);
    if (m) out.push({ uuid: m[1], type: m[2], options: m[3], role: m[4], description: m[5] ?? "" });
  }
  return out;
}

const HEADER = "# Oracle VM Server repositories, maintained by ovs-makerepo (UUID SOURCE)\n";
const OPTIONS_HEADER = '# Repository mount options, maintained by ovs-makerepo (UUID TYPE OPTIONS ROLE "DESCRIPTION")\n';

export function readRepositories(ctx: { root: string }): Repository[] {
  try {
    return parseRepositories(fs.readFileSync(serverPath(ctx, REPOSITORIES), "utf8"));
  } catch {
    return [];
  }
}

export function readRepositoryOptions(ctx: { root: string }): RepositoryOptions[] {
  try {
    return parseRepositoryOptions(fs.readFileSync(serverPath(ctx, REPOSITORIES_OPTIONS), "utf8"));
  } catch {
    return [];
  }
}

/** Replace `item` where its UUID is (keeping the order), or append it. */
function putByUuid<T extends { uuid: string }>(list: T[], item: T): T[] {
  return list.some((x) => x.uuid === item.uuid) ? list.map((x) => (x.uuid === item.uuid ? item : x)) : [...list, item];
}

/** Add or replace (in place: a new description keeps the line where it was) a repository in both files. */
export function registerRepository(ctx: { root: string }, repo: Repository, opts: RepositoryOptions): void {
  fs.mkdirSync(path.dirname(serverPath(ctx, REPOSITORIES)), { recursive: true });
  const repos = putByUuid(readRepositories(ctx), repo);
  fs.writeFileSync(serverPath(ctx, REPOSITORIES), HEADER + repos.map((r) => `${r.uuid} ${r.source}\n`).join(""));
  const options = putByUuid(readRepositoryOptions(ctx), opts);
  fs.writeFileSync(
    serverPath(ctx, REPOSITORIES_OPTIONS),
    OPTIONS_HEADER + options.map((o) => `${o.uuid} ${o.type} ${o.options} ${o.role} "${o.description.replace(/"/g, "'")}"\n`).join(""),
  );
}

/** An NFS repository's UUID: stable for the same source, so registering twice is idempotent. */
export function nfsRepositoryUuid(source: string): string {
  return crypto.createHash("md5").update(source).digest("hex").toUpperCase();
}

/** Where a repository is mounted. */
export function repositoryMountPoint(uuid: string): string {
  return `/OVS/${uuid}`;
}
