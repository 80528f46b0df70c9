// The entry point for every remote command: one connection per server, reused; at most
// `maxChannelsPerConnection` commands in flight per server; transparent reconnection; deadlines; typed
// errors; counters for benchmarks.
import pLimit from "p-limit";
import { ChannelOpenError, RemoteCommandError } from "./errors";
import { ConnectionConfig, ExecResult, ServerEndpoint, SshConnection, SshCredentials } from "./connection";
import { Command, maskSecrets, RenderedCommand, renderCommand } from "./quote";

/** pino-compatible subset. Only masked command lines and server names are ever logged. */
export interface SshLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface SshPoolOptions {
  credentials: SshCredentials;
  /** Concurrent channels per connection; OpenSSH's MaxSessions defaults to 10. Default 8. */
  maxChannelsPerConnection?: number;
  /** TCP connect + handshake + authentication deadline. Default 10 s. */
  connectTimeoutMs?: number;
  /** Default per-command deadline (from channel open to exit). Default 60 s. */
  commandTimeoutMs?: number;
  /** Default 5 s. */
  keepaliveIntervalMs?: number;
  /** Unanswered keepalives before the connection is declared dead. Default 3. */
  keepaliveCountMax?: number;
  logger?: SshLogger;
  /** Source address of every connection (a server's own `localAddress` wins). */
  localAddress?: string;
}

export interface ExecOptions {
  /** Overrides the pool's commandTimeoutMs. */
  timeoutMs?: number;
  /** Exit codes that are not failures. Default [0]. */
  okCodes?: readonly number[];
  /** Written to the command's stdin, then EOF. Without it, stdin is closed at once. */
  input?: string | Buffer;
  /** Overrides credentials.sudo for this command. */
  sudo?: boolean;
  /** What the command is for ("writing /etc/fstab"): named in its error instead of a whole script. */
  step?: string;
}

/** Counters per server (name). */
export interface ServerStats {
  connectionsOpened: number;
  commandsRun: number;
  /** Channels open right now. */
  openChannels: number;
  /** Most channels ever open at once. */
  maxOpenChannels: number;
}

interface ServerEntry {
  endpoint: ServerEndpoint;
  limit: pLimit.Limit;
  conn?: SshConnection;
  connecting?: Promise<SshConnection>;
  lastConnectFailure?: { error: Error; at: number };
  stats: ServerStats;
}

/** How often a command that never started because its connection was dead is tried on a new connection. */
const DEAD_CONNECTION_RETRIES = 2;

/** How often a channel refused by sshd (its session limit) is asked for again before the error is raised. */
const CHANNEL_REFUSED_RETRIES = 8;

export class SshPool {
  readonly #config: ConnectionConfig;
  readonly #servers = new Map<string, ServerEntry>();
  readonly #maxChannels: number;
  readonly #timing: { connectTimeoutMs: number; keepaliveIntervalMs: number; keepaliveCountMax: number };
  readonly #commandTimeoutMs: number;
  readonly #logger?: SshLogger;
  readonly #localAddress?: string;
  #closed = false;

