// The cluster root on the pool master (seed 9.3.1 and 9.3.2 steps 2-4): ovs-cluster-configure, ovs-makerepo
// SOURCE C "description", ovs-cluster-check --master --alter-fstab; skipped when the source is already registered
// and mounted (re-runs change nothing), except that a changed description is written (repository-description.ts).
// Then where the repository really is: /OVS/<UUID>.
import { ovsClusterCheck, ovsClusterConfigure, ovsMakerepo } from "../../commands";
import { findMount, parseMtab } from "../../parsers";
import { readFile, run } from "../../runtime/remote";
import type { ServerEndpoint } from "../../ssh";
import { clusterCheckProblems, parseMakerepoOutput, repositoryMountPoint } from "./repository-output";
import { describeRepository, readRepositoryFiles, registrationOf } from "./repository-description";

export interface ClusterRoot {
  repositoryUuid: string;
  clusterRoot: string;
}

async function mountedAt(server: ServerEndpoint, dir: string): Promise<boolean> {
  const mtab = parseMtab((await readFile(server, "/etc/mtab")) ?? "", "/etc/mtab");
  return findMount(mtab, dir) !== undefined;
}

/** The real directory behind /OVS/running_pool's parent (the cluster root's mount), or undefined. */
export async function resolveClusterRoot(server: ServerEndpoint): Promise<string | undefined> {
  const r = await run(server, ["readlink", "-f", "/OVS/running_pool/.."], { okCodes: [0, 1] });
  const p = r.stdout.trim();
  return r.code === 0 && p.startsWith("/OVS/") ? p : undefined;
}

async function check(server: ServerEndpoint, alterFstab: boolean): Promise<void> {
  const r = await run(server, ovsClusterCheck({ master: true, alterFstab }), { okCodes: [0, 1], write: alterFstab });
  if (r.code !== 0) {
    const problems = clusterCheckProblems(r.stdout + "\n" + r.stderr);
    throw new Error(`ovs-cluster-check --master on ${server.name} found: ${problems.join("; ") || `exit ${r.code}`}`);
  }
}

/**
 * Registers and mounts the cluster root on the master unless it is already (then only a changed description is
 * written, on the master and on the `others` that register it); returns where it is.
 */
export async function ensureClusterRoot(
  master: ServerEndpoint,
  source: string,
  description: string,
  others: readonly ServerEndpoint[] = [],
): Promise<ClusterRoot & { changed: boolean }> {
  const files = await readRepositoryFiles(master);
  const known = registrationOf(files, { source });
  if (known && (await mountedAt(master, repositoryMountPoint(known.uuid))) && (await resolveClusterRoot(master)) === repositoryMountPoint(known.uuid)) {
    const described = await describeRepository(master, others, known, description, files);
    await check(master, false);
    return { repositoryUuid: known.uuid, clusterRoot: repositoryMountPoint(known.uuid), changed: described.length > 0 };
  }
  const configure = await run(master, ovsClusterConfigure(), { okCodes: [0, 1], write: true });
  if (configure.code !== 0) throw new Error(`ovs-cluster-configure on ${master.name} failed: ${(configure.stdout + configure.stderr).trim().slice(-500)}`);
  const made = await run(master, ovsMakerepo(source, "C", description), { okCodes: [0, 1, 32], write: true });
  const result = parseMakerepoOutput(made.stdout);
  if (made.code !== 0 || !result) throw new Error(`ovs-makerepo ${source} C on ${master.name} failed: ${(made.stderr + made.stdout).trim().slice(-500)}`);
  await check(master, true);
  const root = (await resolveClusterRoot(master)) ?? result.mountPoint;
  if (root !== result.mountPoint) throw new Error(`on ${master.name}, /OVS/running_pool leads to ${root}, not the repository just made at ${result.mountPoint}`);
  return { repositoryUuid: result.uuid, clusterRoot: root, changed: true };
}

/** The master's view for read: the registered repository of `source` and whether it is the mounted cluster root. */
export async function observeClusterRoot(
  master: ServerEndpoint,
  source: string,
): Promise<(ClusterRoot & { mounted: boolean; description?: string }) | undefined> {
  const known = registrationOf(await readRepositoryFiles(master), { source });
  if (!known) return undefined;
  const root = repositoryMountPoint(known.uuid);
  const mounted = (await mountedAt(master, root)) && (await resolveClusterRoot(master)) === root;
  return { repositoryUuid: known.uuid, clusterRoot: root, mounted, description: known.description };
}

