// What the manager's unit tests drive by hand: a pool of three servers (s1 the master, power fencing, default
// timing), the HA guest vm2 of 1 GB, and the polls of that pool (8 GB servers) without their times.
import { PoolRecordSchema, GuestRecordSchema, DEFAULT_TIMING, type GuestRecord } from "../../ha/ha-record";

export const pool = PoolRecordSchema.parse({
  schemaVersion: 1,
  name: "p",
  haEnabled: true,
  generation: 1,
  timing: DEFAULT_TIMING,
  servers: ["s1", "s2", "s3"].map((name, i) => ({ name, address: `192.0.2.${i + 1}`, role: i ? "member" : "master", fence: { method: "power" } })),
});

export function vm2(preferred: GuestRecord["preferred"]): GuestRecord {
  return GuestRecordSchema.parse({ schemaVersion: 1, name: "vm2", ha: true, preferred, memoryMb: 1024, vmCfgPath: "/OVS/running_pool/vm2/vm.cfg" });
}

/** A listing of `server` running `guests` (1 GB each). */
export const listing = (server: string, guests: string[] = []) => ({
  kind: "poll" as const,
  server,
  ok: true as const,
  guests: guests.map((name) => ({ name, memoryMb: 1024 })),
  totalMemoryMb: 8192,
  freeMemoryMb: 8192 - 1024 * guests.length,
});

/** No answer at all from `server`. */
export const silence = (server: string) => ({ kind: "poll" as const, server, ok: false as const, contact: "none" as const });
