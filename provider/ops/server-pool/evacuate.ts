// Before servers leave the pool, every guest running on them is live-migrated (`xm migrate -l`) to a server that
// stays and has room: its HA record's preferred servers first, then the one with the most free memory. The whole
// plan is made before anything moves, so a removal that would strand a guest fails without changing anything.
import { GuestRecord, GuestRecordSchema } from "../../../ha/ha-record";
import type { ServerEndpoint } from "../../ssh";
import { xmMigrate } from "../../commands";
import { run } from "../../runtime/remote";
import { placeGuest } from "../../../ha/placement";
import { readFiles } from "./propagate";
import { probeServer, reasonOf, runningGuests, ServerProbe } from "./server-probe";

export interface Move {
  guest: string;
  memoryMb: number;
  from: string;
  to: string;
}

export interface EvacuationPlan {
  moves: Move[];
  /** Guests with nowhere to go, and why. */
  stranded: { guest: string; from: string; reason: string }[];
}

/** Pure: plans the moves of the leaving servers' running guests onto the staying ones. */
export function planEvacuation(leaving: readonly ServerProbe[], staying: readonly ServerProbe[], records: ReadonlyMap<string, GuestRecord | undefined>): EvacuationPlan {
  const free = new Map(staying.map((p) => [p.server, p.info.freeMemoryMb]));
  const plan: EvacuationPlan = { moves: [], stranded: [] };
  const guests = leaving.flatMap((p) => runningGuests(p).map((d) => ({ from: p.server, d })));
  // Higher priority first (as the watchdog orders failovers), then bigger guests, so the hardest fit goes first.
  guests.sort((a, b) => (records.get(b.d.name)?.priority ?? 0) - (records.get(a.d.name)?.priority ?? 0) || b.d.memoryMb - a.d.memoryMb);
  for (const { from, d } of guests) {
    const candidates = staying.map((p) => ({ name: p.server, freeMemoryMb: free.get(p.server)! }));
    const pref = records.get(d.name)?.preferred ?? "auto";
    let placed = pref === "auto" ? placeGuest(d.memoryMb, "auto", candidates) : placeGuest(d.memoryMb, pref, candidates);
    if (!placed.ok && pref !== "auto") placed = placeGuest(d.memoryMb, "auto", candidates);
    if (!placed.ok) {
      plan.stranded.push({ guest: d.name, from, reason: placed.reason });
      continue;
    }
    free.set(placed.server, free.get(placed.server)! - d.memoryMb);
    plan.moves.push({ guest: d.name, memoryMb: d.memoryMb, from, to: placed.server });
  }
  return plan;
}

export class EvacuationError extends Error {}

/** Probes, plans, and (when the plan strands nobody) performs the migrations, one at a time. */
export async function evacuate(
  leaving: ServerEndpoint[],
  staying: ServerEndpoint[],
  o: { pool: string; repository: string; master: ServerEndpoint },
): Promise<Move[]> {
  if (leaving.length === 0) return [];
  const probe = async (s: ServerEndpoint) => probeServer(s).then((p) => ({ ok: true as const, p }), (e) => ({ ok: false as const, s, e }));
  const [out, stay] = await Promise.all([Promise.all(leaving.map(probe)), Promise.all(staying.map(probe))]);
  const unreachable = out.filter((r) => !r.ok);
  if (unreachable.length > 0) {
    throw new EvacuationError(
      `server pool ${o.pool}: cannot remove ${unreachable.map((r) => (r.ok ? "" : `${r.s.name} (unreachable: ${reasonOf(r.e)})`)).join(", ")}: ` +
        `its running guests cannot be seen, so they cannot be migrated away; nothing was changed`,
    );
  }
  const leavingProbes = out.flatMap((r) => (r.ok ? [r.p] : []));
  const stayingProbes = stay.flatMap((r) => (r.ok ? [r.p] : []));
  const names = leavingProbes.flatMap((p) => runningGuests(p).map((d) => d.name));
  if (names.length === 0) return [];
  const files = await readFiles(o.master, names.map((n) => `${o.repository}/running_pool/${n}/ha.json`));
  const records = new Map<string, GuestRecord | undefined>();
  for (const n of names) {
    const text = files.get(`${o.repository}/running_pool/${n}/ha.json`);
    let rec: GuestRecord | undefined;
    try {
      const parsed = text === undefined ? undefined : GuestRecordSchema.safeParse(JSON.parse(text));
      rec = parsed?.success ? parsed.data : undefined;
    } catch {
      rec = undefined;
    }
    records.set(n, rec);
  }
  const plan = planEvacuation(leavingProbes, stayingProbes, records);
  if (plan.stranded.length > 0) {
    throw new EvacuationError(
      `server pool ${o.pool}: removing ${leaving.map((s) => s.name).join(", ")} would strand ${plan.stranded.length} guest(s); nothing was changed:\n` +
        plan.stranded.map((s) => `  - guest ${s.guest} on ${s.from}: ${s.reason}`).join("\n"),
    );
  }
  const byName = new Map([...leaving, ...staying].map((s) => [s.name, s]));
  const done: Move[] = [];
  for (const m of plan.moves) {
    try {
      await run(byName.get(m.from)!, xmMigrate(m.guest, byName.get(m.to)!.address, true), { write: true, timeoutMs: 120000 });
    } catch (e) {
      const err = new EvacuationError(`server pool ${o.pool}: live migration of guest ${m.guest} from ${m.from} to ${m.to} failed: ${reasonOf(e)}`);
      (err as EvacuationError & { done: Move[] }).done = done;
      throw err;
    }
    done.push(m);
  }
  return done;
}
