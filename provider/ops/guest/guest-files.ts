// A guest's files in the repository's running_pool/NAME/ (seed 9.1): vm.cfg for `xm create` and ha.json, the
// guest's HA record for the watchdog (watchdog/core/ha-record.ts).
import { createHash } from "crypto";
import { GuestRecordSchema, HA_RECORD_SCHEMA_VERSION, describeIssues } from "../../../ha/ha-record";
import type { KnownGuestInputs } from "../../schemas/guest";
import { defaultImagePath, renderVmCfg, vmCfgModel, vmCfgPath } from "../../render/vm-cfg";

export const REPOSITORY = "/OVS";

export function guestDir(name: string): string {
  return `${REPOSITORY}/running_pool/${name}`;
}

export function haRecordPath(name: string): string {
  return `${guestDir(name)}/ha.json`;
}

export function cfgPath(name: string): string {
  return vmCfgPath(name, REPOSITORY);
}

export function imagePath(g: KnownGuestInputs): string {
  return g.disk.path ?? defaultImagePath(g.name, REPOSITORY);
}

/**
 * A MAC fixed for the guest's life when none is given (Xen would pick a new random one at every start): Xen's OUI
 * 00:16:3E with the lower half of its range, from a hash of pool and guest name, so a resumed create finds the same.
 */
export function generatedMac(pool: string, name: string): string {
  const h = createHash("sha256").update(`${pool}/${name}`).digest();
  const b = [h[0] & 0x7f, h[1], h[2]];
  return ["00", "16", "3E", ...b.map((x) => x.toString(16).toUpperCase().padStart(2, "0"))].join(":");
}

export function renderGuestVmCfg(g: KnownGuestInputs, mac: string): string {
  return renderVmCfg(vmCfgModel(g, { repository: REPOSITORY, mac }));
}

export function renderGuestRecord(g: KnownGuestInputs): string {
  const record = {
    schemaVersion: HA_RECORD_SCHEMA_VERSION,
    name: g.name,
    ha: g.ha,
    preferred: g.preferredServers === "auto" ? "auto" : [...g.preferredServers],
    priority: g.priority,
    memoryMb: g.memory,
    vcpus: g.vcpus,
    vmCfgPath: cfgPath(g.name),
  };
  const parsed = GuestRecordSchema.safeParse(record);
  if (!parsed.success) throw new Error(`guest ${g.name}: its HA record would be invalid: ${describeIssues(parsed.error).join("; ")}`);
  return JSON.stringify(parsed.data, null, 2) + "\n";
}
