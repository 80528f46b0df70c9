// The pool's servers as SSH endpoints and HA-record entries, master first (pool order).
import type { ServerEndpoint } from "../../ssh";
import type { ServerInput } from "../../schemas/common";
import type { Known } from "../../schemas/common";

export type KnownServer = Known<ServerInput>;

export function endpointOf(s: KnownServer): ServerEndpoint {
  return { name: s.name, address: s.address, port: s.port, ...(s.hostKeyFingerprint ? { hostKeyFingerprint: s.hostKeyFingerprint } : {}) };
}

/** Master first, then members in the order given. */
export function poolServers(p: { master: KnownServer; members: KnownServer[] }): KnownServer[] {
  return [p.master, ...p.members];
}
