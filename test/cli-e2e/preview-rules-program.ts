// The Pulumi program of test/cli-e2e/preview-rules.test.ts: a whole pool (two shared disks, the Cluster, the
// ServerPool, guests) whose every input comes from one stack config value `spec` (JSON), so that each case of
// the test changes exactly one input and runs the real CLI's preview and up on it. The wiring is the examples':
// the Cluster's source is a disk's devicePath (with its id as sourceDisk), the pool takes the Cluster's name,
// clusterRoot and source, the guests the pool's guestPool.
import * as pulumi from "@pulumi/pulumi";
import { Cluster, Guest, ServerPool, SharedDisk } from "../../provider";

interface Server {
  name: string;
  address: string;
  port?: number;
  hostKeyFingerprint?: string;
}

export interface PreviewRulesSpec {
  servers: Server[];
  /** SAN disk (the first cluster root): extra SharedDisk inputs merged over the defaults. */
  san: { device: string; format: Record<string, unknown>; extra?: Record<string, unknown> };
  /** iSCSI disk (a second OCFS2 volume the Cluster can switch to). */
  iscsi: { portal: { address: string; port: number }; target: string; format: Record<string, unknown>; extra?: Record<string, unknown> };
  nfsExport: string;
  cluster: {
    /** Which storage is the cluster root: the SAN disk, the iSCSI disk or the NFS export. */
    on: "san" | "iscsi" | "nfs";
    name?: string;
    description?: string;
    nodeNumbers?: Record<string, number>;
  };
  pool: { name: string; members: string[]; fence?: Record<string, { method: "power" | "none" }>; ha: boolean };
  guests: {
    name: string;
    memory: number;
    vcpus: number;
    disk: { sizeMB?: number; path?: string };
    network?: { bridge?: string; mac?: string };
    onCrash?: "destroy" | "restart" | "preserve" | "rename-restart";
    preferredServers?: string[];
  }[];
}

export function previewRulesPool() {
  const spec = new pulumi.Config().requireObject<PreviewRulesSpec>("spec");
  const servers = spec.servers;
  const master = servers[0];
  const san = new SharedDisk("san-disk", { kind: "san", device: spec.san.device, servers, mount: false, format: spec.san.format, ...(spec.san.extra ?? {}) });
  const iscsi = new SharedDisk("iscsi-disk", { kind: "iscsi", portal: spec.iscsi.portal, targets: [spec.iscsi.target], servers, mount: false, format: spec.iscsi.format, ...(spec.iscsi.extra ?? {}) });
  const c = spec.cluster;
  const source =
    c.on === "nfs"
      ? { kind: "nfs" as const, source: spec.nfsExport }
      : { kind: "ocfs2" as const, source: (c.on === "san" ? san : iscsi).devicePath.apply((p) => p ?? ""), sourceDisk: (c.on === "san" ? san : iscsi).id };
  const cluster = new Cluster("cluster", {
    ...source,
    name: c.name,
    master: master.name,
    servers,
    description: c.description,
    nodeNumbers: c.nodeNumbers,
  });
  const pool = new ServerPool("pool", {
    name: spec.pool.name,
    master,
    members: servers.filter((s) => spec.pool.members.includes(s.name)),
    cluster: cluster.name,
    clusterRoot: cluster.clusterRoot,
    clusterSource: cluster.source,
    ha: spec.pool.ha,
    fence: spec.pool.fence,
  });
  for (const g of spec.guests) {
    new Guest(g.name, {
      name: g.name,
      pool: pool.guestPool,
      memory: g.memory,
      vcpus: g.vcpus,
      disk: g.disk,
      network: g.network,
      onCrash: g.onCrash,
      ha: true,
      preferredServers: g.preferredServers ?? "auto",
    });
  }
  return { sanVolume: san.volumeUuid, iscsiVolume: iscsi.volumeUuid, clusterRoot: cluster.clusterRoot };
}
