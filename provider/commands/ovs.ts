import { CommandArgumentError } from "./command-argument-error";
import { devicePath, hostName, plainArgument } from "./argument-rules";

export const OVS_CLUSTER_CONFIGURE = "/usr/lib/ovs/ovs-cluster-configure";
export const OVS_MAKEREPO = "/usr/lib/ovs/ovs-makerepo";
export const OVS_CLUSTER_CHECK = "/usr/lib/ovs/ovs-cluster-check";

/** `/usr/lib/ovs/ovs-cluster-configure`: creates cluster.conf if missing, configures and starts o2cb. */
export function ovsClusterConfigure(): string[] {
  return [OVS_CLUSTER_CONFIGURE];
}

/** A repository source: an OCFS2 device under /dev/ or an NFS export `host:/path`. */
function repoSource(value: string): string {
  if (typeof value === "string" && value.startsWith("/dev/")) return devicePath("source", value);
  const m = typeof value === "string" ? /^([^:\/]+):(\/[^\x00-\x1f\x7f]*)$/.exec(value) : null;
  if (!m) throw new CommandArgumentError("source", value, "must be a device under /dev/ or an NFS export host:/path");
  hostName("source", m[1]);
  if (m[2].split("/").includes("..")) throw new CommandArgumentError("source", value, "export path must not contain '..'");
  return value;
}

/**
 * `/usr/lib/ovs/ovs-makerepo SOURCE C DESCRIPTION`. Only `C` (the cluster root) is documented in the
 * 2.1 guide, so only `C` is accepted.
 */
export function ovsMakerepo(source: string, kind: "C", description: string): string[] {
  if (kind !== "C") throw new CommandArgumentError("kind", kind, "must be C (cluster root), the only kind the 2.1 guide documents");
  return [OVS_MAKEREPO, repoSource(source), kind, plainArgument("description", description)];
}

/** `/usr/lib/ovs/ovs-cluster-check [--master] [--alter-fstab]` (--master only on the pool master). */
export function ovsClusterCheck(o: { master: boolean; alterFstab: boolean }): string[] {
  return [OVS_CLUSTER_CHECK, ...(o.master ? ["--master"] : []), ...(o.alterFstab ? ["--alter-fstab"] : [])];
}
