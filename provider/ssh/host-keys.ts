// Host key verification: the decision for a presented key (pinned fingerprint, else known_hosts, else trust on
// first use when asked for).
import { HostKeyMismatchError, UnknownHostKeyError } from "./errors";
import { fingerprintOf, keyTypeOf } from "./fingerprint";
import { appendKnownHost, lookupKnownHost, readKnownHosts } from "./known-hosts";

/** Where a server's identity comes from. */
export interface HostKeyPolicy {
  /** Pinned `SHA256:...` fingerprint: when set, only this key is accepted. */
  fingerprint?: string;
  knownHostsPath?: string;
  /** Accept and record (in knownHostsPath) a key for a host known_hosts does not list yet. */
  trustOnFirstUse?: boolean;
}

/**
 * Checks a presented host key; resolves when accepted (after recording it for trust on first use), throws
 * HostKeyMismatchError or UnknownHostKeyError otherwise.
 */
export async function verifyHostKey(
  server: { name: string; address: string; port: number },
  policy: HostKeyPolicy,
  keyBlob: Buffer,
): Promise<void> {
  const presented = fingerprintOf(keyBlob);
  if (policy.fingerprint) {
    if (normalizeFingerprint(policy.fingerprint) === presented) return;
    throw new HostKeyMismatchError(server.name, [policy.fingerprint], presented);
  }
  if (!policy.knownHostsPath) {
    throw new UnknownHostKeyError(server.name, presented, "no pinned fingerprint and no known_hosts file configured");
  }
  const { keys, revoked } = lookupKnownHost(await readKnownHosts(policy.knownHostsPath), server.address, server.port);
  if (revoked.some((e) => e.fingerprint === presented)) {
    throw new HostKeyMismatchError(
      server.name,
      keys.filter((e) => e.fingerprint !== presented).map((e) => e.fingerprint),
      `${presented} (revoked in ${policy.knownHostsPath})`,
    );
  }
  if (keys.some((e) => e.fingerprint === presented)) return;
  if (keys.length > 0) {
    throw new HostKeyMismatchError(server.name, [...new Set(keys.map((e) => e.fingerprint))], presented);
  }
  if (!policy.trustOnFirstUse) throw new UnknownHostKeyError(server.name, presented, policy.knownHostsPath);
  await appendKnownHost(policy.knownHostsPath, server.address, server.port, keyTypeOf(keyBlob), keyBlob);
}

/** Accepts fingerprints with or without base64 padding. */
function normalizeFingerprint(fp: string): string {
  return fp.trim().replace(/=+$/, "");
}
