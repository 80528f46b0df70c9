// Typed errors of the SSH layer. Each carries only displayable data: commands in their masked form, stderr
// with secret values masked, no keys or passphrases. toJSON lists the same fields, so logging an error whole
// cannot leak more than its message.
export { QuoteError } from "./quote";

/** Base class: every SSH-layer failure names the server it concerns. */
export class SshError extends Error {
  constructor(
    readonly server: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, server: this.server };
  }
}

/** The server presented a host key different from the pinned or known one. */
export class HostKeyMismatchError extends SshError {
  constructor(
    server: string,
    readonly expected: string[],
    readonly presented: string,
  ) {
    super(
      server,
      `host key of ${server} does not match: expected ${expected.join(" or ")}, server presented ${presented} ` +
        `(a changed key may mean the server was reinstalled, or someone is intercepting the connection)`,
    );
  }
  override toJSON() {
    return { ...super.toJSON(), expected: this.expected, presented: this.presented };
  }
}

/** No pinned fingerprint and no known_hosts entry for the server, and trust-on-first-use was not asked for. */
export class UnknownHostKeyError extends SshError {
  constructor(
    server: string,
    readonly presented: string,
    readonly where: string,
  ) {
    super(
      server,
      `host key of ${server} is unknown (presented ${presented}; not found in ${where}); ` +
        `pin its fingerprint, add it to known_hosts, or enable trustOnFirstUse`,
    );
  }
  override toJSON() {
    return { ...super.toJSON(), presented: this.presented, where: this.where };
  }
}

/** TCP connect + SSH handshake + authentication did not finish within the connect deadline. */
export class ConnectTimeoutError extends SshError {
  constructor(
    server: string,
    readonly address: string,
    readonly timeoutMs: number,
  ) {
    super(server, `connecting to ${server} (${address}) timed out after ${timeoutMs} ms`);
  }
  override toJSON() {
    return { ...super.toJSON(), address: this.address, timeoutMs: this.timeoutMs };
  }
}

/** Connecting or authenticating failed (refused, reset, authentication rejected...). */
export class ConnectionError extends SshError {
  constructor(
    server: string,
    readonly address: string,
    readonly reason: string,
  ) {
    super(server, `cannot connect to ${server} (${address}): ${reason}`);
  }
  override toJSON() {
    return { ...super.toJSON(), address: this.address, reason: this.reason };
  }
}

/** The connection died while a command was running: the command may or may not have run. */
export class ConnectionLostError extends SshError {
  constructor(
    server: string,
    readonly command: string,
    readonly reason: string,
  ) {
    super(server, `connection to ${server} lost while running \`${command}\`: ${reason}`);
  }
  override toJSON() {
    return { ...super.toJSON(), command: this.command, reason: this.reason };
  }
}

/** A channel for the command could not be opened (the command did not start). */
export class ChannelOpenError extends SshError {
  constructor(
    server: string,
    readonly command: string,
    readonly reason: string,
    /** True when the connection itself was dead: the pool retries once on a fresh connection. */
    readonly connectionDead: boolean,
  ) {
    super(server, `cannot start \`${command}\` on ${server}: ${reason}`);
  }
  override toJSON() {
    return { ...super.toJSON(), command: this.command, reason: this.reason };
  }
}

/** The command did not finish within its deadline; its channel was closed. */
export class CommandTimeoutError extends SshError {
  constructor(
    server: string,
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(server, `command \`${command}\` on ${server} timed out after ${timeoutMs} ms`);
  }
  override toJSON() {
    return { ...super.toJSON(), command: this.command, timeoutMs: this.timeoutMs };
  }
}

/** The command exited with a code not in okCodes, or was killed by a signal. */
export class RemoteCommandError extends SshError {
  constructor(
    server: string,
    /** Masked command line. */
    readonly command: string,
    readonly exitCode: number | null,
    readonly signal: string | null,
    /** Masked stderr. */
    readonly stderr: string,
    /** Masked stdout. */
    readonly stdout: string,
  ) {
    const how = signal ? `was killed by signal ${signal}` : `exited with code ${exitCode}`;
    const tail = stderr.trim() ? `: ${truncate(stderr.trim(), 2000)}` : "";
    super(server, `command \`${command}\` on ${server} ${how}${tail}`);
  }
  override toJSON() {
    return {
      ...super.toJSON(),
      command: this.command,
      exitCode: this.exitCode,
      signal: this.signal,
      stderr: this.stderr,
    };
  }
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n) + "…";
}
