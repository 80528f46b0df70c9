// What a successor needs from the state, for "write on change only": the core's state changes every heartbeat
// (listing times, memory figures, sightings), but a new leader relearns those in one heartbeat. Decisions do not:
// commands in flight, doubts, fences, drains, restart budgets, server and guest states. The full state is written
// whenever this view of it changes.
// Miss counters too: a successor that starts counting from an older value detects a failure at most
// heartbeatMisses rounds later (liveness), never earlier (safety). Measured: with them, 83 writes a minute for 16
// servers on a loaded machine (slow xm listings toggle them), mostly for nothing. The same holds for what follows
// from them (degraded, suspect), below. The disk heartbeat record changes every round and a successor relearns it
// (restoreState drops it).
const VOLATILE_SERVER_KEYS = ["lastOkAt", "listingSentAt", "contactSentAt", "freeMemoryMb", "totalMemoryMb", "dom0CpuSeconds", "misses", "xmMisses", "firstMissAt", "disk"];

export function durableView(stateJson: string): string {
  const s = JSON.parse(stateJson) as { servers?: Record<string, Record<string, unknown>>; guests?: Record<string, Record<string, unknown>>; slotsSentAt?: number };
  delete s.slotsSentAt;
  for (const st of Object.values(s.servers ?? {})) {
    for (const k of VOLATILE_SERVER_KEYS) delete st[k];
    // Relearned in one heartbeat, like the misses, and never a reason to act: measured on a machine at load 30-40
    // (2 cores), slow xm listings toggled `degraded` and short suspect spells wrote 36-61 times a minute for 16
    // servers. A successor may place a guest on a degraded server before its first slow listing (slower, never
    // twice); a degraded server answers, so it is never fenced either way. Suspect is a count of misses short of the
    // limit: a successor counts afresh (durable-state.ts resets misses), so it is written as the state it came from;
    // silentSince only qualifies late listings of the process that saw the silence.
    delete st.degraded;
    if (st.state === "suspect") st.state = st.suspectFrom ?? "up";
    delete st.suspectFrom;
    delete st.silentSince;
    if (st.state === "up") delete st.since; // an up server's `since` moves with each suspect spell
    // Guests listed: only who runs there, not their figures.
    if (Array.isArray(st.guests)) st.guests = (st.guests as { name?: string }[]).map((g) => g.name).sort();
  }
  for (const g of Object.values(s.guests ?? {})) delete g.sightings;
  return JSON.stringify(s);
}
