// What `ovm-ha status` shows: a snapshot of the watchdog's beliefs (servers, HA guests, last events) built from
// the manager state each turn, written beside the state file, and rendered as a table or JSON.
import type { ManagerState } from "./core/manager";
import { isLoudDoubt } from "./core/guest-state";
import { isReachable, type ServerStatus } from "./core/server-state";
import type { GuestMark, LogLine, ServerMark } from "./core/types";
import { renderLogLine } from "./core/types";
import { describeDisk, diskKnownOffAt } from "./core/disk-evidence";
import { messageWaitMs } from "../ha/disk-heartbeat";

export const STATUS_FORMAT_VERSION = 1;

export interface ServerStatusRow {
  name: string;
  role: string;
  fence: string;
  state: string;
  since: number;
  note?: string;
  loud?: boolean;
  /** The disk heartbeat: alive, stale for N s, unknown, stopped, no slot; with the slot's state. */
  disk?: string;
  /** A storage fence in progress: when its pill was written, and the message wait left (ms). */
  storageFence?: { pillWrittenAt?: number; remainingMs?: number };
}

export interface GuestStatusRow {
  name: string;
  state: string;
  server?: string;
  wanted: "running" | "stopped";
  since?: number;
  priority: number;
  note?: string;
  loud?: boolean;
}

export interface WatchdogStatus {
  formatVersion: typeof STATUS_FORMAT_VERSION;
  updatedAt: number;
  /** stoppedAt: the watchdog stopped (gracefully) at that time: nothing is watched any more. */
  daemon: { pid: number; startedAt: number; heartbeatIntervalMs: number; stoppedAt?: number };
  pool: { name: string; generation: number; haEnabled: boolean; quorum: boolean };
  servers: ServerStatusRow[];
  guests: GuestStatusRow[];
  /** Problems reading the records (invalid files, no server answering). */
  problems: string[];
  events: LogLine[];
}

export interface Marks {
  servers: Record<string, { state: ServerMark; reason: string }>;
  guests: Record<string, { state: GuestMark; reason: string }>;
}

export function buildStatus(
  state: ManagerState,
  marks: Marks,
  events: LogLine[],
  problems: string[],
  daemon: WatchdogStatus["daemon"],
  now: number,
): WatchdogStatus {
  const servers: ServerStatusRow[] = state.pool.servers.map((ps) => {
    const st = state.servers[ps.name];
    const row: ServerStatusRow = { name: ps.name, role: ps.role, fence: ps.fence.method === "levels" ? ps.fence.levels.map((l) => l.method).join(",") : ps.fence.method, state: st?.state ?? "unknown", since: st?.since ?? now };
    const mark = marks.servers[ps.name];
    if (!st) return row;
    row.disk = describeDisk(st, state.pool.timing, now);
    if (!state.quorum) {
      row.note = "watchdog not in contact with a majority of the pool: fencing nobody, starting nothing";
      row.loud = true;
    } else if (st.state === "failed" && mark && (mark.state === "fence-unavailable" || mark.state === "fence-failed")) {
      row.note = mark.reason;
      row.loud = true;
    } else if (st.state === "failed" && st.cutOff) {
      row.note = "cut off (disk heartbeat alive): alive, its guests keep running there; not fenced, nothing restarted elsewhere";
      row.loud = true;
    } else if (st.state === "failed") row.note = `${st.misses} heartbeats missed`;
    else if (st.state === "fencing" && st.fence?.method === "storage") {
      const wait = messageWaitMs(state.pool.timing.agent);
      const pillAt = st.fence.pill?.answeredAt;
      const byDisk = diskKnownOffAt(st, state.pool.timing);
      const offAt = Math.min(pillAt !== undefined ? pillAt + wait : Infinity, byDisk ?? Infinity);
      row.storageFence = { pillWrittenAt: pillAt };
      if (offAt !== Infinity) row.storageFence.remainingMs = Math.max(0, offAt - now);
      row.note = `storage fence (attempt ${st.fence.attempt}): ${pillAt !== undefined ? "poison pill written" : "poison pill being written"}; ${offAt !== Infinity ? `known off in ${Math.ceil(Math.max(0, offAt - now) / 1000)} s (message wait ${wait / 1000} s)` : "waiting for the pill to be written or the slot to stay stale"}`;
    }
    else if (st.state === "suspect") row.note = `missed ${st.misses} heartbeat(s)`;
    else if (st.state === "fencing") {
      const age = now - (st.fence?.issuedAt ?? now);
      row.note = `power fence in flight for ${Math.round(age / 1000)} s (attempt ${st.fence?.attempt ?? 1})`;
      row.loud = age > state.pool.timing.fenceTimeoutMs;
    } else if (st.state === "fenced") row.note = "known off: its guests are free to start elsewhere";
    else if (st.state === "draining") row.note = `${st.planned ?? "planned operation"} requested: migrating its HA guests away`;
    else if (st.state === "down") row.note = "drained: the planned operation may go ahead";
    else if (st.state === "recovering") row.note = `not a target before ${clock(st.since + state.pool.timing.stabilityMs)}`;
    else if (st.state === "up" && st.lastOkAt === undefined) row.note = "no heartbeat answered yet";
    else if (st.state === "up" && st.freeMemoryMb !== undefined) row.note = `${st.freeMemoryMb} of ${st.totalMemoryMb} MB free`;
    if (st.degraded) {
      row.state = `${st.state}, degraded`;
      row.note = `SSH answers but xm does not since ${clock(st.degraded.since)} (${st.degraded.detail}): not a target; not fenced for this`;
      row.loud = true;
    }
    return row;
  });
  const guests: GuestStatusRow[] = Object.keys(state.guests)
    .sort()
    .map((name) => {
      const e = state.guests[name];
      const st = e.status;
      const rec = state.records[name];
      const row: GuestStatusRow = { name, state: st.state, wanted: st.state === "stopped" ? "stopped" : "running", priority: rec?.priority ?? 0 };
      if ("since" in st) row.since = st.since;
      const mark = marks.guests[name];
      /** A guest's server that does not answer (or is failed / being fenced) cannot vouch for it. */
      const unsure = (server: string): string | undefined => {
        const ss: ServerStatus | undefined = state.servers[server];
        if (!ss) return `${server} is unknown`;
        if (ss.state === "fencing") return `${server} is being fenced`;
        if (ss.state === "failed" || ss.state === "fenced") return `${server} is ${ss.state}`;
        if (!isReachable(ss)) return `${server} does not answer`;
        if (ss.degraded) return `${server} is degraded: it cannot list its guests`;
        return undefined;
      };
      switch (st.state) {
        case "running": {
          row.server = st.server;
          const why = unsure(st.server);
          if (why) {
            row.state = "unconfirmed";
            row.note = `last seen on ${st.server}; ${why}`;
            row.loud = !state.quorum || state.servers[st.server]?.state !== "suspect";
          }
          if (e.duplicateOn) {
            row.note = `listed by ${e.duplicateOn.join(" and ")} at once: a human must decide which copy to destroy`;
            row.loud = true;
          }
          break;
        }
        case "held": {
          row.server = st.server;
          const fence = state.servers[st.server]?.state === "fencing" ? "fence in flight" : undefined;
          row.note = mark?.state === "held" ? mark.reason : `left on ${st.server} until it is known off${fence ? ` (${fence})` : ""}`;
          row.loud = true;
          break;
        }
        case "starting":
          row.server = st.server;
          row.note = `xm create on ${st.server} in progress`;
          break;
        case "migrating":
          row.server = st.from;
          row.note = `live migration ${st.from} -> ${st.to} in progress`;
          break;
        case "in-doubt":
          row.server = st.servers.join(",") || undefined;
          if (isLoudDoubt(st)) {
            row.state = "in doubt";
            row.note = `${st.command} on ${st.target} ${st.outcome === "unknown" ? "got no answer" : "failed"}${st.detail ? ` (${st.detail})` : ""}: may be on ${st.servers.join(", ")}; started nowhere else until each is seen without it or fenced`;
            row.loud = true;
          } else {
            row.state = st.command === "start" ? "starting" : "migrating";
            row.note = `${st.command} on ${st.target} answered ok; confirming with a listing of ${st.servers.join(", ")}`;
          }
          break;
        case "stopping":
          row.server = st.server;
          row.note = `shutting down on ${st.server} so it can go`;
          break;
        case "powered-off":
          row.note = `pending: ${st.reason}`;
          break;
        case "error":
          row.note = st.reason;
          row.loud = true;
          break;
        case "stopped":
          row.note = "shut down outside HA: not restarted";
          break;
        case "unknown":
          row.note = "not seen running yet";
          break;
      }
      return row;
    });
  return {
    formatVersion: STATUS_FORMAT_VERSION,
    updatedAt: now,
    daemon,
    pool: { name: state.pool.name, generation: state.pool.generation, haEnabled: state.pool.haEnabled, quorum: state.quorum },
    servers,
    guests,
    problems,
    events,
  };
}

