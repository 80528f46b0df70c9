// SSH keys of the lab: one root login key, one host key per server. Made with OpenSSH's own ssh-keygen.
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";

export function generateKey(file: string, comment: string): void {
  if (fs.existsSync(file)) return;
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], { stdio: "ignore" });
}

/** SHA256 fingerprint of a public key file, as `ssh-keygen -lf` prints it: `SHA256:<base64, no padding>`. */
export function fingerprintOf(pubFile: string): string {
  const blob = fs.readFileSync(pubFile, "utf8").trim().split(/\s+/)[1];
  return "SHA256:" + createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "");
}

export function publicKeyLine(pubFile: string): string {
  const [type, blob] = fs.readFileSync(pubFile, "utf8").trim().split(/\s+/);
  return `${type} ${blob}`;
}
