// One cluster node (seed 9.3.2 step 2, on every server rather than the master alone): cluster.conf and
// /etc/sysconfig/o2cb written atomically with a backup when they differ, then o2cb brought online.
import { serviceO2cb } from "../../commands";
import { parseO2cbServiceOutput, parseO2cbStatus } from "../../parsers";
import { ensureFile, readFile, run } from "../../runtime/remote";
import type { ServerEndpoint } from "../../ssh";

export const CLUSTER_CONF = "/etc/ocfs2/cluster.conf";
export const O2CB_SYSCONFIG = "/etc/sysconfig/o2cb";

export interface NodeFiles {
  clusterConf: string;
  o2cbSysconfig: string;
}

/** Writes the two files where they differ; true when one was written. */
export async function ensureNodeFiles(server: ServerEndpoint, files: NodeFiles): Promise<boolean> {
  const a = await ensureFile(server, CLUSTER_CONF, files.clusterConf, { backup: true });
  const b = await ensureFile(server, O2CB_SYSCONFIG, files.o2cbSysconfig, { backup: true });
  return a === "written" || b === "written";
}

export async function isOnline(server: ServerEndpoint, cluster: string): Promise<boolean> {
  const status = parseO2cbStatus((await run(server, serviceO2cb("status", cluster))).stdout);
  return status.online && (status.cluster === null || status.cluster === cluster);
}

/** `service o2cb online NAME` unless the cluster is online already; true when it was started. */
export async function ensureOnline(server: ServerEndpoint, cluster: string): Promise<boolean> {
  if (await isOnline(server, cluster)) return false;
  const r = await run(server, serviceO2cb("online", cluster), { okCodes: [0, 1], write: true });
  const out = parseO2cbServiceOutput(r.stdout + "\n" + r.stderr, r.code ?? -1);
  if (!out.ok) {
    const detail = (r.stdout + r.stderr).split("\n").map((l) => l.trim()).filter((l) => /Failed|o2cb_ctl|already online|not/i.test(l));
    throw new Error(`service o2cb online ${cluster} failed on ${server.name}: ${detail.join("; ") || `exit ${r.code}`}`);
  }
  return true;
}

/**
 * The cluster o2cb runs on the server when it is not `cluster`: the boot cluster of the server's current
 * /etc/sysconfig/o2cb (the one ovs-cluster-configure or an earlier Cluster started), if it is online. o2cb runs one
 * cluster at a time and takes another only offline (every OCFS2 volume unmounted), so a new name is refused
 * before anything is written.
 */
export async function otherOnlineCluster(server: ServerEndpoint, cluster: string): Promise<string | undefined> {
  const sys = await readFile(server, O2CB_SYSCONFIG);
  const boot = /^O2CB_BOOTCLUSTER=(["']?)([^"'\n]*)\1\s*$/m.exec(sys ?? "")?.[2];
  if (!boot || boot === cluster) return undefined;
  return (await isOnline(server, boot)) ? boot : undefined;
}

export interface NodeObservation {
  filesCurrent: boolean;
  online: boolean;
}

export async function observeNode(server: ServerEndpoint, cluster: string, files: NodeFiles): Promise<NodeObservation> {
  const conf = await readFile(server, CLUSTER_CONF);
  const sys = await readFile(server, O2CB_SYSCONFIG);
  return { filesCurrent: conf === files.clusterConf && sys === files.o2cbSysconfig, online: await isOnline(server, cluster) };
}
