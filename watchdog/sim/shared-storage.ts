// The pool's shared storage as the simulated watchdog environment sees it: the agents' slots and the poison pills,
// read (all slots at once) and written (a pill) through one server that answers, as the daemon does over SSH. A
// read or write through a server that does not answer, or whose storage is lost, fails; the next one goes through
// the next server (rotation). A failed read is no evidence (the core never turns it into staleness).
import type { Pill } from "../../ha/disk-heartbeat";
import type { Observation, SlotReading } from "../core/types";

export interface StorageServer {
  name: string;
  storageLost: boolean;
  partitioned: boolean;
}

export interface StoragePort {
  t: number;
  servers(): StorageServer[];
  /** Does the server's sshd answer the watchdog? */
  reachable(name: string): boolean;
  deliver(obs: Observation, at: number): void;
  latency(): number;
  deadlineMs(): number;
}

export class SimSharedStorage {
  readonly slots = new Map<string, SlotReading>();
  readonly pills = new Map<string, Pick<Pill, "bootId" | "writer">>();
  /** Pills written, in order (what the world knows, for the tests). */
  readonly pillLog: { t: number; server: string; bootId: string | null; writer: string }[] = [];
  #reader = 0;

  constructor(private readonly port: StoragePort) {}

  /** The server reads and writes go through now, or undefined (and the next one is tried next time). */
  #through(): StorageServer | undefined {
    const all = this.port.servers();
    if (all.length === 0) return undefined;
    const s = all[this.#reader % all.length];
    if (this.port.reachable(s.name) && !s.storageLost && !s.partitioned) return s;
    this.#reader++;
    return undefined;
  }

  /** One read of every slot (a heartbeat round), answered as of when it was sent. */
  read(poolServers: string[]): void {
    const sentAt = this.port.t;
    const via = this.#through();
    if (!via) {
      const at = sentAt + this.port.deadlineMs();
      this.port.deliver({ kind: "slots", ok: false, detail: "no answer from the server read through", sentAt, answeredAt: at }, at);
      return;
    }
    const slots: Record<string, SlotReading | null> = {};
    for (const n of poolServers) {
      const s = this.slots.get(n);
      slots[n] = s ? { ...s } : null;
    }
    const at = sentAt + this.port.latency();
    this.port.deliver({ kind: "slots", via: via.name, ok: true, slots, sentAt, answeredAt: at }, at);
  }

  /** Writes a pill (atomically: it is there, or not) and answers. */
  writePill(server: string, bootId: string | null, writer: string): void {
    const sentAt = this.port.t;
    const via = this.#through();
    if (!via) {
      const at = sentAt + this.port.deadlineMs();
      this.port.deliver({ kind: "pill-result", server, outcome: "failed", detail: "ssh: connect timed out (not written)", sentAt, answeredAt: at }, at);
      return;
    }
    this.pills.set(server, { bootId, writer });
    this.pillLog.push({ t: sentAt, server, bootId, writer });
    const at = sentAt + this.port.latency();
    this.port.deliver({ kind: "pill-result", server, outcome: "ok", sentAt, answeredAt: at }, at);
  }
}
