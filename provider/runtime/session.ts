// One SSH pool per provider process: every resource of a `pulumi up` runs in the same process, so servers get one
// connection each for the whole run, reused across commands and resources.
import { createHash } from "crypto";
import { SshPool } from "../ssh";
import { ConfigReader, ProviderConfigError, ProviderSettings, readSettings } from "./credentials";
import { counters } from "./counters";

let settings: ProviderSettings | undefined;
let pool: SshPool | undefined;
let poolKey = "";

function keyOf(s: ProviderSettings): string {
  return createHash("sha256").update(JSON.stringify([s.credentials, s.connectTimeoutMs, s.commandTimeoutMs])).digest("hex");
}

/** Called from every provider's `configure`; the same settings keep the same pool. */
export function configure(config: ConfigReader): void {
  const next = readSettings(config);
  const key = keyOf(next);
  if (pool && key !== poolKey) {
    pool.close();
    pool = undefined;
  }
  settings = next;
  poolKey = key;
}

export function sshPool(): SshPool {
  if (!settings) {
    throw new ProviderConfigError("the ovm-ha provider was not configured with SSH credentials (configure was not called)");
  }
  if (!pool) {
    pool = new SshPool({ credentials: settings.credentials, connectTimeoutMs: settings.connectTimeoutMs, commandTimeoutMs: settings.commandTimeoutMs });
    counters.poolsCreated++;
  }
  return pool;
}

/** For tests and benchmarks: closes the connections (the next command reconnects). */
export function resetSession(): void {
  pool?.close();
  pool = undefined;
}
