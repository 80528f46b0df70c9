// OpenSSH known_hosts files: parsing, lookup by host and port (plain and hashed `|1|salt|hash` names,
// `[host]:port` form, `*`/`?` wildcards and `!` negation), and appending a new entry (trust on first use).
import { createHmac } from "crypto";
import { promises as fs } from "fs";
import { fingerprintOf } from "./fingerprint";

export interface KnownHostEntry {
  /** `@revoked` keys are refused; `@cert-authority` lines are kept but never match (no certificate support). */
  marker: "revoked" | "cert-authority" | null;
  /** The raw comma-separated host patterns. */
  hosts: string;
  keyType: string;
  /** The public key blob (base64-decoded). */
  key: Buffer;
  fingerprint: string;
  line: number;
}

/** Parses a known_hosts file; comments, blank and malformed lines are skipped. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const l = raw.trim();
    if (l === "" || l.startsWith("#")) return;
    const fields = l.split(/\s+/);
    let marker: KnownHostEntry["marker"] = null;
    if (fields[0].startsWith("@")) {
      const m = fields.shift()!;
      if (m === "@revoked") marker = "revoked";
      else if (m === "@cert-authority") marker = "cert-authority";
      else return;
    }
    if (fields.length < 3) return;
    const [hosts, keyType, b64] = fields;
    if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) return;
    const key = Buffer.from(b64, "base64");
    if (key.length === 0) return;
    out.push({ marker, hosts, keyType, key, fingerprint: fingerprintOf(key), line: i + 1 });
  });
  return out;
}

/** How OpenSSH names a host in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function wildcardMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    "^" + pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$",
    "i",
  );
  return re.test(name);
}

function hashedMatch(pattern: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
  const parts = pattern.split("|");
  if (parts.length !== 4 || parts[1] !== "1") return false;
  const salt = Buffer.from(parts[2], "base64");
  const expected = Buffer.from(parts[3], "base64");
  const actual = createHmac("sha1", salt).update(name).digest();
  return expected.length === actual.length && expected.equals(actual);
}

/** Whether an entry's host patterns match `name` (as produced by knownHostsName). A negated match wins. */
export function hostsMatch(hosts: string, name: string): boolean {
  if (hosts.startsWith("|")) return hashedMatch(hosts, name);
  let matched = false;
  for (const p of hosts.split(",")) {
    if (p.startsWith("!")) {
      if (wildcardMatch(p.slice(1), name)) return false;
    } else if (wildcardMatch(p, name)) {
      matched = true;
    }
  }
  return matched;
}

/** Entries of `entries` that concern host:port, split into accepted keys and revoked keys. */
export function lookupKnownHost(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
): { keys: KnownHostEntry[]; revoked: KnownHostEntry[] } {
  const name = knownHostsName(host, port);
  const keys: KnownHostEntry[] = [];
  const revoked: KnownHostEntry[] = [];
  for (const e of entries) {
    if (e.marker === "revoked") {
      // A revoked entry applies to the hosts its patterns name (`*` names every host).
      if (hostsMatch(e.hosts, name)) revoked.push(e);
    } else if (e.marker === null && hostsMatch(e.hosts, name)) {
      keys.push(e);
    }
  }
  return { keys, revoked };
}

/** The known_hosts line for a key: `name keytype base64`. */
export function formatKnownHostsLine(host: string, port: number, keyType: string, key: Buffer): string {
  return `${knownHostsName(host, port)} ${keyType} ${key.toString("base64")}`;
}

/** Reads a known_hosts file; a missing file is empty. */
export async function readKnownHosts(path: string): Promise<KnownHostEntry[]> {
  try {
    return parseKnownHosts(await fs.readFile(path, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
}

/** Appends one entry (creating the file with mode 0600), adding a newline first if the file lacks one. */
export async function appendKnownHost(path: string, host: string, port: number, keyType: string, key: Buffer): Promise<void> {
  let prefix = "";
  try {
    const cur = await fs.readFile(path, "utf8");
    if (cur.length > 0 && !cur.endsWith("\n")) prefix = "\n";
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  await fs.appendFile(path, prefix + formatKnownHostsLine(host, port, keyType, key) + "\n", { mode: 0o600 });
}
