// What the providers did in this process, for benchmarks ("zero remote writes on a no-change run").
export const counters = {
  poolsCreated: 0,
  commands: 0,
  /** Commands that change something on a server (file writes, formats, mounts, guest starts ...). */
  writes: 0,
};

export function resetCounters(): void {
  counters.poolsCreated = 0;
  counters.commands = 0;
  counters.writes = 0;
}
