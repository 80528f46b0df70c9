// SSH credentials and timing from the stack's config, as `configure` receives it. Never from resource inputs: a
// secret there would be written into Pulumi state.
import * as fs from "fs";
import type { SshCredentials } from "../ssh";

/** The stack config keys the providers read (set in the user's own project, e.g. `pulumi config set --secret sshPrivateKey`). */
export const CONFIG_KEYS = {
  user: "sshUser",
  privateKey: "sshPrivateKey",
  privateKeyPath: "sshPrivateKeyPath",
  passphrase: "sshPassphrase",
  agent: "sshAgent",
  knownHosts: "sshKnownHosts",
  trustOnFirstUse: "sshTrustOnFirstUse",
  sudo: "sshSudo",
  connectTimeoutMs: "sshConnectTimeoutMs",
  commandTimeoutMs: "sshCommandTimeoutMs",
} as const;

export interface ConfigReader {
  get(key: string): string | undefined;
}

export interface ProviderSettings {
  credentials: SshCredentials;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

export class ProviderConfigError extends Error {}

function bool(config: ConfigReader, key: string): boolean | undefined {
  const v = config.get(key);
  if (v === undefined || v === "") return undefined;
  if (v === "true") return true;
  if (v === "false") return false;
  throw new ProviderConfigError(`stack config ${key} must be true or false, got '${v}'`);
}

function positiveInt(config: ConfigReader, key: string, fallback: number): number {
  const v = config.get(key);
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new ProviderConfigError(`stack config ${key} must be a whole number of milliseconds > 0, got '${v}'`);
  return n;
}

/** Reads the settings; the error names the config key and never echoes a secret value. */
export function readSettings(config: ConfigReader): ProviderSettings {
  const user = config.get(CONFIG_KEYS.user) || "root";
  let privateKey = config.get(CONFIG_KEYS.privateKey) || undefined;
  const keyPath = config.get(CONFIG_KEYS.privateKeyPath);
  if (!privateKey && keyPath) {
    try {
      privateKey = fs.readFileSync(keyPath, "utf8");
    } catch (e) {
      throw new ProviderConfigError(`stack config ${CONFIG_KEYS.privateKeyPath}: cannot read '${keyPath}' (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
  }
  const agent = bool(config, CONFIG_KEYS.agent);
  if (!privateKey && !agent) {
    throw new ProviderConfigError(
      `no SSH credentials in the stack config: set ${CONFIG_KEYS.privateKey} (pulumi config set --secret ${CONFIG_KEYS.privateKey} < KEYFILE), ${CONFIG_KEYS.privateKeyPath}, or ${CONFIG_KEYS.agent}=true`,
    );
  }
  const sudo = bool(config, CONFIG_KEYS.sudo) ?? user !== "root";
  return {
    credentials: {
      user,
      privateKey,
      passphrase: config.get(CONFIG_KEYS.passphrase) || undefined,
      agent: agent ? true : undefined,
      knownHostsPath: config.get(CONFIG_KEYS.knownHosts) || undefined,
      trustOnFirstUse: bool(config, CONFIG_KEYS.trustOnFirstUse) ?? false,
      sudo,
    },
    connectTimeoutMs: positiveInt(config, CONFIG_KEYS.connectTimeoutMs, 10000),
    commandTimeoutMs: positiveInt(config, CONFIG_KEYS.commandTimeoutMs, 120000),
  };
}
