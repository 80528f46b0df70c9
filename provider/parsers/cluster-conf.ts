import { ParseError } from "./parse-error";
import { numberedLines } from "./text-lines";

export interface ClusterConfNode {
  name: string;
  number: number;
  ipAddress: string;
  ipPort: number;
  cluster: string;
}

export interface ClusterConfCluster {
  name: string;
  nodeCount: number;
  heartbeatMode: "local" | "global";
}

export interface ClusterConfHeartbeat {
  region: string;
  cluster: string;
}

export interface ClusterConf {
  cluster: ClusterConfCluster;
  /** Nodes whose `cluster` equals the cluster's name, in file order. */
  nodes: ClusterConfNode[];
  /** Global-heartbeat regions of this cluster. */
  heartbeats: ClusterConfHeartbeat[];
  /** Nodes naming another cluster (o2cb ignores them for this cluster). */
  otherNodes: ClusterConfNode[];
}

interface Stanza {
  kind: string;
  line: number;
  attrs: Record<string, string>;
}

const COMMAND = "cluster.conf";

function readStanzas(text: string, command: string): Stanza[] {
  const stanzas: Stanza[] = [];
  let current: Stanza | null = null;
  for (const { text: raw, number } of numberedLines(text)) {
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const head = /^(\w+):$/.exec(trimmed);
    if (head && !/^\s/.test(raw)) {
      current = { kind: head[1], line: number, attrs: {} };
      stanzas.push(current);
      continue;
    }
    const kv = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(trimmed);
    if (!kv) throw new ParseError(command, "expected `stanza:` or `key = value`", raw, number);
    if (!current) throw new ParseError(command, "parameter before any stanza", raw, number);
    current.attrs[kv[1]] = kv[2];
  }
  return stanzas;
}

function need(s: Stanza, key: string, command: string): string {
  const v = s.attrs[key];
  if (v === undefined || v === "") throw new ParseError(command, `${s.kind} stanza at line ${s.line} lacks ${key}`);
  return v;
}

function needInt(s: Stanza, key: string, command: string): number {
  const v = need(s, key, command);
  if (!/^\d+$/.test(v)) throw new ParseError(command, `${s.kind} ${key} is not a whole number`, `${key} = ${v}`);
  return Number(v);
}

/**
 * Parses /etc/ocfs2/cluster.conf (also the output of `o2cb list-cluster NAME`). With several cluster
 * stanzas, `clusterName` picks one; otherwise exactly one cluster stanza must exist. Unknown stanza kinds
 * and unknown keys are ignored; missing required keys and non-numeric numbers are errors.
 */
export function parseClusterConf(text: string, clusterName?: string, command: string = COMMAND): ClusterConf {
  const stanzas = readStanzas(text, command);
  const clusters = stanzas.filter((s) => s.kind === "cluster");
  let chosen: Stanza | undefined;
  if (clusterName !== undefined) {
    chosen = clusters.find((s) => s.attrs.name === clusterName);
    if (!chosen) throw new ParseError(command, `no cluster stanza named ${clusterName}`);
  } else {
    if (clusters.length !== 1) throw new ParseError(command, `expected one cluster stanza, found ${clusters.length}`);
    chosen = clusters[0];
  }
  const mode = chosen.attrs.heartbeat_mode ?? "local";
  if (mode !== "local" && mode !== "global") {
    throw new ParseError(command, "heartbeat_mode must be local or global", `heartbeat_mode = ${mode}`);
  }
  const cluster: ClusterConfCluster = {
    name: need(chosen, "name", command),
    nodeCount: needInt(chosen, "node_count", command),
    heartbeatMode: mode,
  };
  const nodes: ClusterConfNode[] = [];
  const otherNodes: ClusterConfNode[] = [];
  const heartbeats: ClusterConfHeartbeat[] = [];
  for (const s of stanzas) {
    if (s.kind === "node") {
      const node: ClusterConfNode = {
        name: need(s, "name", command),
        number: needInt(s, "number", command),
        ipAddress: need(s, "ip_address", command),
        ipPort: s.attrs.ip_port === undefined ? 7777 : needInt(s, "ip_port", command),
        cluster: need(s, "cluster", command),
      };
      (node.cluster === cluster.name ? nodes : otherNodes).push(node);
    } else if (s.kind === "heartbeat") {
      const hb = { region: need(s, "region", command), cluster: need(s, "cluster", command) };
      if (hb.cluster === cluster.name) heartbeats.push(hb);
    }
  }
  return { cluster, nodes, heartbeats, otherNodes };
}

