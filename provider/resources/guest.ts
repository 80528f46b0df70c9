// The Guest resource (seed 9.1, 9.4): see provider/ops/guest.ts for what it does on the servers.
import * as pulumi from "@pulumi/pulumi";
import { makeProvider, opsPaths } from "../runtime/provider-object";

export interface GuestArgs {
  name: pulumi.Input<string>;
  /** The pool: pass the ServerPool's `guestPool` output ({name, master, members, ha, clusterRoot}). */
  pool: pulumi.Input<{ name: pulumi.Input<string>; master: pulumi.Input<unknown>; members?: pulumi.Input<unknown[]>; ha?: pulumi.Input<boolean>; clusterRoot?: pulumi.Input<string> }>;
  /** MB. A change rewrites vm.cfg and ha.json; it takes effect at the guest's next start. */
  memory: pulumi.Input<number>;
  vcpus: pulumi.Input<number>;
  /** An existing image (`path`) or a new sparse image of `sizeMB` at running_pool/NAME/System.img. */
  disk: pulumi.Input<{ path?: pulumi.Input<string>; sizeMB?: pulumi.Input<number> }>;
  network?: pulumi.Input<{ bridge?: pulumi.Input<string>; mac?: pulumi.Input<string> }>;
  /** The guest's HA flag; HA applies only when the pool's is on too (see `haEffective`). */
  ha?: pulumi.Input<boolean>;
  /** "auto" (default) or an ordered list of the pool's server names. */
  preferredServers?: pulumi.Input<"auto" | pulumi.Input<string>[]>;
  /** 0..100, default 50: higher restarts first on failover. */
  priority?: pulumi.Input<number>;
  onCrash?: pulumi.Input<"destroy" | "restart" | "preserve" | "rename-restart">;
}

export class Guest extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly memory: pulumi.Output<number>;
  declare readonly vcpus: pulumi.Output<number>;
  /** Observed: whether the guest runs now, where, and its domain id (never an input). */
  declare readonly running: pulumi.Output<boolean>;
  declare readonly runningOn: pulumi.Output<string | null>;
  declare readonly domainId: pulumi.Output<number | null>;
  declare readonly mac: pulumi.Output<string>;
  declare readonly vmCfgPath: pulumi.Output<string>;
  declare readonly haRecordPath: pulumi.Output<string>;
  declare readonly diskPath: pulumi.Output<string>;
  declare readonly diskCreated: pulumi.Output<boolean>;
  /** HA applies: the pool's and the guest's flags are both on (seed 9.1). */
  declare readonly haEffective: pulumi.Output<boolean>;

  constructor(name: string, args: GuestArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      makeProvider(...opsPaths("guest")),
      name,
      {
        running: undefined, runningOn: undefined, domainId: undefined, mac: undefined, vmCfgPath: undefined,
        haRecordPath: undefined, diskPath: undefined, diskCreated: undefined, haEffective: undefined, ...args,
      },
      opts,
      "ovm-ha",
      "Guest",
    );
  }
}
