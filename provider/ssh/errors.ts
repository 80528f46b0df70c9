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

/**
 * The server refused every credential we offered (an unauthorized key, a wrong user). Not a network failure: the
 * server answered, so it is not "unreachable".
 */
export class AuthenticationError extends SshError {
  constructor(
    server: string,
    readonly address: string,
    readonly user: string,
    readonly reason: string,
  ) {
    super(server, `cannot log in to ${server} (${address}) as ${user}: ${reason}`);
  }
  override toJSON() {
    return { ...super.toJSON(), address: this.address, user: this.user, reason: this.reason };
  }
}

/**
 * Our private key cannot be used: unreadable or not a key, encrypted without a passphrase given, or the
 * passphrase is wrong. Found before any connection is made. The message never holds key material or the
 * passphrase.
 */
export class PrivateKeyError extends SshError {
  constructor(
    server: string,
    readonly reason: string,
  ) {
    super(server, `cannot connect to ${server}: the SSH private key cannot be used: ${reason}`);
  }
  override toJSON() {
    return { ...super.toJSON(), reason: this.reason };
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

/** Connecting failed on the network (refused, reset, no route, closed before ready...). */
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
    super(server, `connection to ${server} lost while running \`${shortCommand(command)}\`: ${reason}`);
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
    super(server, `cannot start \`${shortCommand(command)}\` on ${server}: ${reason}`);
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
    super(server, `command \`${shortCommand(command)}\` on ${server} timed out after ${timeoutMs} ms`);
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
    /** What the command was for, e.g. "writing /etc/fstab" (errors name the step, not a whole script). */
    readonly step?: string,
  ) {
    const how = signal ? `was killed by signal ${signal}` : `exited with code ${exitCode}`;
    const tail = lastLines(stderr);
    super(server, `${step ? `${step}: ` : "command "}\`${shortCommand(command)}\` on ${server} ${how}${tail ? `: ${tail}` : ""}`);
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

/** The last few non-empty lines of a command's stderr, on one line (what a user needs to see of a failure). */
export function lastLines(text: string, lines = 3, max = 400): string {
  const kept = text.split("\n").map((l) => l.trim()).filter(Boolean).slice(-lines).join(" | ");
  return kept.length <= max ? kept : "…" + kept.slice(kept.length - max);
}

/**
 * A command as shown in an error: a script passed to `sh -c` is shown by its first line (never whole), and long
 * command lines are cut. The masked display form goes in; nothing secret comes out.
 */
export function shortCommand(display: string, max = 120): string {
  const lines = display.split("\n");
  let s = lines[0];
  if (lines.length > 1) s += ` …(${lines.length}-line script)`;
  return truncate(s, max);
}

/**
 * A failure of the network or of the server's liveness (refused, timed out, no route, connection lost): the only
 * failures that may make a server "unreachable". Credential and host key failures are not: the server answered.
 */
export function isNetworkFailure(e: unknown): boolean {
  if (e instanceof ConnectTimeoutError || e instanceof ConnectionLostError || e instanceof CommandTimeoutError) return true;
  if (e instanceof ChannelOpenError) return true;
  if (e instanceof ConnectionError) return true;
  return false;
}

/** A failure that says our credentials or the server's identity are wrong: refresh and up must stop on it. */
export function isCredentialFailure(e: unknown): boolean {
  return e instanceof AuthenticationError || e instanceof PrivateKeyError || e instanceof HostKeyMismatchError || e instanceof UnknownHostKeyError;
}