/** Parses `o2cb list-cluster NAME` output, which is cluster.conf text for that one cluster. */
export function parseO2cbListCluster(text: string, clusterName?: string): ClusterConf {
  return parseClusterConf(text, clusterName, "o2cb list-cluster");
}

/**
 * The o2cb rules a parsed configuration breaks (empty when valid): node_count equal to the node count,
 * node numbers 0..254 and unique, names up to 64 bytes and unique, cluster name up to 16 of [0-9A-Za-z],
 * at most 32 heartbeat regions, ports 1..65535.
 */
export function clusterConfProblems(conf: ClusterConf): string[] {
  const problems: string[] = [];
  if (!/^[0-9A-Za-z]{1,16}$/.test(conf.cluster.name)) {
    problems.push(`cluster name ${JSON.stringify(conf.cluster.name)} must be 1-16 characters of [0-9A-Za-z]`);
  }
  if (conf.cluster.nodeCount !== conf.nodes.length) {
    problems.push(`node_count is ${conf.cluster.nodeCount} but ${conf.nodes.length} node stanzas name cluster ${conf.cluster.name}`);
  }
  const numbers = new Set<number>();
  const names = new Set<string>();
  for (const n of conf.nodes) {
    if (n.number > 254) problems.push(`node ${n.name} number ${n.number} is outside 0..254`);
    if (numbers.has(n.number)) problems.push(`node number ${n.number} is used twice`);
    numbers.add(n.number);
    if (Buffer.byteLength(n.name) > 64 || n.name.includes(".")) {
      problems.push(`node name ${JSON.stringify(n.name)} must be a short host name of at most 64 bytes`);
    }
    if (names.has(n.name)) problems.push(`node name ${n.name} is used twice`);
    names.add(n.name);
    if (n.ipPort < 1 || n.ipPort > 65535) problems.push(`node ${n.name} ip_port ${n.ipPort} is outside 1..65535`);
  }
  if (conf.heartbeats.length > 32) problems.push(`${conf.heartbeats.length} heartbeat regions (at most 32)`);
  if (conf.cluster.heartbeatMode === "global" && conf.heartbeats.length === 0) {
    problems.push("heartbeat_mode is global but there is no heartbeat region");
  }
  return problems;
}

/** Writes cluster.conf in o2cb's own layout: stanza names in column 0, TAB-indented `key = value`, blank line between. */
export function formatClusterConf(conf: Pick<ClusterConf, "cluster" | "nodes"> & { heartbeats?: ClusterConfHeartbeat[] }): string {
  // A value with whitespace or `=` would corrupt the file or add keys, so it is refused rather than written.
  const values = [conf.cluster.name, ...conf.nodes.flatMap((n) => [n.name, n.ipAddress, n.cluster]),
    ...(conf.heartbeats ?? []).flatMap((h) => [h.region, h.cluster])];
  const bad = values.find((v) => !/^[^\s=#]+$/.test(v));
  if (bad !== undefined) throw new RangeError(`cluster.conf value ${JSON.stringify(bad)} must not be empty or contain whitespace, '=' or '#'`);
  const out: string[] = [];
  for (const n of conf.nodes) {
    out.push("node:", `\tip_port = ${n.ipPort}`, `\tip_address = ${n.ipAddress}`, `\tnumber = ${n.number}`,
      `\tname = ${n.name}`, `\tcluster = ${n.cluster}`, "");
  }
  for (const h of conf.heartbeats ?? []) out.push("heartbeat:", `\tregion = ${h.region}`, `\tcluster = ${h.cluster}`, "");
  out.push("cluster:", `\tnode_count = ${conf.cluster.nodeCount}`);
  if (conf.cluster.heartbeatMode === "global") out.push("\theartbeat_mode = global");
  out.push(`\tname = ${conf.cluster.name}`, "");
  return out.join("\n");
}
