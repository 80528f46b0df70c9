// Every remote action of a SharedDisk runs as a named step, so a failure reads "<step> on <server> failed (exit N):
// <last lines of stderr>" and never shows the command or script behind it (a script is the provider's business,
// and the SSH layer's masked command line is long). Errors that are not a command's exit (no connection, a host
// key mismatch, a parse error) pass through unchanged: they already name the server and the cause.
import { RemoteCommandError, ServerEndpoint } from "../../ssh";

/** How many trailing lines of stderr a step failure shows. */
export const STDERR_LINES = 3;

export class SharedDiskStepError extends Error {
  constructor(
    readonly step: string,
    readonly server: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
  ) {
    super(`${step} on ${server} failed (${exitCode === null ? "killed" : `exit ${exitCode}`})${stderrTail ? `: ${stderrTail}` : ""}`);
    this.name = "SharedDiskStepError";
  }
}

/** The last `n` non-empty lines of a command's (already masked) stderr, joined with " / ". */
export function lastLines(text: string, n = STDERR_LINES): string {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .slice(-n)
    .join(" / ");
}

export async function step<T>(name: string, server: ServerEndpoint, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof RemoteCommandError) throw new SharedDiskStepError(name, server.name, e.exitCode, lastLines(e.stderr || e.stdout));
    throw e;
  }
}
