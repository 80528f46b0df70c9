// ServerPool operations (seed 9.1, 9.4): verify every server, propagate the repositories and cluster.conf from
// the master (and make the repositories live on the members: mounted, /OVS/running_pool linked), install the planned-shutdown hook on every server, and write the pool's HA record on the shared
// storage. Loaded by the thin provider object at call time (provider/runtime/provider-object.ts).
import type * as pulumi from "@pulumi/pulumi";
import { isUnknown } from "../schemas/common";
import { checkServerPool, KnownServerPoolInputs, parseServerPoolInputs } from "../schemas/server-pool";
import { diffServerPool } from "../diff/server-pool";
import { PartialFailureError } from "../runtime/init-failed";
import { connectAll, onEachServer, removeFile, unreachableOnly } from "../runtime/remote";
import { isCredentialFailure, ServerEndpoint } from "../ssh";
import { evacuate, Move } from "./server-pool/evacuate";
import { buildPoolRecord, poolRecordPath, readPoolRecord, renderPoolRecord, writePoolRecord } from "./server-pool/pool-record";
import { endpointOf, KnownServer, poolServers } from "./server-pool/pool-servers";
import { masterFiles, propagateTo } from "./server-pool/propagate";
import { withRunStats } from "./server-pool/run-stats-file";
import { probeServer, reasonOf } from "./server-pool/server-probe";
import { HOOK_SCRIPT, hookInSync, installHook, removeHook } from "./server-pool/shutdown-hook";
import { agentInSync, installAgent, removeAgent, removePropagated, restartAgent, writePropagated } from "./server-pool/agent-service";
import { TimingSchema } from "../../ha/ha-record";
import { ServerFacts, verifyServers } from "./server-pool/verify-servers";

type Bag = Record<string, unknown>;

/** Version of the outputs' layout, for later releases reading this state. */
export const SERVER_POOL_STATE_VERSION = 1;
/** The hook waits this long for the drain before the shutdown goes on. */
export const DRAIN_TIMEOUT_SECONDS = 240;
/** Guests' files live in the repository's running_pool (the cluster root's, linked at /OVS/running_pool). */
export const REPOSITORY = "/OVS";

const INPUT_KEYS = ["name", "master", "members", "cluster", "ha", "watchdog", "clusterRoot", "clusterSource", "timing", "fence"] as const;

export function pickInputs(props: Bag): Bag {
  const out: Bag = {};
  for (const k of INPUT_KEYS) if (props?.[k] !== undefined) out[k] = props[k];
  return out;
}

type Inputs = KnownServerPoolInputs & { clusterRoot: string };

function parse(bag: Bag): Inputs {
  const p = parseServerPoolInputs(pickInputs(bag));
  if (p.clusterRoot === undefined) {
    throw new Error("ServerPool: clusterRoot is required: the Cluster's clusterRoot output (e.g. /OVS/<UUID>), where the HA record is written");
  }
  return p as Inputs;
}

export interface ServerPoolOutputs extends Bag {
  servers: ServerFacts[];
  haRecordPath: string;
  haRecordGeneration: number;
  hookPath: string;
  /** What a Guest needs of its pool: pass it as the Guest's `pool`. */
  guestPool: Bag;
  /** False when a create stopped part-way: the next update converges everything. */
  complete: boolean;
  /** False when read found the HA record different from what the inputs describe. */
  recordInSync: boolean;
  stateVersion: number;
}

function outputsOf(p: Inputs, facts: ServerFacts[], generation: number, complete: boolean, dirs: CreatedDirs = {}): ServerPoolOutputs {
  return {
    hookDirsCreated: dirs,
    ...(p as unknown as Bag),
    servers: facts,
    haRecordPath: poolRecordPath(p.clusterRoot),
    haRecordGeneration: generation,
    hookPath: HOOK_SCRIPT,
    guestPool: { name: p.name, master: p.master, members: p.members, ha: p.ha, clusterRoot: p.clusterRoot },
    complete,
    recordInSync: true,
    hookDrift: [],
    unreachableServers: [],
    stateVersion: SERVER_POOL_STATE_VERSION,
  };
}

const names = (p: { master: KnownServer; members: KnownServer[] }) => poolServers(p).map((s) => s.name);

export async function check(olds: Bag, news: Bag): Promise<pulumi.dynamic.CheckResult> {
  const r = checkServerPool(olds, { ...news, clusterRoot: carriedClusterRoot(olds, news) });
  const failures = [...r.failures];
  const inputs = r.inputs as Bag;
  const root = inputs.clusterRoot;
  if (root === undefined && !failures.some((f) => f.property === "clusterRoot")) {
    failures.push({ property: "clusterRoot", reason: "is required: the Cluster's clusterRoot output (e.g. /OVS/<UUID>), where the pool's HA record is written" });
  }
  // What a Guest takes of its pool, computed from the inputs so that it is known in preview whenever they are
  // (the engine's preview of an update knows only the checked inputs of a dynamic resource).
  if (failures.length === 0) inputs.guestPool = guestPoolOf(inputs);
  return { inputs, failures };
}

