// Which stand-in runs at which real path inside a lab server. `lab up` writes, into each server's own disk, a
// small shell wrapper at `path` that runs dist/lab/standins/<script>.js with the lab's Node. Where the real tool
// is kept beside the stand-in (wrappers that add lab behaviour around it), it is copied to `realCopy` first.
export interface StandIn {
  path: string;
  script: string;
  /** Real binary to copy to /usr/libexec/ovm-lab/real/<basename> before the wrapper hides it. */
  realCopy?: string;
}

export const REAL_DIR = "/usr/libexec/ovm-lab/real";

export const STANDINS: StandIn[] = [
  { path: "/usr/sbin/xm", script: "xm" },
  { path: "/usr/sbin/iscsiadm", script: "iscsiadm" },
  { path: "/etc/init.d/iscsi", script: "init-iscsi" },
  { path: "/etc/init.d/o2cb", script: "init-o2cb" },
  { path: "/usr/sbin/service", script: "service" },
  { path: "/usr/lib/ovs/ovs-cluster-configure", script: "ovs-cluster-configure" },
  { path: "/usr/lib/ovs/ovs-makerepo", script: "ovs-makerepo" },
  { path: "/usr/lib/ovs/ovs-cluster-check", script: "ovs-cluster-check" },
  { path: "/usr/bin/mount", script: "mount", realCopy: "/usr/bin/mount" },
  { path: "/usr/bin/umount", script: "umount", realCopy: "/usr/bin/umount" },
  { path: "/usr/sbin/sfdisk", script: "sfdisk", realCopy: "/usr/sbin/sfdisk" },
  { path: "/usr/sbin/mkfs.ocfs2", script: "mkfs-ocfs2", realCopy: "/usr/sbin/mkfs.ocfs2" },
];

/** Run inside the server before its sshd starts (power on), and inside it by `lab shutdown`. */
export const BOOT_SCRIPT = "boot";
export const SHUTDOWN_SCRIPT = "shutdown";
