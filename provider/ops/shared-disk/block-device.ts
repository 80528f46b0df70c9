// Probing and preparing a block device on one server (seed 9.2.1 steps 6-9, 9.2.2 steps 1-2): /proc/partitions,
// the survey of a disk (blkid -p on the whole disk and at every partition-table entry, sfdisk -d) before anything
// is written, sfdisk once, mkfs.ocfs2 once. Every command runs as a named step (step.ts).
import {
  blkidLowLevel,
  mkfsOcfs2,
  partitionDevice,
  readFile as catFile,
  sfdiskAppendOnePartition,
  sfdiskDump,
  sfdiskOnePartition,
} from "../../commands";
import { BlkidProbe, isNoPartitionTable, parseBlkidExport, parseMkfsOcfs2Output, parseProcPartitions, parseSfdiskDump, Partition, PartitionTable } from "../../parsers";
import { run } from "../../runtime/remote";
import { shellWithArgs, ServerEndpoint } from "../../ssh";
import { canonicalOcfs2Uuid, DiskSurvey, EntrySurvey } from "./disk-survey";
import { SharedDiskStepError, lastLines, step } from "./step";

export async function readPartitions(server: ServerEndpoint): Promise<Partition[]> {
  return step("reading /proc/partitions", server, async () => parseProcPartitions((await run(server, catFile("/proc/partitions"))).stdout));
}

export async function isBlockDevice(server: ServerEndpoint, device: string): Promise<boolean> {
  const r = await step(`checking ${device}`, server, () => run(server, shellWithArgs('[ -b "$1" ]', device), { okCodes: [0, 1] }));
  return r.code === 0;
}

/** blkid -p (whole device, or an extent of it in bytes). Exit 2 nothing, 8 ambivalent; anything else fails the step. */
async function lowLevelProbe(server: ServerEndpoint, device: string, extent?: { offset: number; size: number }): Promise<BlkidProbe> {
  const what = extent ? `probing ${device} at byte ${extent.offset} (blkid -p)` : `probing ${device} (blkid -p)`;
  const r = await step(what, server, () => run(server, blkidLowLevel(device, extent), { okCodes: [0, 2, 8] }));
  return parseBlkidExport(r.stdout, r.code ?? -1, r.stderr);
}

/** The partition table (sfdisk -d), or undefined when the disk has none. */
export async function readTable(server: ServerEndpoint, disk: string): Promise<PartitionTable | undefined> {
  const r = await step(`reading the partition table of ${disk} (sfdisk -d)`, server, () => run(server, sfdiskDump(disk), { okCodes: [0, 1] }));
  if (r.code === 1) {
    if (isNoPartitionTable(r.stderr)) return undefined;
    throw new SharedDiskStepError(`reading the partition table of ${disk} (sfdisk -d)`, server.name, 1, lastLines(r.stderr));
  }
  return parseSfdiskDump(r.stdout);
}

/** Everything the disk holds as `server` sees it; writes nothing. */
export async function surveyDisk(server: ServerEndpoint, disk: string): Promise<DiskSurvey> {
  const whole = await lowLevelProbe(server, disk);
  const table = await readTable(server, disk);
  const entries: EntrySurvey[] = [];
  for (const entry of table?.entries ?? []) {
    const node = partitionDevice(disk, entry.number);
    const found = await lowLevelProbe(server, disk, { offset: entry.start * table!.sectorSize, size: entry.size * table!.sectorSize });
    entries.push({ entry, node, visible: await isBlockDevice(server, node), found });
  }
  return { disk, server: server.name, whole, ...(table ? { table } : {}), entries };
}

/** What one device holds (its own low-level probe): TYPE, LABEL, UUID (OCFS2: 32 upper-case hex digits). */
export interface DeviceContents {
  device: string;
  type?: string;
  label?: string;
  uuid?: string;
}

export async function probeDevice(server: ServerEndpoint, device: string): Promise<DeviceContents> {
  const p = await lowLevelProbe(server, device);
  if (p.kind !== "found" || p.tags.TYPE === undefined) return { device };
  const t = p.tags;
  return {
    device,
    type: t.TYPE,
    ...(t.LABEL !== undefined ? { label: t.LABEL } : {}),
    ...(t.UUID ? { uuid: t.TYPE === "ocfs2" ? canonicalOcfs2Uuid(t.UUID) : t.UUID } : {}),
  };
}

/**
 * Partition 1 spanning the disk: a new table on a disk that has none (decided by decideDisk), or appended to an
 * existing empty table (its identifier kept). Returns the table's identifier as sfdisk reads it back.
 */
export async function partitionDisk(server: ServerEndpoint, disk: string, how: "new-table" | "append"): Promise<string | undefined> {
  const spec = how === "append" ? sfdiskAppendOnePartition(disk) : sfdiskOnePartition(disk);
  await step(`partitioning ${disk} (sfdisk${how === "append" ? " --append" : ""})`, server, () => run(server, spec.argv, { input: spec.stdin, write: true }));
  return (await readTable(server, disk))?.id;
}

export interface Ocfs2Format {
  label: string;
  blockSize: number;
  clusterSize: number;
  journalSize: number;
  nodeSlots: number;
}

/**
 * mkfs.ocfs2 (only ever called after decideDisk said "format"). Never -F; -x (no prompt) only with the user's
 * overwrite, so a volume that appeared since the survey still makes mkfs.ocfs2 ask, and stdin at EOF aborts it.
 */
export async function formatOcfs2(server: ServerEndpoint, device: string, f: Ocfs2Format, overwrite: boolean): Promise<void> {
  const argv = mkfsOcfs2({ device, label: f.label, blockSize: f.blockSize, clusterSize: f.clusterSize, journalSize: f.journalSize, nodeSlots: f.nodeSlots, noPrompt: overwrite });
  const name = `formatting ${device} (mkfs.ocfs2)`;
  const r = await step(name, server, () => run(server, argv, { okCodes: [0, 1], write: true, timeoutMs: 15 * 60 * 1000 }));
  const result = parseMkfsOcfs2Output(r.stdout + "\n" + r.stderr, r.code ?? -1);
  if (result.outcome !== "success") {
    const why = result.messages.length ? result.messages.slice(-3).join(" / ") : lastLines(r.stderr || r.stdout);
    const hint =
      result.outcome === "cluster-unavailable"
        ? " (formatting over an existing OCFS2 volume needs o2cb online on this server, so mkfs.ocfs2 can check no node has it mounted: create the Cluster first)"
        : "";
    throw new SharedDiskStepError(name, server.name, r.code, `${result.outcome}: ${why}${hint}`);
  }
}
