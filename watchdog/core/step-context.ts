// The working context of one step: the state being changed (a private copy), the time, and what the step says
// and does. Each concern (detection, reconciling, fencing, recovery, drain) is a set of functions over it.
import type { GuestRecord, PoolRecord } from "../../ha/ha-record";
import { isOnServer, type GuestEntry } from "./guest-state";
import type { ServerStatus } from "./server-state";
import type { Action, GuestName, LogLine, ServerName } from "./types";

export const STATE_FORMAT_VERSION = 2;

export interface ManagerState {
  formatVersion: typeof STATE_FORMAT_VERSION;
  pool: PoolRecord;
  records: Record<GuestName, GuestRecord>;
  servers: Record<ServerName, ServerStatus>;
  /** HA guests only (guest flag on); others are never acted upon. */
  guests: Record<GuestName, GuestEntry>;
  quorum: boolean;
  started: boolean;
  /** sentAt of the newest read of the agents' slots taken into account (an older one arriving later is ignored). */
  slotsSentAt?: number;
  /** Set by restoreState(): the next step says so in the log. */
  resumed?: boolean;
}

export class StepContext {
  readonly actions: Action[] = [];
  readonly log: LogLine[] = [];
  /** Servers already asked for an extra listing this step (one is enough). */
  private listed = new Set<ServerName>();

  constructor(
    readonly s: ManagerState,
    readonly now: number,
  ) {}

  get timing() {
    return this.s.pool.timing;
  }
  get order(): ServerName[] {
    return this.s.pool.servers.map((x) => x.name);
  }
  say(event: string, reason: string, who: { server?: ServerName; guest?: GuestName } = {}, loud = false): void {
    const line: LogLine = { t: this.now, event, ...who, reason };
    if (loud) line.loud = true;
    this.log.push(line);
  }
  act(a: Action): void {
    this.actions.push(a);
  }
  /** Ask for a listing of `server` now rather than at the next round (hot path of every failover). */
  listNow(server: ServerName): void {
    if (this.listed.has(server)) return;
    this.listed.add(server);
    this.actions.push({ kind: "list", server });
  }
  /** HA guests tied to the server: running, held, or with a command or a doubt involving it. */
  haGuestsOn(server: ServerName): GuestName[] {
    return Object.keys(this.s.guests)
      .filter((g) => isOnServer(this.s.guests[g].status, server))
      .sort();
  }
  mem(guest: GuestName): number {
    return this.s.records[guest].memoryMb;
  }
  server(name: ServerName): ServerStatus | undefined {
    return this.s.servers[name];
  }
}
