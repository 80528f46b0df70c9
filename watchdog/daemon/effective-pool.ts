// The pool record as the decision core should see it on this watchdog: timing overrides from the config, and
// fence methods as this watchdog can carry them out. A power fence needs a command in the config; a server
// whose record says "power" but has no command here is treated as "none" (its guests stay put) and said so.
import { TimingSchema, type PoolRecord } from "../../ha/ha-record";
import { fenceFor, type WatchdogConfig } from "./config";
import { fenceArgv } from "./fence-runner";

export function effectivePool(record: PoolRecord, config: WatchdogConfig): { pool: PoolRecord; problems: string[] } {
  const problems: string[] = [];
  const timing = TimingSchema.safeParse({ ...record.timing, ...config.timing });
  if (!timing.success) throw new Error(`timing overrides: ${timing.error.issues.map((i) => i.message).join("; ")}`);
  const servers = record.servers.map((s) => {
    const f = fenceFor(config, s.name);
    // Storage needs nothing from this config (the pill goes through SSH); levels keep their power level only
    // where this config has a fence command for it.
    if (s.fence.method === "storage") return s;
    if (s.fence.method === "levels") {
      if (f) return { ...s, fence: { method: "levels" as const, levels: s.fence.levels.map((l) => (l.method === "power" ? { method: "power" as const, command: fenceArgv(f, { name: s.name, address: s.address }, undefined).display } : l)) } };
      const rest = s.fence.levels.filter((l) => l.method !== "power");
      if (rest.length < s.fence.levels.length) problems.push(`server ${s.name}: the pool record's fencing levels start with a power fence but this watchdog's config has no fence command for it: storage level only`);
      return { ...s, fence: rest.length ? { method: "levels" as const, levels: rest } : { method: "none" as const } };
    }
    if (f) return { ...s, fence: { method: "power" as const, command: fenceArgv(f, { name: s.name, address: s.address }, undefined).display } };
    if (s.fence.method === "power") {
      problems.push(`server ${s.name}: the pool record asks for a power fence but this watchdog's config has no fence command for it: treated as no fence method`);
      return { ...s, fence: { method: "none" as const } };
    }
    return s;
  });
  const pool: PoolRecord = { ...record, timing: timing.data, servers };
  return { pool, problems };
}
