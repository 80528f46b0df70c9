// The seed's placement rule (Oracle VM 2.1, "Preferred Server"), written once for the providers (where a new
// guest starts, where an evacuated one goes) and the watchdog (where a failed-over or drained one goes). Pure.
//
// Preferred list: the first listed server that is a candidate and has room (strict: a guest whose preferred servers
// are all unavailable waits rather than running elsewhere). Auto: the candidate with the most free memory that has
// room; ties go to the earlier server in pool order (candidates arrive in pool order).

export type ServerName = string;

export interface Candidate {
  name: ServerName;
  /** Free memory now, less what starts and migrations already on their way there will take. */
  freeMemoryMb: number;
}

export type Preferred = "auto" | readonly ServerName[];

/** The rule itself: the chosen candidate, or undefined when none fits. */
export function pickServer(memoryMb: number, preferred: Preferred, candidates: readonly Candidate[]): Candidate | undefined {
  const fits = (c: Candidate) => c.freeMemoryMb >= memoryMb;
  if (preferred === "auto") {
    let best: Candidate | undefined;
    for (const c of candidates) if (fits(c) && (!best || c.freeMemoryMb > best.freeMemoryMb)) best = c;
    return best;
  }
  for (const name of preferred) {
    const c = candidates.find((x) => x.name === name);
    if (c && fits(c)) return c;
  }
  return undefined;
}

// ---- seed 9.4: a server with an agent is a target only once its configuration is propagated ------------------

export type TargetVerdict = { ok: true } | { ok: false; reason: string };

/**
 * "When an Oracle VM Agent is started in the server pool, this propagation is repeated for that Oracle VM Server."
 * A server whose fence uses the storage (storage or levels with storage), or whose agent writes a slot, is a
 * failover target only while its slot says `ready` (its cluster.conf and repositories match the pool record) and
 * its agent renews it (a server whose agent cannot renew is about to reset itself).
 * @param slot the last slot read (undefined: none), `renewed`: its seq changed within the agent's lease.
 */
export function slotAllowsTarget(usesStorage: boolean, slot: { state: string; renewed: boolean } | undefined): TargetVerdict {
  if (!slot) return usesStorage ? { ok: false, reason: "no agent slot (its fence uses the storage: the agent must run)" } : { ok: true };
  if (slot.state !== "ready") return { ok: false, reason: `agent slot says ${slot.state}, not ready` };
  if (!slot.renewed) return { ok: false, reason: "agent slot not renewed within its lease" };
  return { ok: true };
}

// ---- the watchdog's view: a choice with the reason it logs -------------------------------------------------

export interface PlacementGuest {
  name: string;
  memoryMb: number;
  preferred: Preferred;
  priority: number;
}

export type Choice = { server: ServerName; reason: string } | { server: undefined; reason: string };

export function chooseTarget(guest: PlacementGuest, candidates: readonly Candidate[]): Choice {
  const picked = pickServer(guest.memoryMb, guest.preferred, candidates);
  if (guest.preferred === "auto") {
    if (picked) return { server: picked.name, reason: `auto: most free memory (${picked.freeMemoryMb} MB)` };
    return {
      server: undefined,
      reason: candidates.length ? `auto: no available server has ${guest.memoryMb} MB free` : "auto: no server available",
    };
  }
  const skipped: string[] = [];
  for (const [i, name] of guest.preferred.entries()) {
    const c = candidates.find((x) => x.name === name);
    if (picked && name === picked.name) {
      return { server: name, reason: `preferred #${i + 1}${skipped.length ? ` (${skipped.join(", ")})` : ""}` };
    }
    skipped.push(!c ? `${name} unavailable` : `${name} full (${c.freeMemoryMb} MB free)`);
  }
  return { server: undefined, reason: `no preferred server available (${skipped.join(", ")})` };
}

/** Higher priority first; equal priority by name, so the order is the same on every run. */
export function byPriority<T extends { name: string; priority: number }>(guests: T[]): T[] {
  return [...guests].sort((a, b) => b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Places guests in priority order, subtracting each placed guest's memory from its target (no overcommit). */
export function planPlacements(guests: PlacementGuest[], candidates: Candidate[]): { guest: string; choice: Choice }[] {
  const free = candidates.map((c) => ({ ...c }));
  return byPriority(guests).map((g) => {
    const choice = chooseTarget(g, free);
    if (choice.server !== undefined) free.find((x) => x.name === choice.server)!.freeMemoryMb -= g.memoryMb;
    return { guest: g.name, choice };
  });
}

// ---- the providers' view: a placement, or why not naming every server ----------------------------------------

export type Placement = { ok: true; server: ServerName } | { ok: false; reason: string };

/**
 * @param up the servers that answered, in pool order.
 * @param all every pool server, in pool order (to name the ones that did not answer).
 */
export function placeGuest(memoryMb: number, preferred: Preferred, up: readonly Candidate[], all: readonly ServerName[] = up.map((c) => c.name)): Placement {
  const picked = pickServer(memoryMb, preferred, up);
  if (picked) return { ok: true, server: picked.name };
  const down = all.filter((n) => !up.some((c) => c.name === n));
  const describe = (names: readonly string[]): string =>
    names
      .map((n) => {
        const c = up.find((x) => x.name === n);
        return c ? `${n} has ${c.freeMemoryMb} MB free` : `${n} is not reachable`;
      })
      .join(", ");
  if (preferred === "auto") return { ok: false, reason: `${memoryMb} MB fits on no server of the pool (${describe([...up.map((c) => c.name), ...down])})` };
  return { ok: false, reason: `${memoryMb} MB fits on none of the preferred servers (${describe(preferred)})` };
}
