import { ParseError } from "./parse-error";
import { numberedLines } from "./text-lines";

export interface O2cbStatus {
  /** Cluster name from `Checking O2CB cluster NAME: ...` (quoted in newer tools); null if not printed. */
  cluster: string | null;
  online: boolean;
  /** `Driver for "configfs": Loaded` (also `Module "x": Loaded` of older tools) → { configfs: true }. */
  drivers: Record<string, boolean>;
  /** `Filesystem "configfs": Mounted` → { configfs: true }. */
  filesystems: Record<string, boolean>;
  heartbeatDeadThreshold?: number;
  networkIdleTimeoutMs?: number;
  networkKeepaliveDelayMs?: number;
  networkReconnectDelayMs?: number;
  /** `Checking O2CB heartbeat: Active` → true, `Not active` → false, undefined when not printed (offline). */
  heartbeatActive?: boolean;
}

const COMMAND = "service o2cb status";

/**
 * Parses `service o2cb status` in the 1.4 wording (`Checking O2CB cluster ocfs2: Online`,
 * `Heartbeat dead threshold = 31`) and the newer one (`Checking O2CB cluster "ocfs2": Online`,
 * `Heartbeat dead threshold: 31`). Unknown lines are ignored; output without the cluster line is an error,
 * because status exits 0 whether or not the cluster is up.
 */
export function parseO2cbStatus(text: string): O2cbStatus {
  const status: O2cbStatus = { cluster: null, online: false, drivers: {}, filesystems: {} };
  let sawCluster = false;
  for (const { text: raw, number } of numberedLines(text)) {
    const line = raw.trim();
    if (line === "") continue;
    let m = /^(?:Driver for|Module) "([^"]+)":\s*(.+)$/.exec(line);
    if (m) {
      status.drivers[m[1]] = /^Loaded$/i.test(m[2]);
      continue;
    }
    m = /^Filesystem "([^"]+)":\s*(.+)$/.exec(line);
    if (m) {
      status.filesystems[m[1]] = /^Mounted$/i.test(m[2]);
      continue;
    }
    m = /^Checking O2CB cluster\s*(?:"([^"]*)"|([^\s:]+))?\s*:\s*(.+)$/.exec(line);
    if (m) {
      sawCluster = true;
      status.cluster = m[1] ?? m[2] ?? null;
      if (/^Online$/i.test(m[3])) status.online = true;
      else if (/^Offline$/i.test(m[3])) status.online = false;
      else throw new ParseError(COMMAND, "cluster state is neither Online nor Offline", raw, number);
      continue;
    }
    m = /^Checking O2CB heartbeat:\s*(.+)$/.exec(line);
    if (m) {
      if (/^Active$/i.test(m[1])) status.heartbeatActive = true;
      else if (/^Not active$/i.test(m[1])) status.heartbeatActive = false;
      else throw new ParseError(COMMAND, "heartbeat state is neither Active nor Not active", raw, number);
      continue;
    }
    m = /^(Heartbeat dead threshold|Network idle timeout|Network keepalive delay|Network reconnect delay)\s*[:=]\s*(\S+)/i.exec(line);
    if (m) {
      if (!/^\d+$/.test(m[2])) throw new ParseError(COMMAND, `${m[1]} is not a whole number`, raw, number);
      const value = Number(m[2]);
      const key = m[1].toLowerCase();
      if (key.startsWith("heartbeat")) status.heartbeatDeadThreshold = value;
      else if (key.includes("idle")) status.networkIdleTimeoutMs = value;
      else if (key.includes("keepalive")) status.networkKeepaliveDelayMs = value;
      else status.networkReconnectDelayMs = value;
    }
    // Anything else (stack glue, debugfs, heartbeat mode lines) is informational.
  }
  if (!sawCluster) throw new ParseError(COMMAND, "no `Checking O2CB cluster NAME: Online|Offline` line");
  return status;
}

/**
 * Reads `o2cb cluster-status [NAME]` (newer tools): `Cluster 'x' is online` (exit 0) / `... offline` (exit 1).
 * The text decides; an exit code that contradicts it is an error.
 */
export function parseO2cbClusterStatus(text: string, exitCode: number): { cluster: string; online: boolean } {
  const command = "o2cb cluster-status";
  for (const { text: raw, number } of numberedLines(text)) {
    const m = /^\s*Cluster\s+'([^']*)'\s+is\s+(online|offline)\b/i.exec(raw);
    if (!m) continue;
    const online = m[2].toLowerCase() === "online";
    if (online !== (exitCode === 0)) throw new ParseError(command, `exit code ${exitCode} contradicts the text`, raw, number);
    return { cluster: m[1], online };
  }
  throw new ParseError(command, "no `Cluster 'NAME' is online|offline` line", text.trim());
}

export interface O2cbServiceResult {
  ok: boolean;
  /** `Cluster ocfs2 already online` was printed (nothing was changed). */
  alreadyOnline: boolean;
  /** Each `Something: OK|Failed` step in order, e.g. { step: "Starting O2CB cluster ocfs2", result: "OK" }. */
  steps: { step: string; result: string }[];
}

/**
 * Reads `service o2cb online|start|offline|stop` output. ok means exit 0 and no `Failed` step: the service
 * prints `Failed` on a step and exits 1.
 */
export function parseO2cbServiceOutput(text: string, exitCode: number): O2cbServiceResult {
  const steps: { step: string; result: string }[] = [];
  let alreadyOnline = false;
  for (const { text: raw } of numberedLines(text)) {
    const line = raw.trim();
    if (/^Cluster\s+"?\S+?"?\s+already online$/i.test(line)) alreadyOnline = true;
    const m = /^(.*\S)\s*:\s*(OK|Failed)$/i.exec(line);
    if (m) steps.push({ step: m[1], result: m[2] });
  }
  const ok = exitCode === 0 && !steps.some((s) => /^Failed$/i.test(s.result));
  return { ok, alreadyOnline, steps };
}
