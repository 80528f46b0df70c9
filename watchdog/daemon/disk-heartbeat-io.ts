// The disk heartbeat on the real pool: every slot read in ONE SSH command on one server that answers (rotating to
// the next on failure), and the poison pill written through one (atomically: temporary file, then rename). Scripts
// are fixed text; the directory and file travel as positional arguments, never pasted into a script. A pill written
// by the watchdog goes through the fencing-token guard, so a deposed leader (or an older process) cannot write one.
import type pino from "pino";
import type { ServerEndpoint, SshPool } from "../../provider/ssh";
import { parseSlot, pillFile, renderPill, slotsDir, type Pill } from "../../ha/disk-heartbeat";
import type { Observation, SlotReading } from "../core/types";
import { splitTailOutput } from "./record-reader";

/**
 * Prints every slot behind a `==> FILE <==` header. Exit 4 when the pool record is not there: the shared storage is
 * not mounted on that server, and an empty directory must not read as "no slots".
 */
const READ_SLOTS_SCRIPT = [
  'cd "$1" || exit 3',
  '[ -f "$2" ] || { echo "no pool record at $2: is the shared storage mounted here?" >&2; exit 4; }',
  '[ -d "$3" ] || exit 0',
  'cd "$3" || exit 3',
  'set -- *.json',
  '[ -e "$1" ] || exit 0',
  'exec tail -v -n +1 -- "$@"',
].join("\n");

const WRITE_PILL_SCRIPT = 'mkdir -p "$(dirname "$1")" && cat > "$1.tmp.$$" && mv -f "$1.tmp.$$" "$1"';

