// /etc/ocfs2/cluster.conf in o2cb's format (TAB-indented parameters, a blank line between stanzas, node
// stanzas ordered by number, node_count equal to the node stanzas), from templates/cluster.conf.hbs.
import { CLUSTER_NAME_RE, KnownClusterInputs } from "../schemas/cluster";
import { SERVER_NAME_RE } from "../schemas/common";
import { MAX_NODE_NUMBER } from "../schemas/node-numbers";
import { RenderError } from "./escape";
import { renderTemplate } from "./template";

export const DEFAULT_O2NET_PORT = 7777;

export interface ClusterConfNode {
  name: string;
  /** IPv4 (o2net speaks IPv4 only). */
  address: string;
  number: number;
  port: number;
}

export interface ClusterConfModel {
  clusterName: string;
  nodes: ClusterConfNode[];
}

/** The model from checked Cluster inputs: every server with its stable number and the cluster's o2net port. */
export function clusterConfModel(inputs: KnownClusterInputs): ClusterConfModel {
  return {
    clusterName: inputs.name,
    nodes: inputs.servers.map((s) => {
      const number = inputs.nodeNumbers[s.name];
      if (number === undefined) throw new RenderError(`cluster.conf: no node number for server ${s.name}`);
      return { name: s.name, address: s.address, number, port: inputs.port };
    }),
  };
}

const IPV4_RE = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;

/** Refuses a model o2cb would reject or misread (the schemas prevent these; this guards other callers). */
export function validateClusterConfModel(model: ClusterConfModel): void {
  if (!CLUSTER_NAME_RE.test(model.clusterName)) throw new RenderError(`cluster.conf: cluster name ${JSON.stringify(model.clusterName)} is not 1..16 of [0-9A-Za-z]`);
  if (model.nodes.length === 0) throw new RenderError("cluster.conf: a cluster needs at least one node");
  const names = new Set<string>();
  const numbers = new Set<number>();
  for (const n of model.nodes) {
    if (!SERVER_NAME_RE.test(n.name)) throw new RenderError(`cluster.conf: node name ${JSON.stringify(n.name)} is not a host name label`);
    if (!IPV4_RE.test(n.address)) throw new RenderError(`cluster.conf: node ${n.name} address ${JSON.stringify(n.address)} is not IPv4`);
    if (!Number.isInteger(n.number) || n.number < 0 || n.number > MAX_NODE_NUMBER) throw new RenderError(`cluster.conf: node ${n.name} number ${n.number} is not 0..${MAX_NODE_NUMBER}`);
    if (!Number.isInteger(n.port) || n.port < 1 || n.port > 65535) throw new RenderError(`cluster.conf: node ${n.name} port ${n.port} is not 1..65535`);
    if (names.has(n.name)) throw new RenderError(`cluster.conf: node name ${n.name} appears twice`);
    if (numbers.has(n.number)) throw new RenderError(`cluster.conf: node number ${n.number} appears twice`);
    names.add(n.name);
    numbers.add(n.number);
  }
}

/** The file's text. Nodes are written in number order so that re-rendering after a reorder is byte-identical. */
export function renderClusterConf(model: ClusterConfModel): string {
  validateClusterConfModel(model);
  const nodes = [...model.nodes].sort((a, b) => a.number - b.number);
  return renderTemplate("cluster.conf.hbs", { clusterName: model.clusterName, nodes, nodeCount: nodes.length });
}
