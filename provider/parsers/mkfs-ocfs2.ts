import { numberedLines } from "./text-lines";

export type MkfsOcfs2Outcome =
  | "success"
  /** The device held OCFS2 and the prompt was not answered Y (`Aborting operation.`, or EOF/exit 1). */
  | "overwrite-refused"
  /** `... is mounted; will not make a ocfs2 volume here!` */
  | "device-mounted"
  | "label-too-long"
  /** `Unable to access cluster service` (o2cb not running on a cluster-mode format). */
  | "cluster-unavailable"
  /** `... while locking the cluster` / `This volume appears to be in use in the cluster.` (mounted on another node). */
  | "in-use-in-cluster"
  | "failed";

export interface MkfsOcfs2Result {
  outcome: MkfsOcfs2Outcome;
  /** `Overwriting existing ocfs2 partition.` was printed: the device already held OCFS2. */
  overwroteExisting: boolean;
  label?: string;
  blockSize?: number;
  clusterSize?: number;
  nodeSlots?: number;
  volumeSizeBytes?: number;
  journalSizeBytes?: number;
  /** The lines explaining a failure (tool-prefixed error lines), empty on success. */
  messages: string[];
}

/**
 * Interprets mkfs.ocfs2 output (stdout and stderr concatenated, in any order) and exit code. Success
 * needs both exit 0 and the final `mkfs.ocfs2 successful` line, so a truncated run never counts.
 */
export function parseMkfsOcfs2Output(output: string, exitCode: number): MkfsOcfs2Result {
  const r: MkfsOcfs2Result = { outcome: "failed", overwroteExisting: false, messages: [] };
  let successful = false, aborted = false, mounted = false, labelTooLong = false, noCluster = false, inUse = false;
  for (const { text: raw } of numberedLines(output)) {
    const line = raw.trim();
    if (line === "") continue;
    let m: RegExpExecArray | null;
    if (/^mkfs\.ocfs2 successful$/.test(line)) successful = true;
    else if (/^Overwriting existing ocfs2 partition\.?$/i.test(line)) r.overwroteExisting = true;
    else if (/Aborting operation/i.test(line)) aborted = true;
    else if (/is mounted; will not make a ocfs2 volume here/i.test(line)) mounted = true;
    else if (/Volume label too long/i.test(line)) labelTooLong = true;
    else if (/Unable to access cluster service/i.test(line)) noCluster = true;
    else if (/while locking the cluster|appears to be in use in the cluster/i.test(line)) inUse = true;
    else if ((m = /^Label:\s?(.*)$/.exec(line))) r.label = m[1];
    else if ((m = /^Block size:\s*(\d+)/.exec(line))) r.blockSize = Number(m[1]);
    else if ((m = /^Cluster size:\s*(\d+)/.exec(line))) r.clusterSize = Number(m[1]);
    else if ((m = /^Node slots:\s*(\d+)/.exec(line))) r.nodeSlots = Number(m[1]);
    else if ((m = /^Volume size:\s*(\d+)/.exec(line))) r.volumeSizeBytes = Number(m[1]);
    else if ((m = /^Journal size:\s*(\d+)/.exec(line))) r.journalSizeBytes = Number(m[1]);
    if (/^mkfs\.ocfs2:/.test(line) || /Aborting operation|will not make|too long|in use in the cluster/i.test(line)) r.messages.push(line);
  }
  if (exitCode === 0 && successful) r.outcome = "success";
  else if (mounted) r.outcome = "device-mounted";
  else if (labelTooLong) r.outcome = "label-too-long";
  else if (noCluster) r.outcome = "cluster-unavailable";
  else if (inUse) r.outcome = "in-use-in-cluster";
  else if (aborted || r.overwroteExisting) r.outcome = "overwrite-refused";
  if (r.outcome === "success") r.messages = [];
  return r;
}
