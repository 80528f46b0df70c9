// Where a guest starts (seed 9.1, "Preferred Server"): the first server of its ordered list that is up and has the
// memory free; with `auto`, the up server with the most free memory (ties: pool order). Pure.

export interface Candidate {
  name: string;
  /** Free memory now, less what starts already on their way will take. */
  freeMemoryMb: number;
}

export type Preferred = "auto" | readonly string[];

export type Placement = { ok: true; server: string } | { ok: false; reason: string };

/**
 * @param up the servers that answered, in pool order.
 * @param all every pool server, in pool order (to name the ones that did not answer).
 */
export function placeGuest(memoryMb: number, preferred: Preferred, up: readonly Candidate[], all: readonly string[] = up.map((c) => c.name)): Placement {
  const down = all.filter((n) => !up.some((c) => c.name === n));
  const describe = (names: readonly string[]): string =>
    names
      .map((n) => {
        const c = up.find((x) => x.name === n);
        return c ? `${n} has ${c.freeMemoryMb} MB free` : `${n} is not reachable`;
      })
      .join(", ");
  if (preferred === "auto") {
    let best: Candidate | undefined;
    for (const c of up) if (c.freeMemoryMb >= memoryMb && (!best || c.freeMemoryMb > best.freeMemoryMb)) best = c;
    if (best) return { ok: true, server: best.name };
    return { ok: false, reason: `${memoryMb} MB fits on no server of the pool (${describe([...up.map((c) => c.name), ...down])})` };
  }
  for (const name of preferred) {
    const c = up.find((x) => x.name === name);
    if (c && c.freeMemoryMb >= memoryMb) return { ok: true, server: name };
  }
  return { ok: false, reason: `${memoryMb} MB fits on none of the preferred servers (${describe(preferred)})` };
}
