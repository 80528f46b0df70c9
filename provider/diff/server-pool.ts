// ServerPool diff: the pool's name and cluster replace; master, members, HA flag and watchdog timing update.
import { serverPoolSchema } from "../schemas/server-pool";
import { DiffResult, DiffTable, diffProperties, normalizeForDiff, PropertyChanges, unknownAware } from "./property-diff";

export const SERVER_POOL_DIFF: DiffTable = {
  name: "replace",
  cluster: "replace",
  master: "update",
  members: "update",
  ha: "update",
  /** Where the HA record lives: a new cluster root is another pool's storage. */
  clusterRoot: "replace",
  /**
   * The Cluster's source: another source is another cluster root (replace). Giving it where it was not given
   * before (a stack made before this input existed) only records it: an update.
   */
  clusterSource: unknownAware((o, n) => (o === undefined && n !== undefined ? "update" : "replace")),
  timing: "update",
  fence: "update",
};

export function serverPoolChanges(olds: Record<string, unknown>, news: Record<string, unknown>): PropertyChanges {
  return diffProperties(SERVER_POOL_DIFF, normalizeForDiff(serverPoolSchema, SERVER_POOL_DIFF, olds), normalizeForDiff(serverPoolSchema, SERVER_POOL_DIFF, news));
}

/** Pulumi diff for ServerPool. Replacing deletes first: a server belongs to one pool at a time. */
export function diffServerPool(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): DiffResult {
  const { updates, replaces } = serverPoolChanges(olds, news);
  // A create that failed part-way (or a record found missing by read) is converged by an update.
  if (olds?.complete === false && !updates.includes("complete")) updates.push("complete");
  // Read found the HA record, or a server's drain hook, different from what the inputs make: an update rewrites.
  if (olds?.recordInSync === false) updates.push("haRecord");
  if (Array.isArray(olds?.hookDrift) && olds.hookDrift.length > 0) updates.push("drainHook");
  // Read found a member's repositories (files or mounts) unlike the master's: an update propagates again.
  if (Array.isArray(olds?.repositoryDrift) && olds.repositoryDrift.length > 0) updates.push("repositories");
  return { changes: updates.length + replaces.length > 0, replaces, deleteBeforeReplace: replaces.length > 0 };
}
