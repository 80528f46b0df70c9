// ServerPool inputs: the pool master and members, the cluster they form, the pool's HA flag, watchdog timing.
import { z } from "zod";
import { absolutePathSchema, ALWAYS, asRecord, checkWith, findDuplicateServerFields, CheckResult, isUnknown, Known, parseKnown, serverNameSchema, serverSchema, unknownOr } from "./common";
import { clusterNameSchema } from "./cluster";
import { FenceMethodSchema, TimingSchema } from "../../ha/ha-record";

/** Pool names: 1..32 of [A-Za-z0-9_-], starting with a letter or digit (used in paths and log lines). */
export const POOL_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
export const poolNameSchema = z
  .string({ error: "must be a pool name string" })
  .regex(POOL_NAME_RE, { error: "must be a pool name of 1..32 characters of [A-Za-z0-9_-], starting with a letter or digit" });


export const serverPoolSchema = z
  .object({
    name: unknownOr(poolNameSchema),
    master: unknownOr(serverSchema),
    members: unknownOr(z.array(serverSchema, { error: "must be a list of servers {name, address, port}" })).default([]),
    /** The Cluster's name (o2cb cluster name) the pool's servers form. */
    cluster: unknownOr(clusterNameSchema),
    /** The pool's HA flag: guests fail over only when both the pool and the guest have HA on. */
    ha: unknownOr(z.boolean({ error: "must be true or false" })).default(false),
    /**
     * The Cluster's `clusterRoot` output (e.g. /OVS/<UUID>): the shared directory where the pool's HA record is
     * written (<clusterRoot>/.ovm-ha/pool.json). Required to create a pool (checked by the ServerPool provider).
     */
    clusterRoot: unknownOr(absolutePathSchema).optional(),
    /**
     * The Cluster's `source` (an input of the Cluster, so known in preview): with it, an in-place update of the
     * Cluster (whose clusterRoot output is unknown in preview) previews as no change of the pool, because the
     * same cluster on the same source keeps its repository. A new source is another cluster root: a replace.
     */
    clusterSource: unknownOr(z.string({ error: "must be the Cluster's source (its device or NFS export)" }).min(1, { error: "must not be empty" }).max(1024, { error: "must be at most 1024 characters" })).optional(),
    /** The HA watchdog's timing, written into the HA record as is (see ha/HA-RECORD.md). */
    timing: unknownOr(TimingSchema),
    /** How each server is fenced, by server name; servers not listed fence by `none`. */
    fence: unknownOr(z.record(serverNameSchema, FenceMethodSchema, { error: "must map server names to {method: power|storage|levels|none}" })).default({}),
  })
  .strict()
  .superRefine((raw, ctx) => {
    const p = asRecord(raw);
    // The master and members are one list of servers for uniqueness: index 0 is the master.
    if (!Array.isArray(p.members) || p.master === null || typeof p.master !== "object") return;
    for (const d of findDuplicateServerFields([p.master, ...p.members])) {
      const where = (i: number) => (i === 0 ? "the master" : `members[${i - 1}]`);
      ctx.addIssue({
        code: "custom",
        path: d.index === 0 ? ["master", d.key] : ["members", d.index - 1, d.key],
        message: `must be unique in the pool: ${d.key} already used by ${where(d.firstIndex)}`,
      });
    }
    const fence = asRecord(p.fence);
    const names = [asRecord(p.master).name, ...p.members.map((m) => asRecord(m).name)];
    if (names.every((n) => typeof n === "string" && !isUnknown(n))) {
      for (const key of Object.keys(fence)) {
        if (!names.includes(key)) ctx.addIssue({ code: "custom", path: ["fence", key], message: `must be a server of the pool (${names.join(", ")})` });
      }
    }
  }, ALWAYS);

export type ServerPoolInputs = z.output<typeof serverPoolSchema>;
export type KnownServerPoolInputs = Known<ServerPoolInputs>;

/** Pulumi check for ServerPool. */
export function checkServerPool(_olds: Record<string, unknown>, news: Record<string, unknown>): CheckResult<ServerPoolInputs> {
  return checkWith(serverPoolSchema, news);
}

export function parseServerPoolInputs(inputs: Record<string, unknown>): KnownServerPoolInputs {
  return parseKnown("ServerPool", serverPoolSchema, inputs);
}