export function readSlotsCommand(clusterRoot: string): string[] {
  return ["sh", "-c", READ_SLOTS_SCRIPT, "ovm-ha-slots", clusterRoot, ".ovm-ha/pool.json", slotsDir(".").replace(/^\.\//, "")];
}

export function writePillCommand(clusterRoot: string, server: string): string[] {
  return ["sh", "-c", WRITE_PILL_SCRIPT, "ovm-ha-pill", pillFile(clusterRoot, server)];
}

/**
 * Per pool server: its slot, null when it has none, absent when its file did not parse or names another server
 * (unreadable: no evidence). Problems are returned to be logged.
 */
export function parseSlots(text: string, servers: readonly string[]): { slots: Record<string, SlotReading | null>; problems: string[] } {
  const slots: Record<string, SlotReading | null> = {};
  const problems: string[] = [];
  for (const s of servers) slots[s] = null;
  for (const { file, content } of splitTailOutput(text)) {
    const server = file.replace(/\.json$/, "");
    if (!servers.includes(server)) continue; // a slot of a server no longer in the pool
    const r = parseSlot(content, `slot ${file}`);
    if (!r.ok) {
      problems.push(r.error);
      delete slots[server];
    } else if (r.value.server !== server) {
      problems.push(`slot ${file}: names server '${r.value.server}'; ignored`);
      delete slots[server];
    } else slots[server] = { bootId: r.value.bootId, seq: r.value.seq, state: r.value.state };
  }
  return { slots, problems };
}

export function pillFor(server: string, bootId: string | null, writer: string, reason: string, now: number): Pill {
  return { schemaVersion: 1, server, bootId, writer, reason, writtenAt: now };
}

/** Writes a pill through `ep`; `guard` wraps the command in the fencing-token guard (the watchdog's pills). */
export async function writePill(ssh: SshPool, ep: ServerEndpoint, clusterRoot: string, pill: Pill, timeoutMs: number, guard: (argv: string[]) => readonly string[] = (a) => a): Promise<void> {
  await ssh.exec(ep, guard(writePillCommand(clusterRoot, pill.server)), { input: renderPill(pill), timeoutMs });
}

export interface DiskHeartbeatDeps {
  ssh: SshPool;
  log: pino.Logger;
  clusterRoot: string;
  /** The pool's servers, in order, as endpoints (name = server name). */
  servers(): { name: string; endpoint: ServerEndpoint }[];
  /** Did the server answer its last heartbeat (and is it not degraded)? */
  healthy(server: string): boolean;
  push(o: Observation): void;
  wake(): void;
  track(p: Promise<unknown>): void;
  deadline(): number;
  /** Wraps a command in the fencing-token guard (undefined: none, e.g. before a token is taken). */
  guard(argv: string[]): readonly string[];
  onPill(outcome: "ok" | "failed" | "unknown"): void;
}

/** Reads all slots once per heartbeat round and writes pills, through one healthy server at a time. */
export class DiskHeartbeatIo {
  #via?: string;
  #lastProblems = "";

  constructor(private readonly d: DiskHeartbeatDeps) {}

  /** The server reads and pills go through: the current one while healthy, else the first healthy one. */
  #pick(): { name: string; endpoint: ServerEndpoint } | undefined {
    const all = this.d.servers();
    const current = all.find((s) => s.name === this.#via);
    if (current && this.d.healthy(current.name)) return current;
    const start = current ? all.indexOf(current) + 1 : 0;
    for (let i = 0; i < all.length; i++) {
      const s = all[(start + i) % all.length];
      if (this.d.healthy(s.name)) {
        this.#via = s.name;
        return s;
      }
    }
    return undefined;
  }
  /** After a failure through `name`: the next one next time. */
  #rotate(name: string): void {
    if (this.#via !== name) return;
    const all = this.d.servers();
    const i = all.findIndex((s) => s.name === name);
    this.#via = all[(i + 1) % all.length]?.name;
  }

  /** One read of every slot (a heartbeat round), bounded by the round's deadline. */
  async read(): Promise<void> {
    const sentAt = Date.now();
    const via = this.#pick();
    if (!via) {
      this.d.push({ kind: "slots", ok: false, detail: "no healthy server to read the slots through", sentAt, answeredAt: sentAt });
      return;
    }
    try {
      const r = await this.d.ssh.exec(via.endpoint, readSlotsCommand(this.d.clusterRoot), { timeoutMs: this.d.deadline() });
      const { slots, problems } = parseSlots(r.stdout, this.d.servers().map((s) => s.name));
      const text = problems.join("\n");
      if (text !== this.#lastProblems && problems.length) this.d.log.warn({ event: "slot-problem", via: via.name, loud: true }, text);
      this.#lastProblems = text;
      this.d.push({ kind: "slots", via: via.name, ok: true, slots, sentAt, answeredAt: Date.now() });
    } catch (e) {
      this.#rotate(via.name);
      this.d.log.debug({ event: "slots-unreadable", via: via.name, err: (e as Error).message }, "slots not read");
      this.d.push({ kind: "slots", via: via.name, ok: false, detail: `${via.name}: ${(e as Error).message}`, sentAt, answeredAt: Date.now() });
    }
  }

  /** The storage fence's pill, through the guard; its answer becomes a pill-result observation. */
  pill(server: string, bootId: string | null, reason: string, outcome: (e: unknown) => "failed" | "unknown", timeoutMs: number): void {
    const sentAt = Date.now();
    const via = this.#pick();
    if (!via) {
      this.d.push({ kind: "pill-result", server, outcome: "failed", detail: "no healthy server to write it through", sentAt, answeredAt: sentAt });
      this.d.onPill("failed");
      return;
    }
    this.d.log.warn({ event: "pill-write", server, via: via.name, bootId }, `writing the poison pill for ${server} through ${via.name}`);
    const p = writePill(this.d.ssh, via.endpoint, this.d.clusterRoot, pillFor(server, bootId, "watchdog", reason, sentAt), timeoutMs, (a) => this.d.guard(a)).then(
      () => {
        this.d.onPill("ok");
        this.d.push({ kind: "pill-result", server, outcome: "ok", detail: `through ${via.name}`, sentAt, answeredAt: Date.now() });
      },
      (e: Error) => {
        this.#rotate(via.name);
        const o = outcome(e);
        this.d.onPill(o);
        this.d.push({ kind: "pill-result", server, outcome: o, detail: `through ${via.name}: ${e.message}`, sentAt, answeredAt: Date.now() });
      },
    );
    this.d.track(p.finally(() => this.d.wake()));
  }
}
