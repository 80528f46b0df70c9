// The SharedDisk resource: the storage every server of a pool mounts (seed 9.2): OCFS2 on iSCSI or SAN, or an NFS
// export. The provider object is thin (provider/runtime/provider-object.ts); the work is in provider/ops/shared-disk.
import * as pulumi from "@pulumi/pulumi";
import { makeProvider, opsPaths } from "../runtime/provider-object";

export interface SharedDiskServerArgs {
  name: pulumi.Input<string>;
  address: pulumi.Input<string>;
  /** SSH port, default 22. */
  port?: pulumi.Input<number>;
  /** `SHA256:...`: pins the server's SSH host key (else the stack config's known_hosts decides). */
  hostKeyFingerprint?: pulumi.Input<string>;
}

export interface SharedDiskFormatArgs {
  /** Volume label, default "ovsroot". */
  label?: pulumi.Input<string>;
  /** Bytes or "4K"; default 4K. */
  blockSize?: pulumi.Input<number | string>;
  /** Bytes or "4K"; default 4K. */
  clusterSize?: pulumi.Input<number | string>;
  /** Bytes or "64M"; default 64M. */
  journalSize?: pulumi.Input<number | string>;
  /** Default 16. */
  nodeSlots?: pulumi.Input<number>;
}

export interface SharedDiskArgs {
  kind: pulumi.Input<"iscsi" | "san" | "nfs">;
  servers: pulumi.Input<pulumi.Input<SharedDiskServerArgs>[]>;
  /** Default /OVS/remote. */
  mountPoint?: pulumi.Input<string>;
  /** Default true; false prepares the disk without mounting it (a Cluster's repository). */
  mount?: pulumi.Input<boolean>;
  /** iscsi: the portal to discover. */
  portal?: pulumi.Input<{ address: pulumi.Input<string>; port?: pulumi.Input<number> }>;
  /** iscsi: the targets to keep; other node records of the portal are deleted. */
  targets?: pulumi.Input<pulumi.Input<string>[]>;
  /** san: the device every server sees. */
  device?: pulumi.Input<string>;
  /** nfs: host:/path. */
  export?: pulumi.Input<string>;
  /** iscsi/san: mkfs.ocfs2 parameters. */
  format?: pulumi.Input<SharedDiskFormatArgs>;
  /** iscsi/san: one partition over an empty disk (default true). */
  partition?: pulumi.Input<boolean>;
  /** iscsi/san: format over whatever the device holds (destroys it). Default false. */
  overwrite?: pulumi.Input<boolean>;
  /**
   * iscsi/san: the UUID of an existing OCFS2 volume on the device to use as it is (keeping its data). Without it
   * only a volume this stack made is used; a volume found by its label alone is refused.
   */
  adoptVolume?: pulumi.Input<string>;
}

export class SharedDisk extends pulumi.dynamic.Resource {
  declare readonly kind: pulumi.Output<string>;
  declare readonly mountPoint: pulumi.Output<string>;
  declare readonly mount: pulumi.Output<boolean>;
  declare readonly servers: pulumi.Output<{ name: string; address: string; port: number; hostKeyFingerprint?: string }[]>;
  /** Server name -> the device holding the volume (iscsi/san). */
  declare readonly devices: pulumi.Output<Record<string, string>>;
  /** Server name -> the whole disk of the LUN (iscsi/san). */
  declare readonly disks: pulumi.Output<Record<string, string>>;
  /** The volume's device (the first server's when names differ); a Cluster's `source`. */
  declare readonly devicePath: pulumi.Output<string | undefined>;
  /** OCFS2 UUID, 32 upper-case hex digits. */
  declare readonly volumeUuid: pulumi.Output<string | undefined>;
  declare readonly volumeLabel: pulumi.Output<string | undefined>;
  /** The disk identifier of the partition table this resource wrote, if it wrote one. */
  declare readonly partitionTableId: pulumi.Output<string | undefined>;
  /** Server name -> the mount point directories this resource created (destroy removes them). */
  declare readonly createdDirs: pulumi.Output<Record<string, string[]>>;
  /** true: formatted by this resource; false: an existing volume adopted. */
  declare readonly formatted: pulumi.Output<boolean>;
  /** Servers where it is mounted at mountPoint. */
  declare readonly mountedOn: pulumi.Output<string[]>;
  /** Servers that did not answer at the last read: kept as they were, not counted as drift. */
  declare readonly unreachableServers: pulumi.Output<string[]>;
  declare readonly schemaVersion: pulumi.Output<number>;

  constructor(name: string, args: SharedDiskArgs, opts?: pulumi.CustomResourceOptions) {
    const outputs = { devices: undefined, disks: undefined, devicePath: undefined, volumeUuid: undefined, volumeLabel: undefined, partitionTableId: undefined, createdDirs: undefined, formatted: undefined, mountedOn: undefined, unreachableServers: undefined, serversRecorded: undefined, schemaVersion: undefined };
    super(makeProvider(...opsPaths("shared-disk")), name, { ...outputs, ...args }, opts, "ovm-ha", "SharedDisk");
  }
}
