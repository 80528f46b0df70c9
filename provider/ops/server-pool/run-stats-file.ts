// For benchmarks: when OVM_HA_RUN_STATS_FILE is set in the provider host's environment, every operation of the
// ServerPool and Guest providers ends by writing this process's counters (remote commands, remote writes) and
// the SSH pool's per-server counters (connections opened, commands run) to that file. One provider process is
// one `pulumi up`, so the file holds that run's figures. Nothing is written (or kept) when the variable is unset.
import * as fs from "fs";
import { counters } from "../../runtime/counters";
import { sshPool } from "../../runtime/session";

const seen = new Set<string>();

export function noteServers(names: Iterable<string>): void {
  if (!process.env.OVM_HA_RUN_STATS_FILE) return;
  for (const n of names) seen.add(n);
}

export function writeRunStats(): void {
  const file = process.env.OVM_HA_RUN_STATS_FILE;
  if (!file) return;
  let servers: Record<string, unknown> = {};
  try {
    const pool = sshPool();
    servers = Object.fromEntries([...seen].sort().map((n) => [n, pool.stats(n)]));
  } catch {
    servers = {};
  }
  const text = JSON.stringify({ pid: process.pid, counters: { ...counters }, servers });
  fs.writeFileSync(file + ".tmp", text);
  fs.renameSync(file + ".tmp", file);
}

/** Runs an operation, then records the figures (also when it fails). */
export async function withRunStats<T>(servers: Iterable<string>, body: () => Promise<T>): Promise<T> {
  noteServers(servers);
  try {
    return await body();
  } finally {
    writeRunStats();
  }
}