/**
 * The cluster root while the Cluster is being updated in place: its clusterRoot output is unknown in preview, but
 * the same cluster (name) on the same source (both known from the Cluster's inputs) keeps its repository, so the
 * root recorded in the previous inputs stands. Anything else (a new source, a cluster not known yet) stays as given.
 */
export function carriedClusterRoot(olds: Bag, news: Bag): unknown {
  const root = news?.clusterRoot;
  if (!isUnknown(root)) return root;
  const known = (v: unknown) => typeof v === "string" && !isUnknown(v);
  const same = (k: string) => known(news?.[k]) && olds?.[k] === news?.[k];
  return same("cluster") && same("clusterSource") && known(olds?.clusterRoot) ? olds.clusterRoot : root;
}

function guestPoolOf(p: Bag): Bag {
  return { name: p.name, master: p.master, members: p.members, ha: p.ha, clusterRoot: p.clusterRoot };
}

export async function diff(id: string, olds: Bag, news: Bag): Promise<pulumi.dynamic.DiffResult> {
  return diffServerPool(id, olds, news);
}

/** Propagation to members, the hook on the given servers, then the record: the steps that change servers. */
/** Directories installing the hook created, by server (kept in state so that removing the hook removes them). */
type CreatedDirs = Record<string, string[]>;

function noteCreatedDirs(dirs: CreatedDirs, server: string, created: string[]): void {
  if (created.length) dirs[server] = [...new Set([...(dirs[server] ?? []), ...created])];
}

function createdDirsOf(props: Bag): CreatedDirs {
  const v = props?.hookDirsCreated;
  return v !== null && typeof v === "object" && !Array.isArray(v) ? { ...(v as CreatedDirs) } : {};
}

async function converge(p: Inputs, targets: ServerEndpoint[], clusterConf: string, done: string[], dirs: CreatedDirs): Promise<number> {
  const master = endpointOf(p.master);
  const members = targets.filter((s) => s.name !== master.name);
  const files = await masterFiles(master, clusterConf);
  if (members.length > 0) {
    // Each member's steps are recorded as they finish, so a failure on one member still says what was done.
    const steps: string[] = [];
    try {
      await onEachServer("propagating the repositories and cluster.conf", members, (m) => propagateTo(m, files, p.clusterRoot, (s) => steps.push(s)));
    } finally {
      done.push(...steps);
    }
    done.push(`propagated to ${members.map((m) => m.name).join(", ")}`);
  }
  const record = poolRecordPath(p.clusterRoot);
  const installed = await onEachServer("installing the planned-shutdown hook", targets, (s) =>
    installHook(s, { server: s.name, clusterRoot: p.clusterRoot, timeoutSeconds: DRAIN_TIMEOUT_SECONDS }),
  );
  targets.forEach((s, i) => noteCreatedDirs(dirs, s.name, installed[i].createdDirs));
  done.push(`hook installed on ${targets.map((s) => s.name).join(", ")}`);
  const { generation } = await writePoolRecord(master, record, p);
  done.push(`HA record at generation ${generation}`);
  // Seed 9.4 at every agent start: the master's files on the shared storage; then the agents (they read the record).
  await writePropagated(master, p.clusterRoot, files);
  await onEachServer("starting the ovm-ha agent", targets, (s) => installAgent(s, { server: s.name, clusterRoot: p.clusterRoot }));
  done.push(`ovm-ha agent running on ${targets.map((s) => s.name).join(", ")}`);
  return generation;
}

/** Whether a change of inputs changes the agents' timing (they read it at start: they must restart). */
function agentTimingChanged(old: Inputs, p: Inputs): boolean {
  const of = (x: Inputs) => {
    const t = TimingSchema.safeParse(x.timing);
    return t.success ? JSON.stringify(t.data.agent) : "unknown";
  };
  return of(old) !== of(p);
}

