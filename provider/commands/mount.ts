import { CommandArgumentError } from "./command-argument-error";
import { absolutePath, devicePath, hostName } from "./argument-rules";

export interface MountOptions {
  /** `/dev/...` or `UUID=<8-4-4-4-12 hex>` for a block device, `host:/export` for NFS. */
  source: string;
  mountPoint: string;
  fsType: "ocfs2" | "nfs" | string;
  /** e.g. ["_netdev", "datavolume", "nointr"]; each one `name` or `name=value`, no commas or spaces. */
  options?: string[];
}

const UUID_SOURCE_RE = /^UUID=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function mountSource(value: string): string {
  if (typeof value === "string" && value.startsWith("/")) return devicePath("source", value);
  if (typeof value === "string" && UUID_SOURCE_RE.test(value)) return value;
  const m = typeof value === "string" ? /^([^:\/]+):(\/\S*)$/.exec(value) : null;
  if (!m) throw new CommandArgumentError("source", value, "must be a device under /dev/, UUID=<uuid> or host:/export");
  hostName("source", m[1]);
  absolutePath("source", m[2]);
  return value;
}

/** `mount -t TYPE [-o OPTS] SOURCE MOUNTPOINT` */
export function mountCmd(o: MountOptions): string[] {
  if (typeof o.fsType !== "string" || !/^[a-z0-9][a-z0-9._]*$/.test(o.fsType)) {
    throw new CommandArgumentError("fsType", o.fsType, "must be a filesystem type such as ocfs2 or nfs");
  }
  const argv = ["mount", "-t", o.fsType];
  if (o.options !== undefined && o.options.length > 0) {
    for (const opt of o.options) {
      if (typeof opt !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.:\/=+-]*$/.test(opt)) {
        throw new CommandArgumentError("options", opt, "each option must be name or name=value (letters, digits, _ . : / = + -), no commas or spaces");
      }
    }
    argv.push("-o", o.options.join(","));
  }
  argv.push(mountSource(o.source), absolutePath("mountPoint", o.mountPoint));
  return argv;
}

/** `umount MOUNTPOINT` */
export function umountCmd(mountPoint: string): string[] {
  return ["umount", absolutePath("mountPoint", mountPoint)];
}
