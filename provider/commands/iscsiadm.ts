import { integerInRange, iscsiName, iscsiPortal } from "./argument-rules";

/** `iscsiadm -m discovery -t sendtargets -p PORTAL` */
export function iscsiDiscovery(portal: string): string[] {
  return ["iscsiadm", "-m", "discovery", "-t", "sendtargets", "-p", iscsiPortal("portal", portal)];
}

/** `iscsiadm -m node` — lists the node records (targets) the initiator knows. */
export function iscsiNodes(): string[] {
  return ["iscsiadm", "-m", "node"];
}

/** `iscsiadm -m node -p PORTAL[,TPGT] -T IQN -o delete`, as in the seed chapter (step 4). */
export function iscsiNodeDelete(portal: string, tpgt: number | undefined, iqn: string): string[] {
  const p = iscsiPortal("portal", portal);
  const withTpgt = tpgt === undefined ? p : `${p},${integerInRange("tpgt", tpgt, 0, 65535)}`;
  return ["iscsiadm", "-m", "node", "-p", withTpgt, "-T", iscsiName("iqn", iqn), "-o", "delete"];
}

/** `iscsiadm -m node -T IQN -p PORTAL --login` (exit 15 = session already exists). */
export function iscsiLogin(portal: string, iqn: string): string[] {
  return ["iscsiadm", "-m", "node", "-T", iscsiName("iqn", iqn), "-p", iscsiPortal("portal", portal), "--login"];
}

/** `iscsiadm -m node -T IQN -p PORTAL --logout` (exit 21 = no session). */
export function iscsiLogout(portal: string, iqn: string): string[] {
  return ["iscsiadm", "-m", "node", "-T", iscsiName("iqn", iqn), "-p", iscsiPortal("portal", portal), "--logout"];
}

/** `iscsiadm -m session` (exit 21 with `No active sessions.` when there are none). */
export function iscsiSessions(): string[] {
  return ["iscsiadm", "-m", "session"];
}