export async function create(inputs: Bag): Promise<pulumi.dynamic.CreateResult> {
  const p = parse(inputs);
  const servers = poolServers(p).map(endpointOf);
  return withRunStats(names(p), async () => {
    // Nothing changes before every server passed (seed 9.4: errors are displayed, the pool is not enabled).
    const { facts, clusterConf } = await verifyServers(servers, { pool: p.name, clusterRoot: p.clusterRoot, cluster: p.cluster, master: p.master.name, allServers: names(p) });
    const done: string[] = [];
    const dirs: CreatedDirs = {};
    try {
      const generation = await converge(p, servers, clusterConf, done, dirs);
      return { id: p.name, outs: outputsOf(p, facts, generation, true, dirs) };
    } catch (e) {
      throw new PartialFailureError(
        `server pool ${p.name}: create stopped part-way (${done.join("; ") || "nothing done"}): ${(e as Error).message}\nThe next up resumes it.`,
        p.name,
        outputsOf(p, facts, 0, false, dirs),
        [(e as Error).message],
      );
    }
  });
}

export async function update(id: string, olds: Bag, news: Bag): Promise<pulumi.dynamic.UpdateResult> {
  const p = parse(news);
  const old = pickInputs(olds) as unknown as Inputs;
  const oldServers: KnownServer[] = [old.master, ...((old.members as KnownServer[] | undefined) ?? [])].filter(Boolean);
  const newServers = poolServers(p);
  const same = (a: KnownServer, b: KnownServer) => a.address === b.address && a.port === b.port && a.hostKeyFingerprint === b.hostKeyFingerprint;
  const complete = olds.complete !== false && old.master?.name === p.master.name;
  const added = newServers.filter((s) => !complete || !oldServers.some((o) => o.name === s.name && same(o, s)));
  const removed = oldServers.filter((o) => !newServers.some((s) => s.name === o.name));
  const oldFacts = Array.isArray(olds.servers) ? (olds.servers as ServerFacts[]) : [];
  return withRunStats([...names(p), ...removed.map((s) => s.name)], async () => {
    const master = endpointOf(p.master);
    const dirs = createdDirsOf(olds);
    // Every server involved must accept us before any is changed.
    await connectAll(`server pool ${p.name}`, [...newServers, ...removed].map(endpointOf));
    if (added.length === 0 && removed.length === 0) {
      // HA flag, timing or fencing: the record (the watchdog reloads it; no restart), and the drain hooks where
      // read found them changed (installHook writes only what differs).
      const drift = Array.isArray(olds.hookDrift) ? (olds.hookDrift as string[]) : [];
      const hookTargets = newServers.filter((s) => drift.includes(s.name)).map(endpointOf);
      if (hookTargets.length) {
        const installed = await onEachServer("installing the planned-shutdown hook", hookTargets, (s) =>
          installHook(s, { server: s.name, clusterRoot: p.clusterRoot, timeoutSeconds: DRAIN_TIMEOUT_SECONDS }),
        );
        hookTargets.forEach((s, i) => noteCreatedDirs(dirs, s.name, installed[i].createdDirs));
        await onEachServer("starting the ovm-ha agent", hookTargets, (s) => installAgent(s, { server: s.name, clusterRoot: p.clusterRoot }));
      }
      const { generation } = await writePoolRecord(master, poolRecordPath(p.clusterRoot), p);
      if (agentTimingChanged(old, p)) await onEachServer("restarting the ovm-ha agent (new timing.agent)", newServers.map(endpointOf), restartAgent);
      const facts = newServers.map((s) => oldFacts.find((f) => f.name === s.name)!).filter(Boolean);
      return { outs: outputsOf(p, facts, generation, true, dirs) };
    }
    const toVerify = [p.master, ...added.filter((s) => s.name !== p.master.name)].map(endpointOf);
    const { facts: newFacts, clusterConf } = await verifyServers(toVerify, { pool: p.name, clusterRoot: p.clusterRoot, cluster: p.cluster, master: p.master.name, allServers: names(p) });
    const facts = newServers.map((s) => newFacts.find((f) => f.name === s.name) ?? oldFacts.find((f) => f.name === s.name)!).filter(Boolean);
    const done: string[] = [];
    try {
      // Guests leave the servers first (a stranded guest fails here, before anything moved).
      const moves: Move[] = await evacuate(removed.map(endpointOf), newServers.map(endpointOf), { pool: p.name, repository: REPOSITORY, master });
      if (moves.length) done.push(`migrated ${moves.map((m) => `${m.guest} ${m.from}->${m.to}`).join(", ")}`);
      const generation = await converge(p, added.map(endpointOf), clusterConf, done, dirs);
      if (removed.length) {
        await onEachServer("removing the ovm-ha agent", removed.map(endpointOf), (s) => removeAgent(s, p.clusterRoot));
        await onEachServer("removing the planned-shutdown hook", removed.map(endpointOf), (s) => removeHook(s, dirs[s.name]));
        for (const s of removed) delete dirs[s.name];
        done.push(`hook removed from ${removed.map((s) => s.name).join(", ")}`);
      }
      return { outs: outputsOf(p, facts, generation, true, dirs) };
    } catch (e) {
      if (done.length === 0 && e instanceof Error && e.name !== "ServersError" && /nothing was changed/.test(e.message)) throw e;
      // The old outputs stay the state: the next update recomputes the same changes, each step being idempotent.
      throw new PartialFailureError(
        `server pool ${p.name}: update stopped part-way (${done.join("; ") || "nothing done"}): ${(e as Error).message}\nThe next up resumes it.`,
        id,
        olds,
        [(e as Error).message],
      );
    }
  });
}