function clock(t: number): string {
  return new Date(t).toISOString().slice(11, 19);
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? "").padEnd(widths[i]))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The human table: pool line, servers, HA guests, last events. `now` for the "ago" columns. */
export function renderStatus(s: WatchdogStatus, now: number, maxEvents = 10): string {
  const out: string[] = [];
  const stale = now - s.updatedAt > Math.max(5000, 5 * s.daemon.heartbeatIntervalMs);
  const watchdog =
    s.daemon.stoppedAt !== undefined
      ? `watchdog !! STOPPED at ${clock(s.daemon.stoppedAt)} (${ago(now - s.daemon.stoppedAt)}): nothing is watched; what follows is its last view`
      : `watchdog pid ${s.daemon.pid}, last turn ${ago(now - s.updatedAt)}${stale ? " !! STALE: is the watchdog running?" : ""}`;
  out.push(`pool ${s.pool.name} (generation ${s.pool.generation}): HA ${s.pool.haEnabled ? "on" : "OFF"}, ${s.pool.quorum ? "majority in contact" : "!! NO MAJORITY IN CONTACT"}; ${watchdog}`);
  out.push("");
  out.push(
    ...table(
      ["SERVER", "ROLE", "FENCE", "STATE", "SINCE", "DISK HEARTBEAT", "NOTE"],
      s.servers.map((r) => [r.name, r.role, r.fence, r.loud ? `${r.state} !!` : r.state, `${clock(r.since)} (${ago(now - r.since)})`, r.disk ?? "-", r.note ?? ""]),
    ),
  );
  out.push("");
  if (s.guests.length === 0) out.push("no HA guests");
  else
    out.push(
      ...table(
        ["GUEST", "STATE", "SERVER", "WANTED", "PRIO", "SINCE", "NOTE"],
        s.guests.map((g) => [g.name, g.loud ? `${g.state} !!` : g.state, g.server ?? "-", g.wanted, String(g.priority), g.since ? ago(now - g.since) : "-", g.note ?? ""]),
      ),
    );
  if (s.problems.length) {
    out.push("", "PROBLEMS");
    for (const p of s.problems) out.push(`  !! ${p}`);
  }
  const events = s.events.slice(-maxEvents);
  if (events.length) {
    out.push("", "LAST EVENTS");
    for (const e of events) out.push(`  ${clock(e.t)} ${renderLogLine({ ...e, t: 0 }).replace(/^t=0 /, "")}`);
  }
  return out.join("\n") + "\n";
}
