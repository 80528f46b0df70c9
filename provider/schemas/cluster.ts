// Cluster inputs: the Oracle VM cluster set up on the pool master (ovs-cluster-configure, ovs-makerepo,
// ovs-cluster-check), its /etc/ocfs2/cluster.conf and /etc/sysconfig/o2cb, and the stable node numbers.
import { z } from "zod";
import {
  ALWAYS,
  asRecord,
  checkUniqueServers,
  checkWith,
  CheckResult,
  containsUnknown,
  devicePathSchema,
  ipv4AddressSchema,
  isUnknown,
  Known,
  parseKnown,
  portSchema,
  serverNameSchema,
  serverSchema,
  UNKNOWN,
  unknownOr,
} from "./common";
import { assignNodeNumbers, MAX_NODE_NUMBER } from "./node-numbers";
import { nfsExportSchema } from "./shared-disk";

/** o2cb: at most 16 characters of [0-9A-Za-z]. */
export const CLUSTER_NAME_RE = /^[0-9A-Za-z]{1,16}$/;
export const clusterNameSchema = z
  .string({ error: "must be a cluster name string" })
  .regex(CLUSTER_NAME_RE, { error: "must be a cluster name of 1..16 characters of [0-9A-Za-z] (o2cb's limit)" });

/** ovs-makerepo's description argument: printable words, quoted on the command line anyway. */
export const DESCRIPTION_RE = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;

const intAtLeast = (min: number, what: string) =>
  z
    .number({ error: `must be ${what}: an integer >= ${min}` })
    .int({ error: `must be ${what}: an integer >= ${min}` })
    .min(min, { error: `must be ${what}: an integer >= ${min} (o2cb refuses less)` })
    .max(2 ** 31 - 1, { error: `must be ${what}: an integer >= ${min} that fits 32 bits` });

/** o2cb timing; defaults are o2cb's own (31 = 60 s disk heartbeat window). */
export const o2cbTimingSchema = z
  .object({
    heartbeatThreshold: unknownOr(intAtLeast(7, "a heartbeat dead threshold")).default(31),
    idleTimeoutMs: unknownOr(intAtLeast(5000, "a network idle timeout in ms")).default(30000),
    keepaliveDelayMs: unknownOr(intAtLeast(1000, "a keepalive delay in ms")).default(2000),
    reconnectDelayMs: unknownOr(intAtLeast(2000, "a reconnect delay in ms")).default(2000),
  })
  .strict()
  .superRefine((raw, ctx) => {
    const t = asRecord(raw);
    // o2net only accepts a keepalive delay below the idle timeout.
    if (typeof t.idleTimeoutMs === "number" && typeof t.keepaliveDelayMs === "number" && t.keepaliveDelayMs >= t.idleTimeoutMs) {
      ctx.addIssue({ code: "custom", path: ["keepaliveDelayMs"], message: `must be less than idleTimeoutMs (${t.idleTimeoutMs})` });
    }
  }, ALWAYS);
export type O2cbTimingInput = z.output<typeof o2cbTimingSchema>;

const nodeNumberSchema = z
  .number({ error: `must be a node number: an integer 0..${MAX_NODE_NUMBER}` })
  .int({ error: `must be a node number: an integer 0..${MAX_NODE_NUMBER}` })
  .min(0, { error: `must be a node number: an integer 0..${MAX_NODE_NUMBER}` })
  .max(MAX_NODE_NUMBER, { error: `must be a node number: an integer 0..${MAX_NODE_NUMBER}` });

