// An HA server pool whose cluster root is an OCFS2 volume on an iSCSI target (seed 9.2.1, 9.3.2, 9.4): every
// server discovers the portal and logs in to the chosen target, the new disk partitioned and formatted once (never over data), the o2cb cluster with the volume as cluster
// root, the pool with HA on and fencing by power, and a few HA guests. Servers and storage come from the stack
// config (see README.md).
import * as pulumi from "@pulumi/pulumi";
// A project of your own imports the package instead: import { Cluster, Guest, ServerPool, SharedDisk } from "ovm-ha";
import { Cluster, Guest, ServerPool, SharedDisk } from "../../provider";

interface ServerConfig {
  name: string;
  address: string;
  port?: number;
  hostKeyFingerprint?: string;
}

interface GuestConfig {
  name: string;
  memory?: number;
  vcpus?: number;
  diskMB?: number;
  preferredServers?: "auto" | string[];
  priority?: number;
}

export function ocfs2IscsiPool() {
  const config = new pulumi.Config();
  const servers = config.requireObject<ServerConfig[]>("servers");
  const masterName = config.get("master") ?? servers[0]?.name;
  const master = servers.find((s) => s.name === masterName);
  if (!master) throw new Error(`stack config 'master' (${masterName}) must name one of 'servers'`);
  const members = servers.filter((s) => s !== master);
  const guests = config.getObject<GuestConfig[]>("guests") ?? [{ name: "web1" }, { name: "web2" }, { name: "db1", priority: 80 }];

  // Seed 9.2.1: discovery of the portal, only the chosen targets kept, login on every server; one partition over
  // the new empty disk, formatted once with mkfs.ocfs2 (an existing OCFS2 volume is adopted, anything else
  // refused). Not mounted at /OVS/remote: it becomes the cluster root below.
  const [portalAddress, portalPort] = config.require("iscsiPortal").split(":");
  const disk = new SharedDisk("cluster-root-disk", {
    kind: "iscsi",
    portal: { address: portalAddress, port: portalPort ? Number(portalPort) : 3260 },
    targets: config.requireObject<string[]>("iscsiTargets"),
    servers,
    mount: false,
    format: config.getObject("ocfs2Format") ?? { label: "ovsroot", nodeSlots: 16, journalSize: "64M" },
  });

  // Seed 9.3.2: cluster.conf and o2cb on every server, the volume registered as cluster root on the master.
  const cluster = new Cluster("cluster", {
    kind: "ocfs2" as const,
    name: config.get("clusterName") ?? "ocfs2",
    servers,
    master: master.name,
    source: disk.devices.apply((d) => d[master.name] ?? ""),
    // The disk it comes from: lets preview know that an in-place change of the disk keeps its device.
    sourceDisk: disk.id,
    o2cb: { heartbeatThreshold: config.getNumber("o2cbHeartbeatThreshold") ?? 31 },
  });

  // Seed 9.4: the HA-enabled pool; the watchdog fences every server by power. The pool propagates the
  // repositories and cluster.conf from the master and mounts the cluster root on every member (linked at
  // /OVS/running_pool, where guests start on any server).
  const pool = new ServerPool(
    "pool",
    {
      name: config.get("poolName") ?? "pool1",
      master,
      members,
      cluster: cluster.name,
      clusterRoot: cluster.clusterRoot,
      // Known from the Cluster's inputs: lets preview see that an in-place Cluster change keeps the cluster root.
      clusterSource: cluster.source,
      ha: config.getBoolean("ha") ?? true,
      fence: Object.fromEntries(servers.map((s) => [s.name, { method: "power" as const }])),
      timing: config.getObject("timing"),
    },
  );

  const created = guests.map(
    (g) =>
      new Guest(g.name, {
        name: g.name,
        pool: pool.guestPool,
        memory: g.memory ?? 256,
        vcpus: g.vcpus ?? 1,
        disk: { sizeMB: g.diskMB ?? 16 },
        ha: true,
        preferredServers: g.preferredServers ?? "auto",
        priority: g.priority ?? 50,
      }),
  );

  return {
    volumeUuid: disk.volumeUuid,
    clusterRoot: cluster.clusterRoot,
    haRecordPath: pool.haRecordPath,
    guests: Object.fromEntries(created.map((g, i) => [guests[i].name, g.runningOn])),
  };
}
