// Pure target choice for a guest that must be started or migrated.
import type { GuestName, ServerName } from "./types";

export interface Candidate {
  name: ServerName;
  /** Free memory after subtracting starts and migrations already on their way there. */
  freeMemoryMb: number;
}

export interface PlacementGuest {
  name: GuestName;
  memoryMb: number;
  preferred: "auto" | ServerName[];
  priority: number;
}

export type Choice = { server: ServerName; reason: string } | { server: undefined; reason: string };

/**
 * Preferred list: the first listed server that is a candidate and has room (strict: a guest whose preferred
 * servers are all unavailable waits rather than running elsewhere). Auto: the candidate with the most free
 * memory that has room; ties go to the earlier server in pool order (candidates arrive in pool order).
 */
export function chooseTarget(guest: PlacementGuest, candidates: Candidate[]): Choice {
  const fits = (c: Candidate) => c.freeMemoryMb >= guest.memoryMb;
  if (guest.preferred === "auto") {
    let best: Candidate | undefined;
    for (const c of candidates) if (fits(c) && (!best || c.freeMemoryMb > best.freeMemoryMb)) best = c;
    if (best) return { server: best.name, reason: `auto: most free memory (${best.freeMemoryMb} MB)` };
    return {
      server: undefined,
      reason: candidates.length
        ? `auto: no available server has ${guest.memoryMb} MB free`
        : "auto: no server available",
    };
  }
  const skipped: string[] = [];
  for (const [i, name] of guest.preferred.entries()) {
    const c = candidates.find((x) => x.name === name);
    if (!c) {
      skipped.push(`${name} unavailable`);
      continue;
    }
    if (!fits(c)) {
      skipped.push(`${name} full (${c.freeMemoryMb} MB free)`);
      continue;
    }
    return { server: name, reason: `preferred #${i + 1}${skipped.length ? ` (${skipped.join(", ")})` : ""}` };
  }
  return { server: undefined, reason: `no preferred server available (${skipped.join(", ")})` };
}

/** Higher priority first; equal priority by name, so the order is the same on every run. */
export function byPriority<T extends { name: string; priority: number }>(guests: T[]): T[] {
  return [...guests].sort((a, b) => b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Places guests in priority order, subtracting each placed guest's memory from its target so that
 * no server is overcommitted by the batch.
 */
export function planPlacements(
  guests: PlacementGuest[],
  candidates: Candidate[],
): { guest: GuestName; choice: Choice }[] {
  const free = candidates.map((c) => ({ ...c }));
  return byPriority(guests).map((g) => {
    const choice = chooseTarget(g, free);
    if (choice.server !== undefined) {
      const c = free.find((x) => x.name === choice.server)!;
      c.freeMemoryMb -= g.memoryMb;
    }
    return { guest: g.name, choice };
  });
}
