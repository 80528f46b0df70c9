// What a successor needs from the state, for "write on change only": the core's state changes every heartbeat
// (listing times, memory figures, sightings), but a new leader relearns those in one heartbeat. Decisions do not:
// commands in flight, doubts, fences, drains, restart budgets, server and guest states. The full state is written
// whenever this view of it changes.
// Miss counters too: a successor that starts counting from an older value detects a failure at most
// heartbeatMisses rounds later (liveness), never earlier (safety). Measured: with them, 83 writes a minute for 16
// servers on a loaded machine (slow xm listings toggle them), mostly for nothing.
// The disk heartbeat record changes every round and a successor relearns it (restoreState drops it).
const VOLATILE_SERVER_KEYS = ["lastOkAt", "listingSentAt", "contactSentAt", "freeMemoryMb", "totalMemoryMb", "dom0CpuSeconds", "misses", "xmMisses", "firstMissAt", "disk"];

export function durableView(stateJson: string): string {
  const s = JSON.parse(stateJson) as { servers?: Record<string, Record<string, unknown>>; guests?: Record<string, Record<string, unknown>>; slotsSentAt?: number };
  delete s.slotsSentAt;
  for (const st of Object.values(s.servers ?? {})) {
    for (const k of VOLATILE_SERVER_KEYS) delete st[k];
    // Degraded or not matters (not a target); since when and what xm said do not.
    if (st.degraded) st.degraded = true;
    // Guests listed: only who runs there, not their figures.
    if (Array.isArray(st.guests)) st.guests = (st.guests as { name?: string }[]).map((g) => g.name).sort();
  }
  for (const g of Object.values(s.guests ?? {})) delete g.sightings;
  return JSON.stringify(s);
}
