// What the watchdog believes about each HA guest.
import type { ServerName } from "./types";

/** Result of a command in flight; "lost" when the watchdog restarted before the answer came. */
export type PendingResult = "ok" | "failed" | "lost";

/**
 * unknown: never seen running.  stopped: seen, then no longer listed by its answering server (not HA's job).
 * running: listed by `server`.  held: its server failed and is not known off: it is left there.
 * powered-off: not running anywhere; waiting for a target (the 2.1 guide's "Power Off").
 * starting / migrating / stopping: a command is in flight; the next heartbeat of the server concerned decides.
 * error: restart budget exhausted; a human must look.
 */
export type GuestStatus =
  | { state: "unknown" }
  | { state: "stopped"; since: number }
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
  | { state: "starting"; server: ServerName; since: number; result?: PendingResult }
  | { state: "migrating"; from: ServerName; to: ServerName; since: number; result?: PendingResult }
  | { state: "stopping"; server: ServerName; since: number; result?: PendingResult }
  | { state: "error"; since: number; reason: string };

export interface GuestEntry {
  status: GuestStatus;
  /** Times of starts and migrations issued, for the restart budget. */
  attempts: number[];
}

/** The server a guest occupies or is headed for, as far as memory reservations go. */
export function reservedOn(status: GuestStatus): ServerName | undefined {
  if (status.state === "starting") return status.server;
  if (status.state === "migrating") return status.to;
  return undefined;
}

/** Does this status tie the guest to the server (so a failure of the server concerns it)? */
export function isOnServer(status: GuestStatus, server: ServerName): boolean {
  switch (status.state) {
    case "running":
    case "held":
    case "starting":
    case "stopping":
      return status.server === server;
    case "migrating":
      return status.from === server || status.to === server;
    default:
      return false;
  }
}