export const clusterSchema = z
  .object({
    name: unknownOr(clusterNameSchema).default("ocfs2"),
    kind: unknownOr(z.enum(["nfs", "ocfs2"], { error: "must be nfs or ocfs2" })),
    /** The pool master's server name: where the ovs-* scripts run. */
    master: unknownOr(serverNameSchema),
    servers: unknownOr(
      z
        .array(serverSchema, { error: "must be a list of servers {name, address, port}" })
        .min(1, { error: "must list at least one server" })
        .max(MAX_NODE_NUMBER + 1, { error: `must list at most ${MAX_NODE_NUMBER + 1} servers (OCFS2 node numbers 0..${MAX_NODE_NUMBER})` }),
    ),
    /** ovs-makerepo SOURCE: the OCFS2 device (ocfs2) or host:/path export (nfs), usually a SharedDisk output. */
    source: unknownOr(z.string({ error: "must be a string: a /dev/ path (ocfs2) or host:/path (nfs)" })),
    /**
     * The id of the SharedDisk that `source` comes from (pass `disk.id`). Never compared by diff: in preview it
     * tells an in-place update of that disk (its id is known and the same) from a replace (unknown), so that the
     * source the disk keeps is known in preview.
     */
    sourceDisk: unknownOr(z.string({ error: "must be a SharedDisk's id string (pass disk.id)" }).min(1, { error: "must be a SharedDisk's id (pass disk.id), not empty" })).optional(),
    description: unknownOr(
      z
        .string({ error: "must be a description string" })
        .regex(DESCRIPTION_RE, { error: "must be 1..64 characters of [A-Za-z0-9 ._-], starting with a letter or digit" }),
    ).default("cluster root"),
    /** o2net's TCP port (cluster.conf ip_port). */
    port: unknownOr(portSchema).default(7777),
    o2cb: o2cbTimingSchema.prefault({}),
    /**
     * Server name -> OCFS2 node number. Filled in by check and carried in state so numbers stay stable; set it
     * only to adopt an existing cluster whose numbers are known (given numbers win over remembered ones).
     */
    nodeNumbers: unknownOr(z.record(serverNameSchema, unknownOr(nodeNumberSchema), { error: "must map server names to node numbers" })).optional(),
  })
  .strict()
  .superRefine((raw, ctx) => {
    const c = asRecord(raw);
    checkUniqueServers(c.servers, ctx, ["servers"]);
    const servers = Array.isArray(c.servers) ? c.servers.map(asRecord) : undefined;
    const names = servers?.map((s) => s.name);
    const allNamesKnown = names !== undefined && names.every((n) => typeof n === "string" && !isUnknown(n));
    if (allNamesKnown && typeof c.master === "string" && !isUnknown(c.master) && !names.includes(c.master)) {
      ctx.addIssue({ code: "custom", path: ["master"], message: `must be one of the servers (${names.join(", ")})` });
    }
    if (c.kind === "ocfs2" && servers) {
      // o2net is IPv4 only: cluster.conf ip_address must be a dotted quad.
      servers.forEach((s, i) => {
        if (typeof s.address === "string" && !isUnknown(s.address) && !ipv4AddressSchema.safeParse(s.address).success) {
          ctx.addIssue({ code: "custom", path: ["servers", i, "address"], message: "must be an IPv4 address for an ocfs2 cluster (o2net speaks IPv4 only)" });
        }
      });
    }
    if (typeof c.source === "string" && !isUnknown(c.source)) {
      if (c.kind === "ocfs2" && !devicePathSchema.safeParse(c.source).success) {
        ctx.addIssue({ code: "custom", path: ["source"], message: "must be the OCFS2 block device under /dev/ for an ocfs2 cluster" });
      } else if (c.kind === "nfs" && !nfsExportSchema.safeParse(c.source).success) {
        ctx.addIssue({ code: "custom", path: ["source"], message: "must be an NFS export host:/path for an nfs cluster" });
      }
    }
    if (c.nodeNumbers && !isUnknown(c.nodeNumbers)) {
      const byNumber = new Map<number, string>();
      for (const [name, n] of Object.entries(asRecord(c.nodeNumbers))) {
        if (allNamesKnown && !names.includes(name)) {
          ctx.addIssue({ code: "custom", path: ["nodeNumbers", name], message: `must name one of the servers (${names.join(", ")})` });
        }
        if (typeof n !== "number") continue;
        const other = byNumber.get(n);
        if (other !== undefined) ctx.addIssue({ code: "custom", path: ["nodeNumbers", name], message: `must be unique: node number ${n} is already given to ${other}` });
        else byNumber.set(n, name);
      }
    }
  }, ALWAYS);

export type ClusterInputs = z.output<typeof clusterSchema>;
/** After check, `nodeNumbers` is always present: the full map for the listed servers. */
export type KnownClusterInputs = Known<ClusterInputs> & { nodeNumbers: Record<string, number> };

function numberMap(value: unknown): Record<string, number> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return {};
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === "number") out[k] = v;
  return out;
}

/**
 * Pulumi check for Cluster: validates, fills defaults and computes `nodeNumbers` from the numbers remembered in
 * `olds` (the previous inputs) and any given in `news`. Unknown server names make the numbering unknown.
 */
export function checkCluster(olds: Record<string, unknown>, news: Record<string, unknown>): CheckResult<ClusterInputs> {
  const checked = checkWith(clusterSchema, { ...news, ...(news && "source" in news ? { source: carriedSource(olds, news) } : {}) });
  if (checked.failures.length > 0) return checked;
  const inputs = checked.inputs as ClusterInputs;
  const servers = inputs.servers;
  if (isUnknown(servers) || containsUnknown(servers.map((s) => s.name)) || isUnknown(inputs.nodeNumbers) || containsUnknown(inputs.nodeNumbers)) {
    return { inputs: { ...inputs, nodeNumbers: UNKNOWN }, failures: [] };
  }
  const pinned = numberMap(inputs.nodeNumbers);
  const pinnedNumbers = new Set(Object.values(pinned));
  const remembered: Record<string, number> = {};
  // A given number wins over a number remembered for another server.
  for (const [name, n] of Object.entries(numberMap(olds?.nodeNumbers))) if (!pinnedNumbers.has(n)) remembered[name] = n;
  const nodeNumbers = assignNodeNumbers({ ...remembered, ...pinned }, servers.map((s) => s.name as string));
  return { inputs: { ...inputs, nodeNumbers }, failures: [] };
}

/**
 * The source while the SharedDisk it comes from is updated in place: in preview the disk's outputs are unknown,
 * but an in-place update keeps its device (SharedDisk keeps `devicePath` and each server's device), so the source
 * of the previous inputs stands when the disk is the same (`sourceDisk` known and equal) and so is the master
 * (whose device it is). Otherwise, or outside preview (the source is known there), the source stays as given.
 */
export function carriedSource(olds: Record<string, unknown>, news: Record<string, unknown>): unknown {
  const source = news?.source;
  if (!isUnknown(source)) return source;
  const known = (v: unknown) => typeof v === "string" && !isUnknown(v);
  const same = (k: string) => known(news?.[k]) && olds?.[k] === news?.[k];
  return same("sourceDisk") && same("master") && known(olds?.source) ? olds.source : source;
}

/** For create/update: validated, defaults and node numbers filled, no unknowns (throws ValidationError). */
export function parseClusterInputs(inputs: Record<string, unknown>): KnownClusterInputs {
  const parsed = parseKnown("Cluster", clusterSchema, inputs);
  const nodeNumbers = assignNodeNumbers(numberMap(parsed.nodeNumbers), parsed.servers.map((s) => s.name));
  return { ...parsed, nodeNumbers };
}
