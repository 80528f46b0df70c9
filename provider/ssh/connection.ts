// One SSH connection to one server (ssh2 Client): connecting under our own deadline with host key
// verification, and running one command per channel under a deadline. The pool decides when to connect,
// bounds concurrent channels, and retries.
import * as net from "net";
import { inspect } from "util";
import { Client, ClientChannel, ConnectConfig, utils as ssh2utils } from "ssh2";
import {
  AuthenticationError,
  ChannelOpenError,
  CommandTimeoutError,
  ConnectionError,
  ConnectionLostError,
  ConnectTimeoutError,
  PrivateKeyError,
  SshError,
} from "./errors";
import { verifyHostKey } from "./host-keys";
import { maskSecrets, RenderedCommand } from "./quote";

/** Where a server is and (optionally) its pinned host key fingerprint (`SHA256:...`, as `ssh-keygen -lf`). */
export interface ServerEndpoint {
  name: string;
  address: string;
  port: number;
  hostKeyFingerprint?: string;
  /** Source address to connect from (the lab gives the watchdog its own, so a cut can single it out). */
  localAddress?: string;
}

/** How to log in. The key and passphrase never appear in logs or errors. */
export interface SshCredentials {
  user: string;
  /** Private key contents (PEM or OpenSSH format), not a path. */
  privateKey?: string | Buffer;
  passphrase?: string;
  /** SSH agent socket path, or true for $SSH_AUTH_SOCK. */
  agent?: string | true;
  /** Used when a server has no pinned fingerprint. */
  knownHostsPath?: string;
  /** Accept and record in knownHostsPath the key of a host it does not list yet. Off unless asked for. */
  trustOnFirstUse?: boolean;
  /** Run every command as root via `sudo -n -- sh -c LINE` (for a non-root user with passwordless sudo). */
  sudo?: boolean;
}

