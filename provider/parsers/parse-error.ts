/**
 * Thrown when a command's output cannot be understood. Names the command and the offending line so an
 * operator can see exactly what a server printed (a format change, a localized tool, a truncated read).
 */
export class ParseError extends Error {
  readonly command: string;
  /** The line that could not be understood ("" when the problem is something missing, not a bad line). */
  readonly line: string;
  /** 1-based line number within the parsed text, or 0 when not about one line. */
  readonly lineNumber: number;

  constructor(command: string, reason: string, line = "", lineNumber = 0) {
    const where = lineNumber > 0 ? ` at line ${lineNumber}` : "";
    const shown = line !== "" ? `: ${JSON.stringify(line)}` : "";
    super(`cannot parse output of ${command}${where}: ${reason}${shown}`);
    this.name = "ParseError";
    this.command = command;
    this.line = line;
    this.lineNumber = lineNumber;
  }
}
