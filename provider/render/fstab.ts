// The fstab lines the provider owns, between marker comments so that they can be found and replaced as a
// block without touching the administrator's lines, from templates/fstab.hbs.
//
// Options chosen:
// - OCFS2 `_netdev,datavolume,nointr`: _netdev so the mount waits for the network and o2cb (required);
//   datavolume (OCFS2 1.2/1.4, the Oracle VM 2.x era) for O_DIRECT image files; nointr so a signal cannot
//   abort cluster I/O half way.
// - NFS `rw,hard,intr,tcp,nfsvers=3,timeo=600,retrans=2,_netdev`: hard, because a soft mount returns EIO to
//   a guest's disk after a timeout and corrupts its file systems (a hard mount waits for the server instead);
//   tcp rather than UDP for large transfers over lossy links; nfsvers=3 as Oracle VM 2.x (EL5) used;
//   timeo=600 (60 s) and retrans=2 are nfs(5)'s TCP defaults, written out so they are visible; intr lets an
//   administrator kill a process stuck on a dead server (ignored by kernels >= 2.6.25, harmless); _netdev
//   orders the mount after the network.
import { ABSOLUTE_PATH_RE } from "../schemas/common";
import { KnownSharedDiskInputs } from "../schemas/shared-disk";
import { RenderError } from "./escape";
import { renderTemplate } from "./template";

export const FSTAB_BEGIN_MARKER = "# BEGIN ovm-ha managed mounts (do not edit between these lines)";
export const FSTAB_END_MARKER = "# END ovm-ha managed mounts";

export const OCFS2_MOUNT_OPTIONS: readonly string[] = ["_netdev", "datavolume", "nointr"];
export const NFS_MOUNT_OPTIONS: readonly string[] = ["rw", "hard", "intr", "tcp", "nfsvers=3", "timeo=600", "retrans=2", "_netdev"];

export interface FstabEntry {
  /** /dev/..., LABEL=..., UUID=... (OCFS2) or host:/path (NFS). */
  device: string;
  mountPoint: string;
  type: "ocfs2" | "nfs";
  options: readonly string[];
}

/**
 * An OCFS2 volume UUID in the form blkid prints and `blkid -U` / `mount UUID=` match (exactly): lower-case
 * 8-4-4-4-12, from the 32 hex digits mounted.ocfs2 -d prints (dashes and case ignored). The byte order is the
 * same in both: the superblock's 16 UUID bytes in order.
 */
export function blkidOcfs2Uuid(uuid: string): string {
  const hex = uuid.replace(/-/g, "").toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new RenderError(`fstab: OCFS2 volume UUID ${JSON.stringify(uuid)} is not 32 hex digits`);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The fstab source of an OCFS2 volume: `UUID=<blkid form>`. */
export function ocfs2FstabSource(volumeUuid: string): string {
  return `UUID=${blkidOcfs2Uuid(volumeUuid)}`;
}

/**
 * The line for a SharedDisk. OCFS2 is named by its volume UUID (known once formatted or adopted): mount
 * resolves `UUID=` itself, so the line mounts the right volume whatever sdX name an iSCSI or SAN disk gets at
 * the next boot. Not a /dev path (discovery order), not LABEL= (labels are not unique: every volume may be
 * "ovsroot").
 */
export function fstabEntryForSharedDisk(inputs: KnownSharedDiskInputs, volumeUuid?: string): FstabEntry {
  if (inputs.kind === "nfs") return { device: inputs.export, mountPoint: inputs.mountPoint, type: "nfs", options: NFS_MOUNT_OPTIONS };
  if (volumeUuid === undefined) throw new RenderError(`fstab: the OCFS2 volume for ${inputs.mountPoint} has no UUID yet (not formatted or adopted)`);
  return { device: ocfs2FstabSource(volumeUuid), mountPoint: inputs.mountPoint, type: "ocfs2", options: OCFS2_MOUNT_OPTIONS };
}

const DEVICE_RE = /^(?:\/dev\/[A-Za-z0-9._@+\/-]+|LABEL=[A-Za-z0-9._-]{1,63}|UUID=[0-9A-Fa-f-]{8,40}|[A-Za-z0-9.-]+:\/[A-Za-z0-9._@+\/-]*)$/;
const OPTION_RE = /^[A-Za-z0-9_.=-]+$/;

export function renderFstab(entries: readonly FstabEntry[]): string {
  const mountPoints = new Set<string>();
  for (const e of entries) {
    if (!DEVICE_RE.test(e.device)) throw new RenderError(`fstab: device ${JSON.stringify(e.device)} is not /dev/..., LABEL=, UUID= or host:/path`);
    if (!ABSOLUTE_PATH_RE.test(e.mountPoint)) throw new RenderError(`fstab: mount point ${JSON.stringify(e.mountPoint)} is not a plain absolute path`);
    if (e.type !== "ocfs2" && e.type !== "nfs") throw new RenderError(`fstab: type ${JSON.stringify(e.type)} is not ocfs2 or nfs`);
    if (e.options.length === 0 || !e.options.every((o) => OPTION_RE.test(o))) throw new RenderError(`fstab: options ${JSON.stringify(e.options)} are not [A-Za-z0-9_.=-] words`);
    // OCFS2 must wait for the network and the cluster stack.
    if (e.type === "ocfs2" && !e.options.includes("_netdev")) throw new RenderError(`fstab: OCFS2 mount of ${e.mountPoint} lacks _netdev`);
    if (mountPoints.has(e.mountPoint)) throw new RenderError(`fstab: ${e.mountPoint} mounted twice`);
    mountPoints.add(e.mountPoint);
  }
  return renderTemplate("fstab.hbs", {
    beginMarker: FSTAB_BEGIN_MARKER,
    endMarker: FSTAB_END_MARKER,
    entries: entries.map((e) => ({ device: e.device, mountPoint: e.mountPoint, type: e.type, options: e.options.join(","), dump: 0, pass: 0 })),
  });
}
