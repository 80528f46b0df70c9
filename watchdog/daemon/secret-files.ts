// Files the watchdog reads secrets from (fence password files, the status token, the SSH key and its
// passphrase) must be private: no access for group or others (0600 or stricter), owned by root or the user the
// watchdog runs as. Checked at start (all problems at once) and again each time a secret is read.
import * as fs from "fs";
import type { WatchdogConfig } from "./config";

export class SecretFileError extends Error {}

export interface SecretFile {
  file: string;
  /** The config key that names it, for the message. */
  key: string;
}

/** Every secret file the config names, with the key that names it. */
export function secretFiles(config: WatchdogConfig): SecretFile[] {
  const out: SecretFile[] = [];
  if (config.ssh.privateKeyFile) out.push({ file: config.ssh.privateKeyFile, key: "ssh.privateKeyFile" });
  if (config.ssh.passphraseFile) out.push({ file: config.ssh.passphraseFile, key: "ssh.passphraseFile" });
  for (const [server, f] of Object.entries(config.fence)) if (f.passwordFile) out.push({ file: f.passwordFile, key: `fence.${server}.passwordFile` });
  if (config.metrics?.statusTokenFile) out.push({ file: config.metrics.statusTokenFile, key: "metrics.statusTokenFile" });
  return out;
}

/** Why this file may not hold a secret, or undefined when it may. */
export function secretFileProblem(file: string, key: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    return `${key}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  if (!st.isFile()) return `${key}: ${file} is not a regular file`;
  const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
  if ((st.mode & 0o077) !== 0) {
    return `${key}: ${file} has mode ${mode}: group or others may read it; it must be 0600 or stricter (chmod 600 ${file})`;
  }
  const me = typeof process.getuid === "function" ? process.getuid() : 0;
  if (st.uid !== 0 && st.uid !== me) {
    return `${key}: ${file} (mode ${mode}) is owned by uid ${st.uid}: it must be owned by root or the watchdog's user (uid ${me}) (chown ${me === 0 ? "root" : me} ${file})`;
  }
  return undefined;
}

/** Throws one error naming every secret file that is not private. */
export function assertSecretFilesPrivate(files: SecretFile[]): void {
  const problems = files.map((f) => secretFileProblem(f.file, f.key)).filter((p): p is string => p !== undefined);
  if (problems.length) throw new SecretFileError(`refusing to start: secret files must be private:\n  ${problems.join("\n  ")}`);
}

/** Reads a secret from a file, after checking it is private; one trailing newline is dropped. */
export function readSecretFile(file: string, key: string): string {
  const problem = secretFileProblem(file, key);
  if (problem) throw new SecretFileError(problem);
  return fs.readFileSync(file, "utf8").replace(/\r?\n$/, "");
}

const MIN_TOKEN_CHARS = 16;

/** The /status bearer token, when the config names a token file. */
export function readStatusToken(config: WatchdogConfig): string | undefined {
  const file = config.metrics?.statusTokenFile;
  if (file === undefined) return undefined;
  const token = readSecretFile(file, "metrics.statusTokenFile").trim();
  if (token.length < MIN_TOKEN_CHARS || /\s/.test(token)) {
    throw new SecretFileError(`metrics.statusTokenFile: ${file} must hold one token of at least ${MIN_TOKEN_CHARS} characters without spaces (e.g. openssl rand -hex 32 > ${file})`);
  }
  return token;
}
