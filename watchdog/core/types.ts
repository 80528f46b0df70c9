// What goes into the watchdog's decision core (observations, time) and what comes out (actions, log).
// Every observation carries when it was sent and when its answer came (sentAt/answeredAt, milliseconds on the
// watchdog's clock): an answer sent before an action ended cannot tell what the action did.
import type { GuestRecord, PoolRecord } from "../../ha/ha-record";
import type { Slot } from "../../ha/disk-heartbeat";

export type ServerName = string;
export type GuestName = string;

/** One domain from `xm list` (Domain-0 excluded by the environment). */
export interface RunningGuest {
  name: GuestName;
  memoryMb: number;
  /** xend lists the source copy of a live migration in progress as `migrating-NAME`: the guest is still here. */
  migrating?: boolean;
  /** Listed paused (`--p---`): on a migration's target, the incoming domain whose restore has not finished. */
  paused?: boolean;
}

/** When the question left the watchdog and when the answer (or the verdict "no answer") came back. */
export interface Timed {
  sentAt: number;
  answeredAt: number;
}

/**
 * A listing of one server: `xm list` (+ `xm info`) over SSH. Not ok: `contact` says whether SSH itself answered
 * (then xend failed or was slow: the server is degraded, not lost) or nothing answered at all (a miss).
 */
export type PollObservation =
  | ({
      kind: "poll";
      server: ServerName;
      ok: true;
      guests: RunningGuest[];
      totalMemoryMb: number;
      freeMemoryMb: number;
      /** Domain-0's CPU time: it only grows while dom0 runs, so a drop means the server rebooted. */
      dom0CpuSeconds?: number;
    } & Timed)
  // late-ssh: the SSH probe of a heartbeat already counted as missed answered after all (a loaded server or
  // network): proof of life after it was sent, so the misses start over; nothing about xm or guests.
  | ({ kind: "poll"; server: ServerName; ok: false; contact: "ssh-only" | "none" | "late-ssh"; detail?: string } & Timed);

/** What the watchdog keeps of one agent slot (ha/disk-heartbeat.ts): never its clock. */
export type SlotReading = Pick<Slot, "bootId" | "seq" | "state">;

/**
 * One read of every agent slot on the shared storage, through one server (`via`). ok: `slots` has, per server,
 * its slot or null (no slot file); a server missing from it had an unreadable slot (no evidence either way).
 * Not ok: the read failed (the server or its storage did not answer): no evidence, and never "stale".
 */
export type SlotsObservation =
  | ({ kind: "slots"; via: ServerName; ok: true; slots: Record<ServerName, SlotReading | null> } & Timed)
  | ({ kind: "slots"; via?: ServerName; ok: false; detail: string } & Timed);

/**
 * ok / failed: the command answered (exit 0 / an error). unknown: it was sent and no answer came (deadline,
 * connection lost after sending, watchdog restart): it may or may not have run.
 */
export type CommandOutcome = "ok" | "failed" | "unknown";
export type FenceOutcome = "off" | "failed" | "timeout";
export type PlannedOp = "shutdown" | "restart" | "remove";

/**
 * A command's answer. `mayRunUntil`: for an unknown outcome, the time by which the command has certainly ended
 * (it was sent with a deadline the server side keeps); until then a listing without the guest proves nothing.
 */
export type Observation =
  | PollObservation
  | SlotsObservation
  // The poison pill for `server` written (ok), not written (failed), or maybe (unknown) on the shared storage.
  | ({ kind: "pill-result"; server: ServerName; outcome: CommandOutcome; detail?: string } & Timed)
  | ({ kind: "fence-result"; server: ServerName; outcome: FenceOutcome; detail?: string } & Timed)
  | ({ kind: "start-result"; guest: GuestName; server: ServerName; outcome: CommandOutcome; detail?: string; mayRunUntil?: number } & Timed)
  | ({ kind: "migrate-result"; guest: GuestName; from: ServerName; to: ServerName; outcome: CommandOutcome; detail?: string; mayRunUntil?: number } & Timed)
  | ({ kind: "stop-result"; guest: GuestName; server: ServerName; outcome: CommandOutcome; detail?: string; mayRunUntil?: number } & Timed)
  // An administrator asks (through ovm-ha or the provider) to restart, shut down or remove a server.
  | { kind: "request"; op: PlannedOp; server: ServerName }
  // The HA records changed on shared storage.
  | { kind: "config"; pool: PoolRecord; guests: GuestRecord[] };

export type GuestMark = "running" | "powered-off" | "error" | "held";
export type ServerMark = "fence-failed" | "fence-unavailable" | "quorum-lost" | "cut-off";

export type Action =
  | { kind: "fence"; server: ServerName }
  // Storage fence: write the poison pill into the server's slot, aimed at the boot last read there (null: none read).
  | { kind: "pill"; server: ServerName; bootId: string | null; reason: string }
  | { kind: "start"; guest: GuestName; server: ServerName }
  | { kind: "migrate"; guest: GuestName; from: ServerName; to: ServerName }
  // Clean shutdown of a guest that must leave a draining server and has nowhere to go.
  | { kind: "stop"; guest: GuestName; server: ServerName }
  // A listing of this server now, outside the heartbeat rounds: it settles a command that just answered without
  // waiting for the next round (a missed one is not a missed heartbeat).
  | { kind: "list"; server: ServerName }
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
  /** Loud lines need a human: fencing impossible, budget exhausted, quorum lost, duplicates, doubt. */
  loud?: boolean;
}

/** One line of the expected log: `t=8000 server-failed server=s2: 3 heartbeats missed`. */
export function renderLogLine(l: LogLine): string {
  const parts = [`t=${l.t}`, l.loud ? `${l.event} !!` : l.event];
  if (l.server !== undefined) parts.push(`server=${l.server}`);
  if (l.guest !== undefined) parts.push(`guest=${l.guest}`);
  return `${parts.join(" ")}: ${l.reason}`;
}
