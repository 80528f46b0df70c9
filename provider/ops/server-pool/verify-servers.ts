// Pool verification (seed 9.4 step 1: "The server pool setup is verified and any errors are displayed"): every
// server is reachable, has o2cb online in the pool's cluster, answers `xm info`, and is a node of the master's
// cluster.conf; the master has the cluster root mounted. A member without it is no problem: propagation mounts
// it there (seed 9.3 runs the ovs-* scripts on the master only). Every problem of every server is collected
// into one error.
import { isCredentialFailure, ServerEndpoint, shellWithArgs } from "../../ssh";
import { findMount, parseClusterConf, parseMtab, parseO2cbStatus, parseXmInfo } from "../../parsers";
import { run } from "../../runtime/remote";
import { reasonOf } from "./server-probe";

export interface ServerFacts {
  name: string;
  totalMemoryMb: number;
  nrCpus: number;
}

export interface ServerCheck {
  server: string;
  facts?: ServerFacts;
  problems: string[];
  /** The master's cluster.conf text (read on the master only). */
  clusterConf?: string;
}

const SEP = "@@ovm-ha:section@@";

/**
 * One command per server prints (master) /etc/mtab, `service o2cb status`, `xm info` and (master) cluster.conf,
 * split by a separator, so verification costs one round trip per server.
 */
const VERIFY_SCRIPT = [
  'if [ "$2" = master ]; then cat /etc/mtab; fi; echo "$1"',
  'service o2cb status 2>&1; echo "$1"',
  'xm info 2>&1; echo "xm-exit=$?"; echo "$1"',
  'if [ "$2" = master ]; then if [ -e /etc/ocfs2/cluster.conf ]; then cat /etc/ocfs2/cluster.conf; else echo "@@missing@@"; fi; fi',
].join("\n");

export async function checkServer(server: ServerEndpoint, o: { clusterRoot: string; cluster: string; master: boolean }): Promise<ServerCheck> {
  const problems: string[] = [];
  let out: string;
  try {
    out = (await run(server, shellWithArgs(VERIFY_SCRIPT, SEP, o.master ? "master" : "member"), { timeoutMs: 30000 })).stdout;
  } catch (e) {
    // Only the network makes a server unreachable; a refused key or a changed host key is said as it is.
    return { server: server.name, problems: [!isCredentialFailure(e) ? `unreachable (${reasonOf(e)})` : reasonOf(e)] };
  }
  const [mtab = "", o2cb = "", xmInfo = "", conf = ""] = out.split(SEP + "\n");
  if (o.master) {
    try {
      if (!findMount(parseMtab(mtab, "/etc/mtab"), o.clusterRoot)) problems.push(`cluster root ${o.clusterRoot} is not mounted (the Cluster resource mounts it on the master)`);
    } catch (e) {
      problems.push(`cannot read /etc/mtab (${reasonOf(e)})`);
    }
  }
  try {
    const st = parseO2cbStatus(o2cb);
    if (!st.online) problems.push(`o2cb cluster ${st.cluster ?? o.cluster} is offline`);
    else if (st.cluster !== null && st.cluster !== o.cluster) problems.push(`o2cb is online in cluster ${st.cluster}, not ${o.cluster}`);
  } catch (e) {
    problems.push(`cannot read o2cb status (${reasonOf(e)})`);
  }
  let facts: ServerFacts | undefined;
  const exit = /xm-exit=(\d+)\s*$/.exec(xmInfo);
  const infoText = xmInfo.replace(/xm-exit=\d+\s*$/, "");
  if (!exit || exit[1] !== "0") problems.push(`xm info failed (${infoText.trim().split("\n")[0] || "no output"})`);
  else {
    try {
      const info = parseXmInfo(infoText);
      facts = { name: server.name, totalMemoryMb: info.totalMemoryMb, nrCpus: info.nrCpus };
    } catch (e) {
      problems.push(`cannot read xm info (${reasonOf(e)})`);
    }
  }
  const check: ServerCheck = { server: server.name, facts, problems };
  if (o.master) {
    if (conf.trim() === "@@missing@@") problems.push("has no /etc/ocfs2/cluster.conf to propagate");
    else check.clusterConf = conf;
  }
  return check;
}

/** Checks that every pool server is a node of the master's cluster.conf (pool name -> problem). */
export function clusterConfProblems(conf: string, cluster: string, servers: string[]): { server: string; problem: string }[] {
  let nodes: string[];
  try {
    nodes = parseClusterConf(conf, cluster).nodes.map((n) => n.name);
  } catch (e) {
    return [{ server: servers[0], problem: `its /etc/ocfs2/cluster.conf does not define cluster ${cluster} (${reasonOf(e)})` }];
  }
  return servers.filter((s) => !nodes.includes(s)).map((s) => ({ server: s, problem: `is not a node of cluster ${cluster} in the master's /etc/ocfs2/cluster.conf` }));
}

export class PoolVerificationError extends Error {
  constructor(
    readonly pool: string,
    readonly problems: { server: string; problem: string }[],
  ) {
    super(
      `server pool ${pool}: verification found ${problems.length} problem(s); nothing was changed:\n` +
        problems.map((p) => `  - ${p.server}: ${p.problem}`).join("\n"),
    );
    this.name = "PoolVerificationError";
  }
}

/** Verifies the given servers (the master is always among them); throws one error listing every problem. */
export async function verifyServers(
  servers: ServerEndpoint[],
  o: { pool: string; clusterRoot: string; cluster: string; master: string; allServers: string[] },
): Promise<{ facts: ServerFacts[]; clusterConf: string }> {
  const checks = await Promise.all(servers.map((s) => checkServer(s, { clusterRoot: o.clusterRoot, cluster: o.cluster, master: s.name === o.master })));
  const problems = checks.flatMap((c) => c.problems.map((problem) => ({ server: c.server, problem })));
  const master = checks.find((c) => c.server === o.master);
  if (master?.clusterConf !== undefined) problems.push(...clusterConfProblems(master.clusterConf, o.cluster, o.allServers));
  if (problems.length > 0) throw new PoolVerificationError(o.pool, problems);
  return { facts: checks.map((c) => c.facts!), clusterConf: master?.clusterConf ?? "" };
}
