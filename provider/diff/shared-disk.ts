// SharedDisk diff: what changes the disk itself (replace: a different device, or a re-format) and what is
// applied to the servers in place (mount point, the set of attached servers).
import { isUnknown } from "../schemas/common";
import { sharedDiskSchemas, SharedDiskKind } from "../schemas/shared-disk";
import { DiffResult, DiffTable, diffProperties, normalizeForDiff, PropertyChanges } from "./property-diff";

/** Turning overwrite on means "re-format": preview shows it as a replace. Turning it off changes nothing on disk. */
const overwriteRule = (_o: unknown, n: unknown) => (n === true ? "replace" : "update");

const common: DiffTable = { kind: "replace", mountPoint: "update", mount: "update", servers: "update" };
/** adoptVolume: up checks it against the disk (the same volume: nothing to do; one the disk does not hold: refused). */
const formatOnce: DiffTable = { format: "replace", partition: "replace", overwrite: overwriteRule, adoptVolume: "update" };

export const SHARED_DISK_DIFF: Readonly<Record<SharedDiskKind, DiffTable>> = {
  iscsi: { ...common, portal: "replace", targets: "replace", ...formatOnce },
  san: { ...common, device: "replace", ...formatOnce },
  nfs: { ...common, export: "replace" },
};

function tableFor(kind: unknown): DiffTable | undefined {
  return typeof kind === "string" && kind in SHARED_DISK_DIFF ? SHARED_DISK_DIFF[kind as SharedDiskKind] : undefined;
}

export function sharedDiskChanges(olds: Record<string, unknown>, news: Record<string, unknown>): PropertyChanges {
  const newTable = tableFor(news?.kind);
  if (!newTable || isUnknown(news?.kind) || olds?.kind !== news?.kind) {
    // Another (or a not yet known) kind of storage is another disk.
    return { updates: [], replaces: ["kind"] };
  }
  const kind = news.kind as SharedDiskKind;
  const schema = sharedDiskSchemas[kind];
  return diffProperties(newTable, normalizeForDiff(schema, newTable, olds), normalizeForDiff(schema, newTable, news));
}

/** Pulumi diff for SharedDisk. Replacing deletes first: both copies would claim the same servers' mount point. */
export function diffSharedDisk(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): DiffResult {
  const { updates, replaces } = sharedDiskChanges(olds, news);
  return { changes: updates.length + replaces.length > 0, replaces, deleteBeforeReplace: replaces.length > 0 };
}