/** Credentials held so that logging them (console.log, util.inspect, JSON.stringify) never shows secrets. */
export class ConnectionConfig {
  readonly #privateKey?: string | Buffer;
  readonly #passphrase?: string;
  readonly user: string;
  readonly agent?: string;
  readonly knownHostsPath?: string;
  readonly trustOnFirstUse: boolean;
  readonly sudo: boolean;
  constructor(c: SshCredentials) {
    this.user = c.user;
    this.#privateKey = c.privateKey;
    this.#passphrase = c.passphrase;
    this.agent = c.agent === true ? process.env.SSH_AUTH_SOCK : c.agent;
    this.knownHostsPath = c.knownHostsPath;
    this.trustOnFirstUse = c.trustOnFirstUse === true;
    this.sudo = c.sudo === true;
    if (!this.#privateKey && !this.agent) {
      throw new Error(`SSH credentials for user ${c.user}: give a private key or an agent (SSH_AUTH_SOCK is unset)`);
    }
  }
  /**
   * Why the private key cannot be used (not a key, encrypted without a passphrase, wrong passphrase), or
   * undefined when it can (or there is none: agent only). ssh2's messages hold no key material.
   */
  keyProblem(): string | undefined {
    if (this.#keyProblem !== undefined) return this.#keyProblem || undefined;
    this.#keyProblem = "";
    if (this.#privateKey) {
      let parsed: unknown;
      try {
        parsed = ssh2utils.parseKey(this.#privateKey, this.#passphrase);
      } catch (e) {
        parsed = e;
      }
      if (parsed instanceof Error) this.#keyProblem = describeKeyProblem(parsed.message, this.#passphrase !== undefined);
      else if (Array.isArray(parsed) && parsed.length === 0) this.#keyProblem = "no key found in it";
    }
    return this.#keyProblem || undefined;
  }
  #keyProblem?: string;
  /** ssh2 authentication fields (only passed to ssh2, never displayed). */
  authFields(): Pick<ConnectConfig, "username" | "privateKey" | "passphrase" | "agent"> {
    return { username: this.user, privateKey: this.#privateKey, passphrase: this.#passphrase, agent: this.agent };
  }
  toJSON(): Record<string, unknown> {
    return {
      user: this.user,
      privateKey: this.#privateKey ? "***" : undefined,
      passphrase: this.#passphrase ? "***" : undefined,
      agent: this.agent,
      knownHostsPath: this.knownHostsPath,
      trustOnFirstUse: this.trustOnFirstUse,
      sudo: this.sudo,
    };
  }
  toString(): string {
    return `ConnectionConfig(${JSON.stringify(this.toJSON())})`;
  }
  [inspect.custom](): string {
    return this.toString();
  }
}

/** ssh2's key parser messages, said in the user's terms. */
function describeKeyProblem(message: string, passphraseGiven: boolean): string {
  const m = message.replace(/^Cannot parse privateKey: /, "");
  if (/no passphrase given/i.test(m)) return "it is encrypted and no passphrase was given (stack config sshPassphrase)";
  if (/decrypt|bad passphrase|integrity check/i.test(m)) return passphraseGiven ? "the passphrase is wrong (it does not decrypt the key)" : "it is encrypted and no passphrase was given (stack config sshPassphrase)";
  if (/unsupported key format|malformed|invalid|unable to parse/i.test(m)) return `it is not a private key in a format ssh2 reads (OpenSSH, PEM PKCS#1/PKCS#8): ${m}`;
  return m;
}

export interface ConnectTiming {
  /** Deadline for TCP connect + handshake + authentication. */
  connectTimeoutMs: number;
  /** Keepalive probe interval; the peer is declared dead after keepaliveCountMax unanswered probes. */
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  /** Signal that killed the command, Node style ("SIGTERM"), or null. */
  signal: string | null;
}

/** A started command: `result` settles with the outcome, `released` when its channel is gone (for bounding). */
export interface RunningCommand {
  result: Promise<ExecResult>;
  released: Promise<void>;
}

const CHANNEL_CLOSE_GRACE_MS = 2000;

export class SshConnection {
  #closed = false;
  /** Set when a timed-out channel would not close: no new commands here. */
  #retired = false;
  #closeReason = "closed";
  #openChannels = 0;
  private constructor(
    readonly endpoint: ServerEndpoint,
    private readonly client: Client,
    private readonly onChannelDelta: (delta: 1 | -1) => void,
  ) {
    client.on("error", (e: Error) => {
      this.#closeReason = e.message;
    });
    // "end" (the server closed its side) comes before "close": no new channel can start from then on, so the
    // connection stops taking commands at the first of the two (a command asked for in between would otherwise
    // be sent to a dead socket and fail with "Not connected").
    client.on("end", () => {
      this.#closed = true;
      if (this.#closeReason === "closed") this.#closeReason = "the server closed the connection";
    });
    client.on("close", () => {
      this.#closed = true;
    });
  }

  /** Connects and authenticates within timing.connectTimeoutMs; host key errors come out typed. */
  static open(
    endpoint: ServerEndpoint,
    config: ConnectionConfig,
    timing: ConnectTiming,
    onChannelDelta: (delta: 1 | -1) => void = () => {},
  ): Promise<SshConnection> {
    const where = `${endpoint.address}:${endpoint.port}`;
    // A key we cannot use is found before anything is sent to the server.
    const keyProblem = config.keyProblem();
    if (keyProblem) return Promise.reject(new PrivateKeyError(endpoint.name, keyProblem));
    const client = new Client();
    let hostKeyError: SshError | undefined;
    return new Promise<SshConnection>((resolve, reject) => {
      let settled = false;
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.destroy();
        reject(e);
      };
      // ssh2's readyTimeout starts only after TCP connect; this timer covers the whole way to "ready".
      const timer = setTimeout(
        () => fail(new ConnectTimeoutError(endpoint.name, where, timing.connectTimeoutMs)),
        timing.connectTimeoutMs,
      );
      client.once("ready", () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(new SshConnection(endpoint, client, onChannelDelta));
      });
      client.on("error", (e: Error & { level?: string }) => {
        if (hostKeyError) return fail(hostKeyError);
        if (e.level === "client-authentication") {
          fail(new AuthenticationError(endpoint.name, where, config.user, `the server refused our credentials (${e.message})`));
          return;
        }
        fail(new ConnectionError(endpoint.name, where, e.message));
      });
      client.on("close", () => fail(hostKeyError ?? new ConnectionError(endpoint.name, where, "connection closed before ready")));
      try {
        // Our own socket, with Nagle off: ssh2 leaves it on, and sshd leaves it on for non-tty sessions, so every
        // command otherwise waits on delayed ACKs (measured here: 11 commands/s sequentially with it, 247 without).
        const sock = net.connect({ host: endpoint.address, port: endpoint.port, localAddress: endpoint.localAddress });
        sock.setNoDelay(true);
        sock.on("error", (e: Error) => fail(new ConnectionError(endpoint.name, where, e.message)));
        client.connect({
          sock,
          host: endpoint.address,
          port: endpoint.port,
          ...config.authFields(),
          readyTimeout: timing.connectTimeoutMs + 1000, // ours fires first, with a typed error
          keepaliveInterval: timing.keepaliveIntervalMs,
          keepaliveCountMax: timing.keepaliveCountMax,
          hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
            verifyHostKey(
              endpoint,
              {
                fingerprint: endpoint.hostKeyFingerprint,
                knownHostsPath: config.knownHostsPath,
                trustOnFirstUse: config.trustOnFirstUse,
              },
              key,
            ).then(
              () => verify(true),
              (e: unknown) => {
                hostKeyError =
                  e instanceof SshError ? e : new ConnectionError(endpoint.name, where, `host key check failed: ${String(e)}`);
                verify(false);
              },
            );
          },
        });
      } catch (e) {
        // ssh2 throws synchronously for unparsable keys or a missing passphrase (checked above already); its
        // messages hold no key material.
        fail(new PrivateKeyError(endpoint.name, describeKeyProblem((e as Error).message, false)));
      }
    });
  }

  /** Open and accepting commands. */
  get alive(): boolean {
    return !this.#closed && !this.#retired;
  }

  get openChannels(): number {
    return this.#openChannels;
  }

  /** Closes the connection now (pending and running commands fail). */
  destroy(reason: string): void {
    if (!this.#closed) this.#closeReason = reason;
    this.client.destroy();
  }

  /** Politely ends the connection. */
  end(): void {
    this.client.end();
  }

  /**
   * Runs one rendered command on its own channel. `result` rejects with ChannelOpenError (not started),
   * CommandTimeoutError, or ConnectionLostError; exit codes are the caller's business.
   */
  start(cmd: RenderedCommand, opts: { timeoutMs: number; input?: string | Buffer }): RunningCommand {
    const server = this.endpoint.name;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let channelHeld = false;
    const hold = () => {
      channelHeld = true;
      this.#openChannels++;
      this.onChannelDelta(1);
    };
    const unhold = () => {
      if (channelHeld) {
        channelHeld = false;
        this.#openChannels--;
        this.onChannelDelta(-1);
      }
      release();
      if (this.#retired && this.#openChannels === 0) this.destroy("retired after a command that would not stop");
    };

    const result = new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      let stream: ClientChannel | undefined;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        f();
      };
      const timer = setTimeout(() => {
        settle(() => reject(new CommandTimeoutError(server, cmd.display, opts.timeoutMs)));
        if (!stream) {
          // Not even the channel opened: the server is not answering; drop the connection.
          this.destroy(`channel open timed out after ${opts.timeoutMs} ms`);
          return;
        }
        const s = stream;
        killRemote(s);
        s.close();
        // sshd keeps a channel until its command exits, and refuses signals for root sessions; so a channel
        // still open after the grace period is abandoned: this connection takes no new commands and is
        // destroyed once its other commands are done (destroying it now would kill them too).
        const grace = setTimeout(() => {
          this.#retired = true;
          unhold();
        }, CHANNEL_CLOSE_GRACE_MS);
        s.once("close", () => clearTimeout(grace));
      }, opts.timeoutMs);

      if (!this.alive) {
        settle(() => reject(new ChannelOpenError(server, cmd.display, `connection closed (${this.#closeReason})`, true)));
        unhold();
        return;
      }
      hold();
      try {
        this.client.exec(cmd.line, (err, ch) => {
          if (err) {
            settle(() =>
              // ssh2 answers "Not connected" when the socket is gone before its close event reached us.
              reject(new ChannelOpenError(server, cmd.display, maskSecrets(err.message, cmd.secrets), this.#closed || /not connected/i.test(err.message))),
            );
            unhold();
            return;
          }
          if (settled) {
            // Timed out while the channel was being opened: close it right away.
            ch.close();
            ch.once("close", unhold);
            return;
          }
          stream = ch;
          const out: Buffer[] = [];
          const errOut: Buffer[] = [];
          let code: number | null = null;
          let signal: string | null = null;
          let exited = false;
          // Stream errors end in "close" too; a listener keeps them from becoming uncaught exceptions.
          ch.on("error", () => {});
          ch.stderr.on("error", () => {});
          ch.on("data", (d: Buffer) => out.push(d));
          ch.stderr.on("data", (d: Buffer) => errOut.push(d));
          // The server's EOF: its output is complete. sshd may send the exit status before the output has been
          // drained (OpenSSH does), so an exit status alone, with the connection lost before EOF, is an answer cut
          // short: the command ran, but what it printed may be missing (seen: `echo back` answered exit 0 and no
          // output). ssh2 sets the channel's incoming state to 'eof' on a received EOF and ends the stream; a dead
          // connection ends it too, without that state, and the state moves on to 'closed' before 'end' is
          // emitted: so the moment the state is set is watched.
          const eof = watchEof(ch);
          ch.on("exit", (c: number | null, sig?: string) => {
            exited = true;
            code = typeof c === "number" ? c : null;
            signal = sig ? (String(sig).startsWith("SIG") ? String(sig) : `SIG${sig}`) : null; // Node style: "SIGTERM"
          });
          ch.on("close", () => {
            unhold();
            if (exited && eof.received) {
              settle(() =>
                resolve({
                  stdout: Buffer.concat(out).toString("utf8"),
                  stderr: Buffer.concat(errOut).toString("utf8"),
                  code,
                  signal,
                }),
              );
            } else {
              const why = exited
                ? "connection lost after the exit status but before the end of the output (the command ran; its output may be cut short)"
                : this.#closed
                  ? this.#closeReason
                  : "channel closed without an exit status";
              settle(() => reject(new ConnectionLostError(server, cmd.display, maskSecrets(why, cmd.secrets))));
            }
          });
          ch.end(opts.input ?? undefined);
        });
      } catch (e) {
        // ssh2 throws "Not connected" when the socket is already gone.
        settle(() => reject(new ChannelOpenError(server, cmd.display, (e as Error).message, true)));
        unhold();
      }
    });
    return { result, released };
  }
}

/**
 * Asks sshd to SIGKILL the command's process group (OpenSSH >= 7.9 honours "signal" requests); otherwise sshd
 * keeps a closed channel until its command exits. ssh2's channel.signal() refuses once stdin has been ended
 * (which we always do), so this sends the request through the channel's protocol object directly.
 */
function killRemote(ch: ClientChannel): void {
  try {
    const c = ch as unknown as {
      outgoing?: { id: number; state: string };
      _client?: { _protocol?: { signal(id: number, name: string): void } };
    };
    if ((c.outgoing?.state === "open" || c.outgoing?.state === "eof") && c._client?._protocol) c._client._protocol.signal(c.outgoing.id, "KILL");
    else ch.signal("KILL");
  } catch {
    /* best effort: closing the channel (and, failing that, the connection) is what bounds our wait */
  }
}

/**
 * Whether the server's CHANNEL_EOF arrived on a channel: ssh2 records it only as `incoming.state = "eof"`, which a
 * CHANNEL_CLOSE overwrites before any event is emitted. Without that field (another ssh2), every exit counts as
 * complete, as before; test/lab/ssh.test.ts ("while the connection closes") fails if that ever happens.
 */
function watchEof(ch: unknown): { received: boolean } {
  const result = { received: false };
  const incoming = (ch as { incoming?: { state?: string } }).incoming;
  if (!incoming || typeof incoming !== "object" || !("state" in incoming)) {
    result.received = true;
    return result;
  }
  let state = incoming.state;
  if (state === "eof") result.received = true;
  Object.defineProperty(incoming, "state", {
    configurable: true,
    enumerable: true,
    get: () => state,
    set: (v: string) => {
      if (v === "eof") result.received = true;
      state = v;
    },
  });
  return result;
}
