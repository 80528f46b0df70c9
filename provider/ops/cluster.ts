// Cluster operations (seed 9.3.1, 9.3.2). check and diff are the pure schema/diff modules (check carries the
// stable node numbers through state). create/update: cluster.conf and /etc/sysconfig/o2cb on EVERY server,
// o2cb online everywhere, then the cluster root on the master (ovs-cluster-configure, ovs-makerepo,
// ovs-cluster-check --master --alter-fstab). delete leaves everything that holds or serves data in place.
import type * as pulumi from "@pulumi/pulumi";
import { diffCluster } from "../diff/cluster";
import { checkCluster, KnownClusterInputs, parseClusterInputs } from "../schemas/cluster";
import { clusterConfModel, renderClusterConf } from "../render/cluster-conf";
import { o2cbSysconfigModel, renderO2cbSysconfig } from "../render/o2cb-sysconfig";
import { connectAll, onEachServer, unreachableOnly } from "../runtime/remote";
import { isCredentialFailure } from "../ssh";
import { PartialFailureError } from "../runtime/init-failed";
import { endpointOf } from "./shared-disk/endpoint";
import { knownServers, serverList } from "./shared-disk/state";
import { ensureNodeFiles, ensureOnline, NodeFiles, observeNode, otherOnlineCluster } from "./cluster/o2cb-node";
import { ensureClusterRoot, observeClusterRoot } from "./cluster/cluster-root";

type Bag = Record<string, unknown>;

export const CLUSTER_SCHEMA_VERSION = 1;

export async function check(olds: Bag, news: Bag): Promise<pulumi.dynamic.CheckResult> {
  return checkCluster(olds, news) as pulumi.dynamic.CheckResult;
}

export async function diff(id: string, olds: Bag, news: Bag): Promise<pulumi.dynamic.DiffResult> {
  return diffCluster(id, olds, news);
}

export function nodeFiles(inputs: KnownClusterInputs): NodeFiles {
  return { clusterConf: renderClusterConf(clusterConfModel(inputs)), o2cbSysconfig: renderO2cbSysconfig(o2cbSysconfigModel(inputs)) };
}

function clusterId(inputs: KnownClusterInputs): string {
  return `cluster:${inputs.name}:${inputs.kind}:${inputs.source}`;
}

async function converge(id: string, inputs: KnownClusterInputs, previous: Bag, isCreate: boolean): Promise<Bag> {
  const files = nodeFiles(inputs);
  const servers = inputs.servers.map(endpointOf);
  const master = servers.find((s) => s.name === inputs.master)!;
  const progress: Bag = {
    ...inputs,
    ...(typeof previous.repositoryUuid === "string" ? { repositoryUuid: previous.repositoryUuid } : {}),
    ...(typeof previous.clusterRoot === "string" ? { clusterRoot: previous.clusterRoot } : {}),
    onlineOn: [] as string[],
    serversRecorded: inputs.servers,
    unreachableServers: [],
    schemaVersion: CLUSTER_SCHEMA_VERSION,
  };
  let changed = false;
  // Every server must accept us before any is changed (a refused key or a changed host key changes nothing).
  await connectAll(`Cluster ${inputs.name}`, servers);
  // o2cb running another cluster (a new name) cannot take this one: refused before anything is written.
  const running = await onEachServer("reading which o2cb cluster runs", servers, (s) => otherOnlineCluster(s, inputs.name));
  const busy = servers.map((s, i) => ({ server: s.name, other: running[i] })).filter((b) => b.other !== undefined);
  if (busy.length > 0) {
    const others = [...new Set(busy.map((b) => b.other))].join(", ");
    throw new Error(
      `o2cb runs cluster ${others} on ${busy.map((b) => b.server).join(", ")}: cluster ${inputs.name} cannot be brought online while it runs, ` +
        `so nothing was changed. Keep the name ${others}, or first stop the guests, unmount the OCFS2 volumes and run ` +
        `service o2cb offline ${others} on those servers`,
    );
  }
  try {
    // Every node knows every node before any o2cb starts (ovs-cluster-configure keeps an existing cluster.conf).
    const wrote = await onEachServer("writing cluster.conf and /etc/sysconfig/o2cb", servers, (s) => ensureNodeFiles(s, files));
    if (wrote.some(Boolean)) changed = true;
    const started = await onEachServer(`bringing o2cb cluster ${inputs.name} online`, servers, (s) => ensureOnline(s, inputs.name));
    if (started.some(Boolean)) changed = true;
    progress.onlineOn = servers.map((s) => s.name);
    const root = await ensureClusterRoot(master, inputs.source, inputs.description, servers.filter((s) => s !== master));
    if (root.changed) changed = true;
    progress.repositoryUuid = root.repositoryUuid;
    progress.clusterRoot = root.clusterRoot;
    return progress;
  } catch (e) {
    const err = e as Error;
    if (isCreate && !changed) throw err;
    const reason = `Cluster ${id}: ${err.message}`;
    throw new PartialFailureError(`${reason}\n(what was done is recorded; fix the cause and run pulumi up again to resume)`, id, progress, [reason]);
  }
}

