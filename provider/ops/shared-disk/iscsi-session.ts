// iSCSI on one server (seed 9.2.1 steps 3-5 and 7): node records for the selected targets only, logins, and
// the undo (logout, records removed) for delete. Re-runs do not rediscover when the records are already there.
import { iscsiDiscovery, iscsiLogin, iscsiLogout, iscsiNodeDelete, iscsiNodes } from "../../commands";
import { iscsiExitMeaning, IscsiTarget, parseIscsiDiscovery, parseIscsiNodes } from "../../parsers";
import { run } from "../../runtime/remote";
import type { ServerEndpoint } from "../../ssh";
import { step } from "./step";

/** `address:port` as iscsiadm's -p takes it (IPv6 in brackets). */
export function portalOf(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

async function nodeRecords(server: ServerEndpoint): Promise<IscsiTarget[]> {
  const r = await step("listing iSCSI node records (iscsiadm -m node)", server, () => run(server, iscsiNodes(), { okCodes: [0, 21] }));
  return r.code === 21 ? [] : parseIscsiNodes(r.stdout);
}

/**
 * Makes the node records of `portal` exactly the selected targets: discovery (which records every target of the
 * portal) then deletion of the others. Skipped when the selected targets already have records and no other
 * record of that portal exists. Returns whether it changed anything.
 */
export async function ensureNodeRecords(server: ServerEndpoint, portal: string, targets: readonly string[]): Promise<boolean> {
  const records = (await nodeRecords(server)).filter((t) => t.portal === portal);
  const settled = targets.every((iqn) => records.some((r) => r.iqn === iqn)) && records.every((r) => targets.includes(r.iqn));
  if (settled) return false;
  const found = parseIscsiDiscovery((await step(`iSCSI discovery on ${portal}`, server, () => run(server, iscsiDiscovery(portal), { write: true }))).stdout);
  const missing = targets.filter((iqn) => !found.some((t) => t.iqn === iqn));
  if (missing.length > 0) {
    throw new Error(
      `iSCSI discovery on ${portal} from ${server.name} does not offer ${missing.join(", ")} (it offers: ${found.map((t) => t.iqn).join(", ") || "nothing"})`,
    );
  }
  for (const t of found) {
    if (targets.includes(t.iqn)) continue;
    await step(`deleting the node record of ${t.iqn}`, server, () => run(server, iscsiNodeDelete(t.portal, t.tpgt, t.iqn), { okCodes: [0, 21], write: true }));
  }
  return true;
}

/** Logs in to a target; "session exists" (15) counts as done. Returns true when a new session was made. */
export async function loginTarget(server: ServerEndpoint, portal: string, iqn: string): Promise<boolean> {
  const r = await step(`iSCSI login to ${iqn}`, server, () => run(server, iscsiLogin(portal, iqn), { okCodes: [0, 15], write: true }));
  return iscsiExitMeaning(r.code ?? -1, "login").satisfied && r.code === 0;
}

/** Logs out of a target (no session is fine) and removes its node record (none is fine). */
export async function detachTarget(server: ServerEndpoint, portal: string, iqn: string): Promise<void> {
  await step(`iSCSI logout of ${iqn}`, server, () => run(server, iscsiLogout(portal, iqn), { okCodes: [0, 21], write: true }));
  await step(`deleting the node record of ${iqn}`, server, () => run(server, iscsiNodeDelete(portal, undefined, iqn), { okCodes: [0, 21], write: true }));
}
