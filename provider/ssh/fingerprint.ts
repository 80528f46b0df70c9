// Host key identity: SHA256 fingerprints as `ssh-keygen -lf` prints them, and the key type of a key blob.
import { createHash } from "crypto";

/** `SHA256:<base64 without padding>` of a public key blob (the wire form, as in known_hosts base64). */
export function fingerprintOf(keyBlob: Buffer): string {
  return "SHA256:" + createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "");
}

/** The key type named at the start of a public key blob (`ssh-ed25519`, `ssh-rsa`, ...). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return "unknown";
  const n = keyBlob.readUInt32BE(0);
  if (n <= 0 || 4 + n > keyBlob.length) return "unknown";
  return keyBlob.subarray(4, 4 + n).toString("latin1");
}
