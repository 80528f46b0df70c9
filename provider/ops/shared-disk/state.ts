// What a SharedDisk records in state besides its checked inputs: the facts found on the servers. Older states
// may lack any of these (written by an earlier release, or by a create that failed part-way): every reader
// treats them as optional.
import { KnownSharedDiskInputs } from "../../schemas/shared-disk";
import { ServerInputLike } from "./endpoint";

export const SHARED_DISK_SCHEMA_VERSION = 1;

export interface SharedDiskFacts {
  /** Server -> the whole disk found for the LUN (iscsi: the disk that appeared at login; san: the device). */
  disks: Record<string, string>;
  /** Server -> the device holding the volume (the partition, or the disk when partition is false). */
  devices: Record<string, string>;
  /** The device path when every server names it the same, else the first server's. */
  devicePath?: string;
  /** OCFS2 UUID, 32 upper-case hex (the name of /OVS/<UUID> when it becomes a repository). */
  volumeUuid?: string;
  volumeLabel?: string;
  /** True when this resource formatted the volume, false when it adopted one already there. */
  formatted: boolean;
  /** The disk identifier of the partition table this resource wrote (a create cut before mkfs resumes on it). */
  partitionTableId?: string;
  /** Server -> the directories this resource created for the mount point (outermost first); destroy removes them. */
  createdDirs: Record<string, string[]>;
  /** Servers where the disk is mounted at mountPoint with its fstab line. */
  mountedOn: string[];
  /** Servers that did not answer at the last read (kept as they were); empty after a create or update. */
  unreachableServers: string[];
  /** Every server the disk was set up on (kept when a read drops a drifted server from `servers`). */
  serversRecorded: ServerInputLike[];
  schemaVersion: number;
}

export type SharedDiskState = KnownSharedDiskInputs & SharedDiskFacts;

function record(v: unknown): Record<string, string> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === "string")) as Record<string, string>;
}

function dirLists(v: unknown): Record<string, string[]> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return {};
  const out: Record<string, string[]> = {};
  for (const [k, x] of Object.entries(v)) if (Array.isArray(x)) out[k] = x.filter((d): d is string => typeof d === "string" && d.startsWith("/"));
  return out;
}

/** A list of server inputs from state, tolerating any shape. */
export function serverList(v: unknown): ServerInputLike[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter((s): s is Record<string, unknown> => s !== null && typeof s === "object" && typeof s.name === "string" && typeof s.address === "string")
    .map((s) => ({
      name: s.name as string,
      address: s.address as string,
      port: typeof s.port === "number" ? s.port : 22,
      ...(typeof s.hostKeyFingerprint === "string" ? { hostKeyFingerprint: s.hostKeyFingerprint } : {}),
    }));
}

/** The servers a state knows: its `servers` and every one recorded, each once. */
export function knownServers(props: Record<string, unknown>): ServerInputLike[] {
  const out: ServerInputLike[] = [];
  for (const s of [...serverList(props.servers), ...serverList(props.serversRecorded)]) if (!out.some((o) => o.name === s.name)) out.push(s);
  return out;
}

/** The facts of a previous state (any release), defaults for what is missing. */
export function factsOf(props: Record<string, unknown> | undefined): SharedDiskFacts {
  const p = props ?? {};
  return {
    disks: record(p.disks),
    devices: record(p.devices),
    ...(typeof p.devicePath === "string" ? { devicePath: p.devicePath } : {}),
    ...(typeof p.volumeUuid === "string" ? { volumeUuid: p.volumeUuid } : {}),
    ...(typeof p.volumeLabel === "string" ? { volumeLabel: p.volumeLabel } : {}),
    ...(typeof p.partitionTableId === "string" ? { partitionTableId: p.partitionTableId } : {}),
    createdDirs: dirLists(p.createdDirs),
    formatted: p.formatted === true,
    mountedOn: Array.isArray(p.mountedOn) ? p.mountedOn.filter((x): x is string => typeof x === "string") : [],
    unreachableServers: [],
    serversRecorded: serverList(p.serversRecorded),
    schemaVersion: SHARED_DISK_SCHEMA_VERSION,
  };
}

/**
 * The device path: the first listed server's, but the previous one while a listed server still has it, so that
 * an in-place update (servers added, removed or reordered, a new mount point) never changes it: a Cluster's
 * `source` takes it, and preview counts on it staying (schemas/cluster.ts carriedSource).
 */
export function commonDevicePath(devices: Record<string, string>, order: readonly string[], previous?: string): string | undefined {
  const paths = order.map((s) => devices[s]).filter((x): x is string => x !== undefined);
  return previous !== undefined && paths.includes(previous) ? previous : paths[0];
}

/** The resource id: what the disk is, and where it is mounted. */
export function sharedDiskId(inputs: KnownSharedDiskInputs): string {
  const what = inputs.kind === "iscsi" ? `${inputs.portal.address}:${inputs.portal.port}/${inputs.targets.join(",")}` : inputs.kind === "san" ? inputs.device : inputs.export;
  return `${inputs.kind}:${what}@${inputs.mountPoint}`;
}
