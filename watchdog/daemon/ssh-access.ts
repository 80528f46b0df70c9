// The SSH pool and server endpoints the watchdog (and `ovm-ha drain`) builds from its config, and the one
// remote write it does on the shared storage (request and response files), atomically (temp file + mv).
import * as fs from "fs";
import { SshPool, shellWithArgs, type ServerEndpoint, type SshLogger } from "../../provider/ssh";
import type { WatchdogConfig } from "./config";

export function sshPoolFromConfig(config: WatchdogConfig, opts: { connectTimeoutMs: number; logger?: SshLogger }): SshPool {
  const s = config.ssh;
  const passphrase = s.passphrase ?? (s.passphraseFile ? fs.readFileSync(s.passphraseFile, "utf8").replace(/\r?\n$/, "") : undefined);
  return new SshPool({
    credentials: {
      user: s.user,
      privateKey: s.privateKeyFile ? fs.readFileSync(s.privateKeyFile) : undefined,
      passphrase,
      agent: s.agent,
      knownHostsPath: s.knownHostsFile,
      sudo: s.sudo,
    },
    connectTimeoutMs: opts.connectTimeoutMs,
    localAddress: s.localAddress,
    // Keepalives notice a dead connection between heartbeats; the heartbeat deadline does the rest.
    keepaliveIntervalMs: 1000,
    keepaliveCountMax: 3,
    logger: opts.logger,
  });
}

export function endpointFor(config: WatchdogConfig, server: { name: string; address: string; port: number }): ServerEndpoint {
  const pins = config.ssh.hostKeyFingerprints;
  return { name: server.name, address: server.address, port: server.port, hostKeyFingerprint: pins[server.name] ?? pins[server.address] };
}

/** The configured pool addresses, as endpoints named by address (used until the pool record is known). */
export function seedEndpoints(config: WatchdogConfig): ServerEndpoint[] {
  return config.pool.addresses.map((a) => endpointFor(config, { name: a.address, address: a.address, port: a.port }));
}

const WRITE_SCRIPT = 'mkdir -p "$(dirname "$1")" && cat > "$1.tmp.$$" && mv -f "$1.tmp.$$" "$1"';

/** Writes a file on the server (the shared storage) atomically. */
export async function writeRemoteFile(ssh: SshPool, server: ServerEndpoint, file: string, content: string, timeoutMs: number): Promise<void> {
  await ssh.exec(server, shellWithArgs(WRITE_SCRIPT, file), { input: content, timeoutMs });
}

/** Reads a file; undefined when it does not exist. */
export async function readRemoteFile(ssh: SshPool, server: ServerEndpoint, file: string, timeoutMs: number): Promise<string | undefined> {
  const r = await ssh.exec(server, shellWithArgs('if [ -f "$1" ]; then cat "$1"; else exit 3; fi', file), { timeoutMs, okCodes: [0, 3] });
  return r.code === 3 ? undefined : r.stdout;
}
