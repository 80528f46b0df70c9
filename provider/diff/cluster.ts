// Cluster diff: the cluster's identity (name, kind, repository source) replaces; membership, master, timing
// and the rendered files are updated in place.
import { clusterSchema } from "../schemas/cluster";
import { DiffResult, DiffTable, diffProperties, normalizeForDiff, PropertyChanges } from "./property-diff";

/** Numbers for joining or leaving servers are an update; renumbering a server that stays is a replace. */
export function nodeNumbersRule(olds: unknown, news: unknown): "update" | "replace" {
  if (olds === null || typeof olds !== "object" || news === null || typeof news !== "object") return "update";
  const o = olds as Record<string, unknown>;
  const n = news as Record<string, unknown>;
  for (const name of Object.keys(n)) if (name in o && o[name] !== n[name]) return "replace";
  return "update";
}

export const CLUSTER_DIFF: DiffTable = {
  name: "replace",
  kind: "replace",
  source: "replace",
  master: "update",
  servers: "update",
  description: "update",
  port: "update",
  o2cb: "update",
  nodeNumbers: nodeNumbersRule,
};

export function clusterChanges(olds: Record<string, unknown>, news: Record<string, unknown>): PropertyChanges {
  return diffProperties(CLUSTER_DIFF, normalizeForDiff(clusterSchema, CLUSTER_DIFF, olds), normalizeForDiff(clusterSchema, CLUSTER_DIFF, news));
}

/**
 * Pulumi diff for Cluster. A replace creates the new Cluster first: delete changes nothing on the servers (it only
 * forgets), so deleting first would gain nothing and would make the engine replace the pool and every guest
 * with it (a resource deleted first takes its dependents along), whereas the new Cluster on the same source
 * keeps the same cluster root and the pool needs no change.
 */
export function diffCluster(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): DiffResult {
  const { updates, replaces } = clusterChanges(olds, news);
  return { changes: updates.length + replaces.length > 0, replaces, deleteBeforeReplace: false };
}
