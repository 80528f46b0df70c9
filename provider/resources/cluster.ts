// The Cluster resource (seed 9.3): cluster.conf and o2cb on every server, the cluster root repository on the
// pool master. The provider object is thin (provider/runtime/provider-object.ts); the work is in provider/ops/cluster.
import * as pulumi from "@pulumi/pulumi";
import { makeProvider, opsPaths } from "../runtime/provider-object";
import type { SharedDiskServerArgs } from "./shared-disk";

export interface ClusterO2cbArgs {
  /** Default 31 (a 60 s disk heartbeat window). */
  heartbeatThreshold?: pulumi.Input<number>;
  idleTimeoutMs?: pulumi.Input<number>;
  keepaliveDelayMs?: pulumi.Input<number>;
  reconnectDelayMs?: pulumi.Input<number>;
}

export interface ClusterArgs {
  kind: pulumi.Input<"nfs" | "ocfs2">;
  /** Default "ocfs2". */
  name?: pulumi.Input<string>;
  /** The pool master's server name: where the ovs-* scripts run. */
  master: pulumi.Input<string>;
  servers: pulumi.Input<pulumi.Input<SharedDiskServerArgs>[]>;
  /** ovs-makerepo SOURCE: the OCFS2 device (e.g. a SharedDisk's devicePath) or the NFS export host:/path. */
  source: pulumi.Input<string>;
  /**
   * The SharedDisk that `source` comes from: pass `disk.id`. Recommended: it lets preview know that an in-place
   * change of the disk keeps its device, so it does not show the Cluster (and the pool and guests after it) as
   * replaced when up replaces nothing.
   */
  sourceDisk?: pulumi.Input<string>;
  /** Default "cluster root". */
  description?: pulumi.Input<string>;
  /** o2net port, default 7777. */
  port?: pulumi.Input<number>;
  o2cb?: pulumi.Input<ClusterO2cbArgs>;
  /** Only to adopt a cluster whose node numbers are known; otherwise assigned and kept stable. */
  nodeNumbers?: pulumi.Input<Record<string, pulumi.Input<number>>>;
}

export class Cluster extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly kind: pulumi.Output<string>;
  declare readonly master: pulumi.Output<string>;
  declare readonly source: pulumi.Output<string>;
  declare readonly nodeNumbers: pulumi.Output<Record<string, number>>;
  /** The cluster root repository's UUID (ovs-makerepo). */
  declare readonly repositoryUuid: pulumi.Output<string>;
  /** Where the repository is mounted on the servers: /OVS/<UUID>. A ServerPool's input. */
  declare readonly clusterRoot: pulumi.Output<string>;
  /** Servers where cluster.conf is current and o2cb online. */
  declare readonly onlineOn: pulumi.Output<string[]>;
  /** Servers that did not answer at the last read: kept as they were, not counted as drift. */
  declare readonly unreachableServers: pulumi.Output<string[]>;
  declare readonly schemaVersion: pulumi.Output<number>;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.CustomResourceOptions) {
    // `name` is listed so that `cluster.name` resolves (to "ocfs2", check's default) when the program leaves it out.
    const outputs = { name: undefined, description: undefined, repositoryUuid: undefined, clusterRoot: undefined, onlineOn: undefined, serversRecorded: undefined, unreachableServers: undefined, schemaVersion: undefined };
    super(makeProvider(...opsPaths("cluster")), name, { ...outputs, nodeNumbers: undefined, ...args }, opts, "ovm-ha", "Cluster");
  }
}
