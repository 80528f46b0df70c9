// Probing and preparing a block device on one server (seed 9.2.1 steps 6-9, 9.2.2 steps 1-2): /proc/partitions,
// blkid and mounted.ocfs2 -d before anything is written, sfdisk once, mkfs.ocfs2 once.
import { blkidFull, mkfsOcfs2, mountedOcfs2Detect, readFile as catFile, sfdiskOnePartition } from "../../commands";
import { parseBlkid, parseMkfsOcfs2Output, parseMountedOcfs2Detect, parseProcPartitions, Partition } from "../../parsers";
import { run } from "../../runtime/remote";
import { shellWithArgs, ServerEndpoint } from "../../ssh";
import { canonicalOcfs2Uuid, DeviceContents } from "./format-decision";

export async function readPartitions(server: ServerEndpoint): Promise<Partition[]> {
  return parseProcPartitions((await run(server, catFile("/proc/partitions"))).stdout);
}

export async function isBlockDevice(server: ServerEndpoint, device: string): Promise<boolean> {
  const r = await run(server, shellWithArgs('[ -b "$1" ]', device), { okCodes: [0, 1] });
  return r.code === 0;
}

/** What the device holds: blkid's TYPE/LABEL/UUID; for OCFS2 the UUID and label as mounted.ocfs2 -d prints them. */
export async function probeDevice(server: ServerEndpoint, device: string): Promise<DeviceContents> {
  const r = await run(server, blkidFull(device), { okCodes: [0, 2] });
  if (r.code === 2) return { device };
  const found = parseBlkid(r.stdout).find((d) => d.device === device) ?? parseBlkid(r.stdout)[0];
  if (!found?.type) return { device };
  const contents: DeviceContents = { device, type: found.type, ...(found.label !== undefined ? { label: found.label } : {}), ...(found.uuid ? { uuid: found.uuid } : {}) };
  if (found.type === "ocfs2") {
    const volumes = parseMountedOcfs2Detect((await run(server, mountedOcfs2Detect())).stdout);
    const v = volumes.find((x) => x.device === device);
    if (v) return { device, type: "ocfs2", label: v.label, uuid: v.uuid };
    if (contents.uuid) contents.uuid = canonicalOcfs2Uuid(contents.uuid);
  }
  return contents;
}

/** One partition spanning the disk (only ever called on a disk found empty). */
export async function partitionDisk(server: ServerEndpoint, disk: string): Promise<void> {
  const spec = sfdiskOnePartition(disk);
  await run(server, spec.argv, { input: spec.stdin, write: true });
}

export interface Ocfs2Format {
  label: string;
  blockSize: number;
  clusterSize: number;
  journalSize: number;
  nodeSlots: number;
}

/** mkfs.ocfs2 (only ever called after probeDevice and decideFormat said "format"). */
export async function formatOcfs2(server: ServerEndpoint, device: string, f: Ocfs2Format, force: boolean): Promise<void> {
  const argv = mkfsOcfs2({ device, label: f.label, blockSize: f.blockSize, clusterSize: f.clusterSize, journalSize: f.journalSize, nodeSlots: f.nodeSlots, force });
  const r = await run(server, argv, { okCodes: [0, 1], write: true, timeoutMs: 15 * 60 * 1000 });
  const result = parseMkfsOcfs2Output(r.stdout + "\n" + r.stderr, r.code ?? -1);
  if (result.outcome !== "success") {
    const why = result.messages.length ? result.messages.join("; ") : (r.stderr.trim() || r.stdout.trim()).slice(-500);
    throw new Error(`mkfs.ocfs2 of ${device} on ${server.name} failed (${result.outcome}): ${why}`);
  }
}
