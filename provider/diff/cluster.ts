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

/** Pulumi diff for Cluster. Replacing deletes first: a server holds one cluster.conf and one o2cb cluster. */
export function diffCluster(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): DiffResult {
  const { updates, replaces } = clusterChanges(olds, news);
  return { changes: updates.length + replaces.length > 0, replaces, deleteBeforeReplace: replaces.length > 0 };
}
