// Where the lab keeps everything. The lab dir is bind-mounted into every server at the same path, so these
// paths hold both on the host and inside a server; stand-in commands use them to reach shared lab state.
import * as path from "path";

export interface LabServer {
  name: string;
  address: string;
  port: number;
  hostKeyFingerprint: string;
  /** MB of memory the stand-in hypervisor offers (xm info total_memory). */
  totalMemoryMb: number;
  /** MB kept by Domain-0. */
  dom0MemoryMb: number;
  nrCpus: number;
}

export interface LabLun {
  /** Stable id, used for the image file name. */
  id: string;
  kind: "iscsi" | "san";
  /** iSCSI target IQN (kind iscsi). */
  iqn?: string;
  /** Target portal group tag (kind iscsi). */
  tpgt?: number;
  /** Device name every server sees at boot (kind san), e.g. "sdb". */
  sanDevice?: string;
  image: string;
  sizeMb: number;
}

/** lab.json: what a test, a benchmark or a user needs to point a stack at the lab. */
export interface LabInfo {
  dir: string;
  slot: number;
  servers: LabServer[];
  /** Private key that logs in as root on every server. */
  privateKeyPath: string;
  /** known_hosts file listing every server's host key. */
  knownHostsPath: string;
  /** A non-root user with passwordless sudo on every server, logging in with the same key. */
  sudoUser: string;
  storage: {
    iscsi: { portal: string; portalAddress: string; port: number; targets: { iqn: string; tpgt: number; lun: string }[] };
    san: { device: string; lun: string }[];
    nfs: { export: string; host: string; path: string };
  };
  /**
   * The source address the watchdog binds (ssh `localAddress`), so that `lab partition SERVER --from` can cut it
   * from one server while the rest of the lab still reaches that server. Absent in labs made before it existed.
   */
  watchdogAddress?: string;
  /** Further client addresses (watchdog replicas, a second client), the first being watchdogAddress. */
  clientAddresses?: string[];
  /** Absolute paths used by the stand-ins (node binary and compiled stand-in scripts). */
  runtime: { node: string; dist: string };
}

export const layout = {
  labJson: (dir: string) => path.join(dir, "lab.json"),
  lockFile: (dir: string) => path.join(dir, "lab.lock"),
  keysDir: (dir: string) => path.join(dir, "keys"),
  serverDir: (dir: string, name: string) => path.join(dir, "servers", name),
  /** Overlay upper dir: the server's own disk; survives crash and power cycles. */
  serverUpper: (dir: string, name: string) => path.join(dir, "servers", name, "upper"),
  serverWork: (dir: string, name: string) => path.join(dir, "servers", name, "work"),
  serverRoot: (dir: string, name: string) => path.join(dir, "servers", name, "root"),
  /** Device nodes the server sees, bind-mounted on its /dev. */
  serverDev: (dir: string, name: string) => path.join(dir, "servers", name, "dev"),
  /** The server's /proc/partitions: a symlink to its newest version, each bound over it in turn (lab/devices.ts). */
  serverPartitions: (dir: string, name: string) => path.join(dir, "servers", name, "partitions"),
  /** JSON list of attached disks: [{name: "sdb", lun: "<lun id>"}]. */
  serverDisks: (dir: string, name: string) => path.join(dir, "servers", name, "disks.json"),
  serverPid: (dir: string, name: string) => path.join(dir, "servers", name, "sshd.pid"),
  serverLog: (dir: string, name: string) => path.join(dir, "servers", name, "console.log"),
  /** The id of the server's current boot, bind-mounted over its /proc/sys/kernel/random/boot_id. */
  serverBootId: (dir: string, name: string) => path.join(dir, "servers", name, "boot_id"),
  /** Runtime state of a server kept on the host: "up", "down", "hung", "partitioned". */
  serverState: (dir: string, name: string) => path.join(dir, "servers", name, "state.json"),
  lunDir: (dir: string) => path.join(dir, "storage", "luns"),
  /** JSON: lun id -> {loop, partitions:[{number, startSector, sectors, loop}]} */
  loopsJson: (dir: string) => path.join(dir, "storage", "loops.json"),
  /** Shared directory behind a mounted OCFS2 volume, by the volume's UUID (upper-case hex, no dashes). */
  volumeDir: (dir: string, uuid: string) => path.join(dir, "storage", "volumes", uuid),
  volumesDir: (dir: string) => path.join(dir, "storage", "volumes"),
  /** NFS exports live under this directory at their export path. */
  nfsRoot: (dir: string) => path.join(dir, "storage", "nfs"),
};

/** Inside a server: its identity. */
export const SERVER_IDENTITY = "/etc/ovm-lab/server.json";
export interface ServerIdentity {
  name: string;
  address: string;
  labDir: string;
}
