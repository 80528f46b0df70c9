// What the watchdog believes about each HA guest.
import type { CommandOutcome, GuestName, ServerName } from "./types";

/**
 * unknown: never seen running.  stopped: seen, then no longer listed by its answering server (not HA's job).
 * running: listed by `server`.  held: its server failed and is not known off: it is left there.
 * powered-off: not running anywhere; waiting for a target (the 2.1 guide's "Power Off").
 * starting / migrating / stopping: a command is in flight, its answer not yet in.
 * in-doubt: a start or migration answered (or never will): the guest may be on any of `servers` until a listing of
 *   each, sent after `after` (when the command was known ended), has shown it or shown it absent, or the server was
 *   fenced. With outcome ok this is the routine confirmation of a command that worked; otherwise it is loud.
 * error: restart budget exhausted; a human must look.
 */
export type GuestStatus =
  | { state: "unknown" }
  // from: the server that stopped listing it (a later proof that its agent self-fenced turns this into a loss).
  | { state: "stopped"; since: number; from?: ServerName }
  | { state: "running"; server: ServerName; since: number }
  | { state: "held"; server: ServerName; since: number }
  | {
      state: "powered-off";
      since: number;
      announced: boolean;
      reason: string;
      /** A start just failed there: try other servers first. */
      avoid?: ServerName;
      /** No new attempt before (a failed start waits one heartbeat). */
      notBefore?: number;
    }
  | { state: "starting"; server: ServerName; since: number }
  | { state: "migrating"; from: ServerName; to: ServerName; since: number }
  | { state: "stopping"; server: ServerName; since: number; outcome?: CommandOutcome; after?: number }
  | InDoubt
  | { state: "error"; since: number; reason: string };

export interface InDoubt {
  state: "in-doubt";
  command: "start" | "migrate";
  /** Where it may be and has not yet been seen absent (start: the target; migration: source and target). */
  servers: ServerName[];
  /** Where the command meant it to end up. */
  target: ServerName;
  outcome: CommandOutcome;
  /** Only listings sent at or after this can show where it is: the command had answered by then. */
  after: number;
  /**
   * A listing without it clears a server only if sent at or after this: the command had certainly ended (for an
   * unanswered command, its deadline; xend may still be creating the domain after the client gave up).
   */
  absentAfter: number;
  since: number;
  detail?: string;
  /** The restart-budget entry of this command: given back if the command turns out never to have happened. */
  attemptAt?: number;
}

export interface Sighting {
  /** The first listing of the current unbroken run that showed the guest (plainly) on this server. */
  firstAnsweredAt: number;
  /** The latest such listing. */
  lastSentAt: number;
}

export interface GuestEntry {
  status: GuestStatus;
  /** Times of starts and migrations issued, for the restart budget. */
  attempts: number[];
  /** Per server, the unbroken run of listings that showed the guest there (for duplicate evidence). */
  sightings: Record<ServerName, Sighting>;
  /** The duplicate alarm was raised for these servers (once, not every heartbeat). */
  duplicateOn?: ServerName[];
  /**
   * Live migrations from `from` that did not happen (the guest stayed there): the next attempt goes to another
   * server first, as after a failed start. A target the watchdog sees healthy may still be unreachable from the
   * source (a cut between the two servers only); retrying it would spend the budget and end in a Power Off.
   */
  migrationFailed?: { from: ServerName; to: ServerName[]; at: number };
}

/** A routine confirmation (the command said ok) is not a doubt a human must see. */
export function isLoudDoubt(st: GuestStatus): boolean {
  return st.state === "in-doubt" && st.outcome !== "ok";
}

/** The server a guest occupies or is headed for, as far as memory reservations go. */
export function reservedOn(status: GuestStatus): ServerName | undefined {
  if (status.state === "starting") return status.server;
  if (status.state === "migrating") return status.to;
  if (status.state === "in-doubt") return status.servers.includes(status.target) ? status.target : undefined;
  return undefined;
}

/** Does this status tie the guest to the server (so a failure of the server concerns it, and must be fenced)? */
export function isOnServer(status: GuestStatus, server: ServerName): boolean {
  switch (status.state) {
    case "running":
    case "held":
    case "starting":
    case "stopping":
      return status.server === server;
    case "migrating":
      return status.from === server || status.to === server;
    case "in-doubt":
      return status.servers.includes(server);
    default:
      return false;
  }
}

export function newGuestEntry(): GuestEntry {
  return { status: { state: "unknown" }, attempts: [], sightings: {} };
}

export type { GuestName };
