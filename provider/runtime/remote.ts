// The providers' remote primitives over the shared SSH pool: run a command, read a file, converge a file (written
// atomically, with a backup, and only when its content differs), and act on many servers at once.
import { Command, ExecOptions, ExecResult, isCredentialFailure, ServerEndpoint, shellWithArgs } from "../ssh";
import { counters } from "./counters";
import { sshPool } from "./session";

export interface RunOptions extends ExecOptions {
  /** The command changes the server (counted for the "no writes on a no-change run" benchmark). */
  write?: boolean;
}

export async function run(server: ServerEndpoint, command: Command, opts: RunOptions = {}): Promise<ExecResult> {
  counters.commands++;
  if (opts.write) counters.writes++;
  const { write: _write, ...execOpts } = opts;
  return sshPool().exec(server, command, execOpts);
}

/** Contents of a remote file, or undefined when it does not exist. */
export async function readFile(server: ServerEndpoint, path: string): Promise<string | undefined> {
  const r = await run(server, shellWithArgs('if [ -e "$1" ]; then exec cat -- "$1"; else exit 3; fi', path), { okCodes: [0, 3], step: `reading ${path}` });
  return r.code === 3 ? undefined : r.stdout;
}

export interface EnsureFileOptions {
  /** Octal mode, e.g. "644". */
  mode?: string;
  /** Keep the previous content as PATH.ovm-ha.bak before replacing it. */
  backup?: boolean;
}

/**
 * Makes a remote file hold exactly `content`. Unchanged files are not touched (no write on a no-change run);
 * otherwise the content goes to a temporary file beside it that is renamed over it, so a crash never leaves a
 * half-written fstab or cluster.conf.
 */
export async function ensureFile(server: ServerEndpoint, path: string, content: string, opts: EnsureFileOptions = {}): Promise<"unchanged" | "written"> {
  const current = await readFile(server, path);
  if (current === content) return "unchanged";
  const script = [
    "set -e",
    'mkdir -p -- "$(dirname -- "$1")"',
    't="$1.ovm-ha.tmp.$$"',
    'cat > "$t"',
    'chmod "$2" "$t"',
    'if [ "$3" = yes ] && [ -e "$1" ]; then cp -p -- "$1" "$1.ovm-ha.bak"; fi',
    'mv -f -- "$t" "$1"',
  ].join("\n");
  await run(server, shellWithArgs(script, path, opts.mode ?? "644", opts.backup ? "yes" : "no"), { input: content, write: true, step: `writing ${path}` });
  return "written";
}

/** Removes a remote file if it exists. */
export async function removeFile(server: ServerEndpoint, path: string): Promise<boolean> {
  const r = await run(server, shellWithArgs('if [ -e "$1" ]; then rm -f -- "$1"; else exit 3; fi', path), { okCodes: [0, 3], write: true, step: `removing ${path}` });
  return r.code === 0;
}

/** Failures on several servers, reported together (as Oracle VM Manager lists every problem of a pool). */
export class ServersError extends Error {
  constructor(
    readonly action: string,
    readonly failures: { server: string; error: Error }[],
  ) {
    super(`${action} failed on ${failures.length} server(s):\n` + failures.map((f) => `  - ${f.server}: ${f.error.message}`).join("\n"));
    this.name = "ServersError";
  }
}

/** Runs `fn` on every server in parallel; all are attempted, and every failure is reported in one error. */
export async function onEachServer<T>(action: string, servers: readonly ServerEndpoint[], fn: (s: ServerEndpoint) => Promise<T>): Promise<T[]> {
  const results = await Promise.allSettled(servers.map((s) => fn(s)));
  const failures = results.flatMap((r, i) => (r.status === "rejected" ? [{ server: servers[i].name, error: r.reason as Error }] : []));
  if (failures.length) throw new ServersError(action, failures);
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/**
 * Connects to every server before anything is changed on any of them: a server whose key was refused, whose
 * host key changed, or that our key cannot reach fails the operation here, naming the server and the cause,
 * with nothing written anywhere.
 */
export async function connectAll(action: string, servers: readonly ServerEndpoint[]): Promise<void> {
  await onEachServer(`${action}: connecting`, servers, (s) => sshPool().connect(s));
}

/**
 * For reads: a server that did not answer is "unreachable" (kept as it was); a server that answered but refused
 * our credentials, showed another host key, or that our key cannot be used for, is an error of the read, raised
 * with every such server (never taken for a dead server).
 */
export function unreachableOnly(action: string, failures: { server: string; error: unknown }[]): string[] {
  const hard = failures.filter((f) => isCredentialFailure(f.error));
  if (hard.length) throw new ServersError(action, hard.map((f) => ({ server: f.server, error: f.error instanceof Error ? f.error : new Error(String(f.error)) })));
  return failures.map((f) => f.server);
}