export async function create(inputs: Bag): Promise<pulumi.dynamic.CreateResult> {
  const parsed = parseClusterInputs(inputs);
  const id = clusterId(parsed);
  return { id, outs: await converge(id, parsed, {}, true) };
}

/**
 * Joiners get the files and o2cb online, everyone gets the re-rendered cluster.conf (numbers stable). Servers
 * that leave are not touched: their o2cb may still have the volume mounted, and taking it away is the ServerPool's
 * decision (migrate guests first).
 */
export async function update(id: string, olds: Bag, news: Bag): Promise<pulumi.dynamic.UpdateResult> {
  const parsed = parseClusterInputs(news);
  return { outs: await converge(id, parsed, olds, false) };
}

/**
 * What is really there: servers whose cluster.conf or o2cb sysconfig differ from the rendering, or whose o2cb is
 * offline, are left out of `servers` (and the master, when its cluster root is not registered and mounted), so
 * the next diff shows an update that fixes them; the description is the one the master's repository holds.
 * Node numbers are kept (stable).
 */
export async function read(id: string, props: Bag): Promise<pulumi.dynamic.ReadResult> {
  let parsed: KnownClusterInputs;
  try {
    // Servers a previous read left out are observed again (they may have been fixed by hand).
    parsed = parseClusterInputs({ ...inputsOnly(props), servers: knownServers(props) });
  } catch {
    return { id, props };
  }
  const files = nodeFiles(parsed);
  const servers = parsed.servers.map(endpointOf);
  // A server that does not answer (crashed, being fenced) is kept as it was: it says nothing about drift, and
  // dropping it would make the next up try to configure a dead server. It is listed in unreachableServers.
  const seen = await Promise.allSettled(servers.map((s) => observeNode(s, parsed.name, files)));
  // Only the network makes a server unreachable: refused credentials or a changed host key fail the read.
  const unreachable = unreachableOnly(
    `reading Cluster ${parsed.name}`,
    seen.flatMap((r, i) => (r.status === "rejected" ? [{ server: servers[i].name, error: r.reason }] : [])),
  );
  const observed = (i: number) => (seen[i].status === "fulfilled" ? (seen[i] as PromiseFulfilledResult<Awaited<ReturnType<typeof observeNode>>>).value : undefined);
  const master = servers.find((s) => s.name === parsed.master)!;
  const root = unreachable.includes(master.name) ? undefined : await observeClusterRoot(master, parsed.source).catch((e) => {
    if (isCredentialFailure(e)) throw e;
    return undefined;
  });
  const good = new Set(servers.filter((_, i) => { const o = observed(i); return o === undefined || (o.filesCurrent && o.online); }).map((s) => s.name));
  if (!unreachable.includes(master.name) && !root?.mounted) good.delete(parsed.master);
  const listed = serverList(props.servers);
  const kept = (Array.isArray(props.servers) ? (props.servers as { name: string }[]) : []).filter((s) => good.has(s.name));
  const outs: Bag = {
    ...props,
    servers: kept,
    onlineOn: servers.filter((_, i) => observed(i)?.online).map((s) => s.name),
    ...(root ? { repositoryUuid: root.repositoryUuid, clusterRoot: root.clusterRoot } : {}),
    // The description the master's repositories.options holds (changed by hand: drift the next up rewrites).
    ...(root?.description !== undefined ? { description: root.description } : {}),
    serversRecorded: listed,
    unreachableServers: unreachable,
    schemaVersion: CLUSTER_SCHEMA_VERSION,
  };
  const { __provider: _p, ...rest } = outs;
  return { id, props: outs, inputs: { ...inputsOnly(rest), servers: kept } };
}

function inputsOnly(props: Bag): Bag {
  const facts = new Set(["repositoryUuid", "clusterRoot", "onlineOn", "serversRecorded", "unreachableServers", "schemaVersion", "__provider"]);
  return Object.fromEntries(Object.entries(props).filter(([k]) => !facts.has(k)));
}

/**
 * Forgets the cluster and changes nothing on the servers: cluster.conf, /etc/sysconfig/o2cb, o2cb (which may be
 * heartbeating on mounted volumes), the repository registration and its mount, and the data all stay. Taking a
 * cluster apart is done by hand, once no guest runs: see the README.
 */
export async function delete_(_id: string, _props: Bag): Promise<void> {
  return;
}
export { delete_ as delete };
