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