  constructor(opts: SshPoolOptions) {
    this.#config = new ConnectionConfig(opts.credentials);
    this.#maxChannels = opts.maxChannelsPerConnection ?? 8;
    if (!(this.#maxChannels >= 1)) throw new Error("maxChannelsPerConnection must be at least 1");
    this.#timing = {
      connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
      keepaliveIntervalMs: opts.keepaliveIntervalMs ?? 5_000,
      keepaliveCountMax: opts.keepaliveCountMax ?? 3,
    };
    this.#commandTimeoutMs = opts.commandTimeoutMs ?? 60_000;
    this.#logger = opts.logger;
    this.#localAddress = opts.localAddress;
  }

  get maxChannelsPerConnection(): number {
    return this.#maxChannels;
  }

  /**
   * Runs a command (argv or composed ShellScript) on a server. Resolves with the result when the exit code is
   * in okCodes; otherwise rejects with RemoteCommandError. Other failures: ConnectTimeoutError,
   * ConnectionError, HostKeyMismatchError, UnknownHostKeyError, CommandTimeoutError, ConnectionLostError,
   * ChannelOpenError, QuoteError.
   */
  exec(server: ServerEndpoint, command: Command, opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.#closed) return Promise.reject(new Error("SshPool is closed"));
    let rendered: RenderedCommand;
    try {
      rendered = renderCommand(command, { sudo: opts.sudo ?? this.#config.sudo });
    } catch (e) {
      return Promise.reject(e); // QuoteError: reported like every other failure, as a rejection
    }
    const okCodes = opts.okCodes ?? [0];
    const timeoutMs = opts.timeoutMs ?? this.#commandTimeoutMs;
    const entry = this.#entry(server);
    return new Promise<ExecResult>((resolve, reject) => {
      // The limiter slot is held until the channel is gone (not just until the caller has its answer), so a
      // timed-out command still closing counts against the bound.
      const queuedAt = Date.now();
      entry
        .limit(async () => {
          for (let attempt = 0; ; attempt++) {
            // A connect attempt that failed while this command waited for a slot answers for it too: a queue
            // of commands to a dead server fails at once instead of one connect deadline per slot-full.
            const failed = entry.lastConnectFailure;
            if (attempt === 0 && failed && failed.at >= queuedAt) throw failed.error;
            const conn = await this.#connection(entry);
            const t0 = Date.now();
            const running = conn.start(rendered, { timeoutMs, input: opts.input });
            const outcome = await running.result.then(
              (r) => ({ ok: true as const, r }),
              (e: Error) => ({ ok: false as const, e }),
            );
            // A command whose channel never opened did not run (it is retried below): not counted.
            if (outcome.ok || !(outcome.e instanceof ChannelOpenError)) entry.stats.commandsRun++;
            if (!outcome.ok) {
              // Only a command that never started is retried, and only when the connection was dead: that
              // connection is dropped first (it may not have seen its own close yet), so the retry opens a new one.
              if (outcome.e instanceof ChannelOpenError && outcome.e.connectionDead && attempt < DEAD_CONNECTION_RETRIES) {
                this.#logger?.debug({ server: server.name, command: rendered.display }, "ssh connection was dead; retrying on a new one");
                this.#drop(entry, conn, outcome.e.reason);
                await running.released;
                continue;
              }
              // sshd refuses a channel ("open failed") while sessions we already closed still count against its
              // MaxSessions: the command never started, so it is retried after a short, growing pause.
              if (outcome.e instanceof ChannelOpenError && !outcome.e.connectionDead && /open failed|prohibited/i.test(outcome.e.message) && attempt < CHANNEL_REFUSED_RETRIES) {
                await running.released;
                await new Promise((r) => setTimeout(r, 5 * 2 ** attempt));
                continue;
              }
              this.#logger?.warn({ server: server.name, command: rendered.display, err: outcome.e.message }, "ssh command failed");
              reject(outcome.e);
            } else {
              const r = outcome.r;
              this.#logger?.debug(
                { server: server.name, command: rendered.display, code: r.code, signal: r.signal, ms: Date.now() - t0 },
                "ssh command",
              );
              if (r.signal === null && r.code !== null && okCodes.includes(r.code)) resolve(r);
              else
                reject(
                  new RemoteCommandError(
                    server.name,
                    rendered.display,
                    r.code,
                    r.signal,
                    maskSecrets(r.stderr, rendered.secrets),
                    maskSecrets(r.stdout, rendered.secrets),
                    opts.step,
                  ),
                );
            }
            await running.released;
            return;
          }
        })
        .catch(reject); // connection failures
    });
  }

  /**
   * Connects to a server (or reuses its connection) without running anything: how a caller makes sure every
   * server accepts our credentials and identity before it changes any of them.
   */
  async connect(server: ServerEndpoint): Promise<void> {
    if (this.#closed) throw new Error("SshPool is closed");
    await this.#connection(this.#entry(server));
  }

  /** Counters of one server (zeros if never used). */
  stats(serverName: string): ServerStats {
    const s = this.#servers.get(serverName)?.stats;
    return s ? { ...s } : { connectionsOpened: 0, commandsRun: 0, openChannels: 0, maxOpenChannels: 0 };
  }

  /** Drops a server's connection (the next command reconnects). */
  disconnect(serverName: string): void {
    const e = this.#servers.get(serverName);
    e?.conn?.end();
    if (e) e.conn = undefined;
  }

  /** Ends every connection; further exec calls are refused. */
  close(): void {
    this.#closed = true;
    for (const e of this.#servers.values()) {
      e.conn?.end();
      e.conn = undefined;
    }
  }

  toJSON(): Record<string, unknown> {
    return { credentials: this.#config.toJSON(), servers: [...this.#servers.keys()] };
  }

  #entry(server: ServerEndpoint): ServerEntry {
    let e = this.#servers.get(server.name);
    if (!e) {
      e = {
        endpoint: { ...server },
        limit: pLimit(this.#maxChannels),
        stats: { connectionsOpened: 0, commandsRun: 0, openChannels: 0, maxOpenChannels: 0 },
      };
      this.#servers.set(server.name, e);
    } else if (
      e.endpoint.address !== server.address ||
      e.endpoint.port !== server.port ||
      e.endpoint.hostKeyFingerprint !== server.hostKeyFingerprint
    ) {
      // Same name, new place or identity: never reuse the old connection for it.
      e.endpoint = { ...server };
      e.conn?.end();
      e.conn = undefined;
    }
    return e;
  }

  /** Forgets a dead connection (if it is still the server's current one) and closes it. */
  #drop(e: ServerEntry, conn: SshConnection, reason: string): void {
    if (e.conn === conn) e.conn = undefined;
    conn.destroy(reason);
  }

  /** The server's live connection, connecting (once, shared by concurrent callers) if needed. */
  #connection(e: ServerEntry): Promise<SshConnection> {
    if (e.conn?.alive) return Promise.resolve(e.conn);
    if (!e.connecting) {
      const endpoint = e.endpoint.localAddress || !this.#localAddress ? e.endpoint : { ...e.endpoint, localAddress: this.#localAddress };
      e.connecting = SshConnection.open(endpoint, this.#config, this.#timing, (delta) => {
        e.stats.openChannels += delta;
        if (e.stats.openChannels > e.stats.maxOpenChannels) e.stats.maxOpenChannels = e.stats.openChannels;
      }).then(
        (c) => {
          e.connecting = undefined;
          e.stats.connectionsOpened++;
          this.#logger?.debug({ server: endpoint.name, address: endpoint.address, port: endpoint.port }, "ssh connected");
          if (this.#closed) c.end();
          else if (e.endpoint === endpoint) e.conn = c;
          return c;
        },
        (err: Error) => {
          e.connecting = undefined;
          e.lastConnectFailure = { error: err, at: Date.now() };
          throw err;
        },
      );
    }
    return e.connecting;
  }
}
