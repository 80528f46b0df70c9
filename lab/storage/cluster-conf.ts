// The lab's own reading and writing of /etc/ocfs2/cluster.conf (o2cb format, written from formats.md; the real
// `o2cb list-cluster` is what decides whether a cluster is defined).
export interface ClusterNode {
  name: string;
  number: number;
  ipAddress: string;
  ipPort: number;
  cluster: string;
}
export interface ClusterConf {
  clusters: { name: string; nodeCount: number; heartbeatMode?: string }[];
  nodes: ClusterNode[];
}

/** o2cb format: stanza names in column 0, TAB-indented `key = value`, blank line between stanzas. */
export function renderClusterConf(cluster: string, nodes: ClusterNode[]): string {
  const stanzas = nodes.map(
    (n) =>
      `node:\n\tip_port = ${n.ipPort}\n\tip_address = ${n.ipAddress}\n\tnumber = ${n.number}\n\tname = ${n.name}\n\tcluster = ${n.cluster}\n`,
  );
  stanzas.push(`cluster:\n\tnode_count = ${nodes.length}\n\tname = ${cluster}\n`);
  return stanzas.join("\n");
}

export function parseClusterConf(text: string): ClusterConf {
  const conf: ClusterConf = { clusters: [], nodes: [] };
  let kind = "";
  let cur: Record<string, string> = {};
  const flush = () => {
    if (kind === "node") {
      conf.nodes.push({
        name: cur.name ?? "",
        number: Number(cur.number),
        ipAddress: cur.ip_address ?? "",
        ipPort: Number(cur.ip_port ?? 7777),
        cluster: cur.cluster ?? "",
      });
    } else if (kind === "cluster") {
      conf.clusters.push({ name: cur.name ?? "", nodeCount: Number(cur.node_count), heartbeatMode: cur.heartbeat_mode });
    }
    kind = "";
    cur = {};
  };
  for (const raw of text.split("\n")) {
    if (/^\s*#/.test(raw) || !raw.trim()) continue;
    const stanza = /^(\S+):\s*$/.exec(raw);
    if (stanza) {
      flush();
      kind = stanza[1];
      continue;
    }
    const kv = /^\s+(\S+)\s*=\s*(.*?)\s*$/.exec(raw);
    if (kv) cur[kv[1]] = kv[2];
  }
  flush();
  return conf;
}

/** Problems that make a cluster.conf unusable for `cluster` on node `node` (empty when sane). */
export function clusterConfProblems(conf: ClusterConf, cluster: string, node: string): string[] {
  const problems: string[] = [];
  const c = conf.clusters.find((x) => x.name === cluster);
  if (!c) return [`cluster ${cluster} is not defined in /etc/ocfs2/cluster.conf`];
  const nodes = conf.nodes.filter((n) => n.cluster === cluster);
  if (c.nodeCount !== nodes.length) problems.push(`cluster ${cluster} has node_count = ${c.nodeCount} but ${nodes.length} node stanzas`);
  if (!nodes.some((n) => n.name === node)) problems.push(`node ${node} is not in cluster ${cluster}`);
  const numbers = new Set<number>();
  for (const n of nodes) {
    if (!(n.number >= 0 && n.number <= 254)) problems.push(`node ${n.name} has an invalid number ${n.number}`);
    if (numbers.has(n.number)) problems.push(`node number ${n.number} is used twice`);
    numbers.add(n.number);
    if (!n.ipAddress) problems.push(`node ${n.name} has no ip_address`);
  }
  return problems;
}
