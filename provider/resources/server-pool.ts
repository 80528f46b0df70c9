// The ServerPool resource (seed 9.1, 9.4): see provider/ops/server-pool.ts for what it does on the servers.
import * as pulumi from "@pulumi/pulumi";
import { makeProvider, opsPaths } from "../runtime/provider-object";
import type { FenceMethod } from "../../ha/ha-record";

export interface PoolServerArgs {
  name: pulumi.Input<string>;
  address: pulumi.Input<string>;
  /** SSH port, default 22. */
  port?: pulumi.Input<number>;
  /** SHA256:... host key fingerprint; else the stack's known_hosts. */
  hostKeyFingerprint?: pulumi.Input<string>;
}

export interface ServerPoolArgs {
  name: pulumi.Input<string>;
  master: pulumi.Input<PoolServerArgs>;
  members?: pulumi.Input<pulumi.Input<PoolServerArgs>[]>;
  /** The o2cb cluster name the servers form (the Cluster's name). */
  cluster: pulumi.Input<string>;
  /** The Cluster's clusterRoot output (e.g. /OVS/<UUID>): the HA record goes to <clusterRoot>/.ovm-ha/pool.json. */
  clusterRoot: pulumi.Input<string>;
  /** The pool's HA flag (default false). */
  ha?: pulumi.Input<boolean>;
  /** The watchdog's timing, as in the HA record (ha/HA-RECORD.md); defaults 1000 ms x 3, ... */
  timing?: pulumi.Input<{
    heartbeatIntervalMs: pulumi.Input<number>;
    heartbeatMisses: pulumi.Input<number>;
    stabilityMs: pulumi.Input<number>;
    restartBudget: pulumi.Input<{ max: pulumi.Input<number>; windowMs: pulumi.Input<number> }>;
    leaseMs?: pulumi.Input<number>;
    fenceTimeoutMs?: pulumi.Input<number>;
    fenceRetryMs?: pulumi.Input<number>;
  }>;
  /** How each server is fenced, by server name (default: none). */
  fence?: pulumi.Input<Record<string, pulumi.Input<FenceMethod>>>;
}

export interface ServerFactsOutput {
  name: string;
  totalMemoryMb: number;
  nrCpus: number;
}

export class ServerPool extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly master: pulumi.Output<{ name: string; address: string; port: number; hostKeyFingerprint?: string }>;
  declare readonly members: pulumi.Output<{ name: string; address: string; port: number; hostKeyFingerprint?: string }[]>;
  declare readonly cluster: pulumi.Output<string>;
  declare readonly clusterRoot: pulumi.Output<string>;
  declare readonly ha: pulumi.Output<boolean>;
  /** Per-server facts read from `xm info`. */
  declare readonly servers: pulumi.Output<ServerFactsOutput[]>;
  /** Where the watchdog finds the pool: <clusterRoot>/.ovm-ha/pool.json on the shared storage. */
  declare readonly haRecordPath: pulumi.Output<string>;
  declare readonly haRecordGeneration: pulumi.Output<number>;
  declare readonly hookPath: pulumi.Output<string>;
  /** Pass as a Guest's `pool`. */
  declare readonly guestPool: pulumi.Output<{ name: string; master: unknown; members: unknown[]; ha: boolean; clusterRoot: string }>;

  constructor(name: string, args: ServerPoolArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      makeProvider(...opsPaths("server-pool")),
      name,
      { servers: undefined, haRecordPath: undefined, haRecordGeneration: undefined, hookPath: undefined, guestPool: undefined, ...args },
      opts,
      "ovm-ha",
      "ServerPool",
    );
  }
}
