// Guest diff. Where the guest runs is observed state (read finds it after a failover), never an input, so it
// is not in the table and a failover never shows as a change.
import { isUnknown } from "../schemas/common";
import { guestSchema } from "../schemas/guest";
import { DiffResult, DiffTable, diffProperties, normalizeForDiff, PropertyChanges, deepEqual, unknownAware } from "./property-diff";

const rec = (v: unknown): Record<string, unknown> => (v !== null && typeof v === "object" ? (v as Record<string, unknown>) : {});

/**
 * Another pool is another guest; new addresses or members of the same pool are an update. In preview, a pool
 * whose name is known and the same is an update even when other parts are not known yet; an unknown name may be
 * another pool: a replace.
 */
export const guestPoolRule = unknownAware((olds: unknown, news: unknown) => {
  const name = isUnknown(news) ? news : rec(news).name;
  return !isUnknown(name) && rec(olds).name === name ? "update" : "replace";
});

/** Growing a new-image disk is an update (the sparse image is extended); any other disk change replaces. */
export function guestDiskRule(olds: unknown, news: unknown): "update" | "replace" {
  const o = rec(olds);
  const n = rec(news);
  const grows = o.path === undefined && n.path === undefined && typeof o.sizeMB === "number" && typeof n.sizeMB === "number" && n.sizeMB > o.sizeMB;
  return grows ? "update" : "replace";
}

export const GUEST_DIFF: DiffTable = {
  name: "replace",
  pool: guestPoolRule,
  disk: guestDiskRule,
  memory: "update",
  vcpus: "update",
  network: "update",
  ha: "update",
  preferredServers: "update",
  priority: "update",
  onCrash: "update",
};

export function guestChanges(olds: Record<string, unknown>, news: Record<string, unknown>): PropertyChanges {
  return diffProperties(GUEST_DIFF, normalizeForDiff(guestSchema, GUEST_DIFF, olds), normalizeForDiff(guestSchema, GUEST_DIFF, news));
}

/**
 * Pulumi diff for Guest. The old and new guest can coexist only under another name or pool and without sharing
 * an explicit disk image; otherwise the old one is deleted first (one domain name per pool, one writer per image).
 */
export function diffGuest(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): DiffResult {
  const { updates, replaces } = guestChanges(olds, news);
  // Read found the guest stopped (destroyed by hand, or a create that failed part-way): an update starts it
  // again. Where it runs is never compared.
  if (olds?.running === false) updates.push("running");
  // Read found vm.cfg or the HA record missing or different from what the inputs render: an update rewrites them.
  if (olds?.vmCfgMissing === true || olds?.vmCfgInSync === false) updates.push("vmCfg");
  if (olds?.haRecordMissing === true || olds?.haRecordInSync === false) updates.push("haRecord");
  // An identity not yet known (preview) may turn out the same: answer as if it were.
  const maybeSame = (o: unknown, n: unknown) => isUnknown(n) || deepEqual(o, n);
  const newPoolName = isUnknown(news?.pool) ? news.pool : rec(news?.pool).name;
  const sameIdentity = maybeSame(olds?.name, news?.name) && maybeSame(rec(olds?.pool).name, newPoolName);
  const oldPath = rec(olds?.disk).path;
  const sharedImage = oldPath !== undefined && deepEqual(oldPath, rec(news?.disk).path);
  return { changes: updates.length + replaces.length > 0, replaces, deleteBeforeReplace: replaces.length > 0 && (sameIdentity || sharedImage) };
}
