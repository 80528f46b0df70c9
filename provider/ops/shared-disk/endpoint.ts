// A server input (name, address, SSH port, optional host key fingerprint) as the SSH layer's endpoint. The
// fingerprint pins the host key; without it the stack config's known_hosts decides.
import type { ServerEndpoint } from "../../ssh";

export interface ServerInputLike {
  name: string;
  address: string;
  port: number;
  hostKeyFingerprint?: string;
}

export function endpointOf(s: ServerInputLike): ServerEndpoint {
  return { name: s.name, address: s.address, port: s.port, ...(s.hostKeyFingerprint ? { hostKeyFingerprint: s.hostKeyFingerprint } : {}) };
}
