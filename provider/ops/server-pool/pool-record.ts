// The pool's HA record (<clusterRoot>/.ovm-ha/pool.json, watchdog/core/ha-record.ts), written from the master onto
// the shared storage. The generation is bumped only when the content changes, so a no-change run writes nothing.
import { HA_RECORD_SCHEMA_VERSION, PoolRecord, PoolRecordSchema, describeIssues } from "../../../ha/ha-record";
import type { ServerEndpoint } from "../../ssh";
import type { KnownServerPoolInputs } from "../../schemas/server-pool";
import { ensureFile, readFile } from "../../runtime/remote";
import { poolServers } from "./pool-servers";

export function poolRecordPath(clusterRoot: string): string {
  return `${clusterRoot.replace(/\/+$/, "")}/.ovm-ha/pool.json`;
}

/** The record the inputs describe, at a given generation; validated against the watchdog's schema. */
export function buildPoolRecord(inputs: KnownServerPoolInputs, generation: number): PoolRecord {
  const fence = (inputs.fence ?? {}) as Record<string, PoolRecord["servers"][number]["fence"]>;
  const candidate = {
    schemaVersion: HA_RECORD_SCHEMA_VERSION,
    name: inputs.name,
    haEnabled: inputs.ha,
    servers: poolServers(inputs).map((s, i) => ({
      name: s.name,
      address: s.address,
      sshPort: s.port,
      role: i === 0 ? ("master" as const) : ("member" as const),
      fence: fence[s.name] ?? { method: "none" as const },
    })),
    timing: inputs.timing,
    generation,
  };
  const parsed = PoolRecordSchema.safeParse(candidate);
  if (!parsed.success) throw new Error(`the pool's HA record would be invalid: ${describeIssues(parsed.error).join("; ")}`);
  return parsed.data;
}

/** Stable text of a record (keys in schema order, 2-space indent, trailing newline). */
export function renderPoolRecord(record: PoolRecord): string {
  return JSON.stringify(record, null, 2) + "\n";
}

/** The record on the storage, or undefined when missing or unreadable as a record. */
export async function readPoolRecord(master: ServerEndpoint, path: string): Promise<{ record?: PoolRecord; text?: string }> {
  const text = await readFile(master, path);
  if (text === undefined) return {};
  try {
    const parsed = PoolRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? { record: parsed.data, text } : { text };
  } catch {
    return { text };
  }
}

/**
 * Writes the record when its content (generation aside) differs from the one on the storage, with the generation
 * bumped past the stored one. Returns the generation now on the storage and whether it was written.
 */
export async function writePoolRecord(master: ServerEndpoint, path: string, inputs: KnownServerPoolInputs): Promise<{ generation: number; written: boolean }> {
  const { record: current } = await readPoolRecord(master, path);
  if (current) {
    const same = renderPoolRecord(buildPoolRecord(inputs, current.generation)) === renderPoolRecord(current);
    if (same) return { generation: current.generation, written: false };
  }
  const generation = current ? current.generation + 1 : 1;
  const result = await ensureFile(master, path, renderPoolRecord(buildPoolRecord(inputs, generation)), { mode: "644" });
  return { generation, written: result === "written" };
}
