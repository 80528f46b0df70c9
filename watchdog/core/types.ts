// What goes into the watchdog's decision core (observations, time) and what comes out (actions, log).
import type { GuestRecord, PoolRecord } from "./ha-record";

export type ServerName = string;
export type GuestName = string;

/** One domain from `xm list` (Domain-0 excluded by the environment). */
export interface RunningGuest {
  name: GuestName;
  memoryMb: number;
}

/** A heartbeat round for one server: `xm list` + `xm info` over SSH, or a miss. */
export type PollObservation =
  | { kind: "poll"; server: ServerName; ok: true; guests: RunningGuest[]; totalMemoryMb: number; freeMemoryMb: number }
  | { kind: "poll"; server: ServerName; ok: false };

export type FenceOutcome = "off" | "failed" | "timeout";
export type PlannedOp = "shutdown" | "restart" | "remove";

export type Observation =
  | PollObservation
  | { kind: "fence-result"; server: ServerName; outcome: FenceOutcome; detail?: string }
  | { kind: "start-result"; guest: GuestName; server: ServerName; ok: boolean; detail?: string }
  | { kind: "migrate-result"; guest: GuestName; from: ServerName; to: ServerName; ok: boolean; detail?: string }
  | { kind: "stop-result"; guest: GuestName; server: ServerName; ok: boolean; detail?: string }
  // An administrator asks (through ovm-ha or the provider) to restart, shut down or remove a server.
  | { kind: "request"; op: PlannedOp; server: ServerName }
  // The HA records changed on shared storage.
  | { kind: "config"; pool: PoolRecord; guests: GuestRecord[] };

export type GuestMark = "running" | "powered-off" | "error" | "held";
export type ServerMark = "fence-failed" | "fence-unavailable" | "quorum-lost";

export type Action =
  | { kind: "fence"; server: ServerName }
  | { kind: "start"; guest: GuestName; server: ServerName }
  | { kind: "migrate"; guest: GuestName; from: ServerName; to: ServerName }
  // Clean shutdown of a guest that must leave a draining server and has nowhere to go.
  | { kind: "stop"; guest: GuestName; server: ServerName }
  // The planned operation on a drained server may now go ahead.
  | { kind: "proceed"; server: ServerName; op: PlannedOp }
  // Status to publish (status file, metrics, alerts).
  | { kind: "mark"; guest: GuestName; state: GuestMark; reason: string }
  | { kind: "mark-server"; server: ServerName; state: ServerMark; reason: string };

export interface LogLine {
  t: number;
  event: string;
  server?: ServerName;
  guest?: GuestName;
  reason: string;
  /** Loud lines need a human: fencing impossible, budget exhausted, quorum lost, duplicates. */
  loud?: boolean;
}

/** One line of the expected log: `t=8000 server-failed server=s2: 3 heartbeats missed`. */
export function renderLogLine(l: LogLine): string {
  const parts = [`t=${l.t}`, l.loud ? `${l.event} !!` : l.event];
  if (l.server !== undefined) parts.push(`server=${l.server}`);
  if (l.guest !== undefined) parts.push(`guest=${l.guest}`);
  return `${parts.join(" ")}: ${l.reason}`;
}