export async function read(id: string, props: Bag): Promise<pulumi.dynamic.ReadResult> {
  const p = pickInputs(props) as unknown as Inputs;
  const servers = poolServers({ master: p.master, members: (p.members as KnownServer[]) ?? [] });
  return withRunStats(servers.map((s) => s.name), async () => {
    const master = endpointOf(p.master);
    const recordPath = poolRecordPath(p.clusterRoot);
    const out: Bag = { ...props };
    // Facts of servers that do not answer are kept as they were: a server down is not a change of the pool.
    const settled = await Promise.allSettled(servers.map((s) => probeServer(endpointOf(s))));
    // Only the network makes a server unreachable: refused credentials or a changed host key fail the read.
    unreachableOnly(
      `reading server pool ${String(p.name)}`,
      settled.flatMap((r, i) => (r.status === "rejected" ? [{ server: servers[i].name, error: r.reason }] : [])),
    );
    const probes = settled.map((r) => (r.status === "fulfilled" ? r.value : undefined));
    const oldFacts = Array.isArray(props.servers) ? (props.servers as ServerFacts[]) : [];
    out.servers = servers.map((s, i) => {
      const pr = probes[i];
      return pr ? { name: s.name, totalMemoryMb: pr.info.totalMemoryMb, nrCpus: pr.info.nrCpus } : oldFacts.find((f) => f.name === s.name);
    }).filter(Boolean);
    out.unreachableServers = servers.filter((_, i) => !probes[i]).map((s) => s.name);
    // The drain hook on every server that answered: one changed or removed by hand is drift the next up repairs.
    const answering = servers.filter((_, i) => probes[i]).map(endpointOf);
    const hooks = await Promise.all(
      answering.map((s) => hookInSync(s, { server: s.name, clusterRoot: p.clusterRoot, timeoutSeconds: DRAIN_TIMEOUT_SECONDS })
        // The agent's service is part of what the hook's drift covers: an up re-installs and starts both.
        .then(async (ok) => ok && (await agentInSync(s, { server: s.name, clusterRoot: p.clusterRoot })))
        .catch((e) => {
        if (isCredentialFailure(e)) throw e;
        return true; // not known: not reported as drift
      })),
    );
    out.hookDrift = answering.filter((_, i) => !hooks[i]).map((s) => s.name);
    try {
      const { record } = await readPoolRecord(master, recordPath);
      if (!record) {
        out.recordInSync = false;
        out.haRecordGeneration = 0;
      } else {
        out.haRecordGeneration = record.generation;
        // The flag as the watchdog sees it: a hand edit shows as drift of `ha`.
        out.ha = record.haEnabled;
        const expected = renderPoolRecord(buildPoolRecord(parse(props), record.generation));
        out.recordInSync = expected === renderPoolRecord(record);
      }
    } catch (e) {
      if (isCredentialFailure(e)) throw e;
      // Master unreachable: the record cannot be read; keep what state says.
      out.recordReadError = reasonOf(e);
    }
    // The inputs as found (the HA flag edited in the record shows as drift of `ha`).
    const { __provider: _p, ...found } = out;
    return { id, props: out, inputs: pickInputs(found) };
  });
}

export async function delete_(id: string, props: Bag): Promise<void> {
  const p = pickInputs(props) as unknown as Inputs;
  const servers = poolServers({ master: p.master, members: (p.members as KnownServer[]) ?? [] }).map(endpointOf);
  await withRunStats(servers.map((s) => s.name), async () => {
    await connectAll(`deleting server pool ${String(p.name)}`, servers);
    // The Guests of the pool depend on it and are deleted first; repositories and cluster.conf belong to the
    // Cluster. The pool's own traces are the record, the hooks and the agents.
    // The agents stop cleanly (devices disarmed) before anything of theirs goes.
    await onEachServer("removing the ovm-ha agent", servers, (s) => removeAgent(s, p.clusterRoot));
    if (p.clusterRoot) await removeFile(endpointOf(p.master), poolRecordPath(p.clusterRoot));
    if (p.clusterRoot) await removePropagated(endpointOf(p.master), p.clusterRoot);
    const dirs = createdDirsOf(props);
    await onEachServer("removing the planned-shutdown hook", servers, (s) => removeHook(s, dirs[s.name]));
  });
}
export { delete_ as delete };
