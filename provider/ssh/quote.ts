// The ONE place where remote command lines are built. Commands are argv arrays (or small compositions of
// argv arrays joined by a fixed set of shell operators); every argument goes through `quote`. Arguments may
// be marked secret: the line sent to the server holds the value, every displayed form shows `***`.

/** Raised when a value cannot be passed as a shell argument (NUL bytes). */
export class QuoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QuoteError";
  }
}

export const MASK = "***";

/** An argument whose value must never be displayed or logged. */
export class SecretArg {
  readonly #value: string;
  constructor(value: string) {
    this.#value = String(value);
  }
  /** The real value; only the renderer and the masker call this. */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return MASK;
  }
  toJSON(): string {
    return MASK;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `SecretArg(${MASK})`;
  }
}

/** Marks a value as secret (passwords, tokens): masked as `***` in every displayed form. */
export function secret(value: string): SecretArg {
  return new SecretArg(value);
}

export type Arg = string | SecretArg;
export type Argv = readonly Arg[];

// Characters that never need quoting in a POSIX shell word (no glob, expansion, or separator meaning).
const SAFE = /^[A-Za-z0-9_\/.,:@%+-]+$/; // no "=": a first word like A=b would be an assignment

/** POSIX single-quote quoting of one argument; `'` becomes `'\''`. Rejects NUL. */
export function quote(value: string): string {
  if (typeof value !== "string") throw new QuoteError(`argument is not a string: ${typeof value}`);
  if (value.includes("\0")) {
    throw new QuoteError("argument contains a NUL byte, which cannot be passed in a command-line argument");
  }
  if (value !== "" && SAFE.test(value)) return value;
  return "'" + value.replace(/'/g, "'\\''") + "'";
}

/** The fixed set of shell operators a composed command may use (never user values). */
export type Operator = "|" | "&&" | "||" | ";" | ">" | ">>" | "<" | "2>" | "2>&1";
const OPERATORS: ReadonlySet<string> = new Set(["|", "&&", "||", ";", ">", ">>", "<", "2>", "2>&1"]);

class Op {
  constructor(readonly op: Operator) {
    if (!OPERATORS.has(op)) throw new QuoteError(`not an allowed shell operator: ${JSON.stringify(op)}`);
  }
}

/** A composed command: quoted arguments and whitelisted operators, in order. Build it with the helpers below. */
export class ShellScript {
  constructor(readonly parts: readonly (Arg | Op | ShellScript)[]) {}
}

export type Command = Argv | ShellScript;

function isScript(c: Command): c is ShellScript {
  return c instanceof ShellScript;
}

function group(c: Command): (Arg | Op | ShellScript)[] {
  return isScript(c) ? [c] : [...c];
}

function joinWith(op: Operator, cmds: Command[]): ShellScript {
  if (cmds.length === 0) throw new QuoteError(`empty command list for '${op}'`);
  const parts: (Arg | Op | ShellScript)[] = [];
  cmds.forEach((c, i) => {
    if (i > 0) parts.push(new Op(op));
    parts.push(...group(c));
  });
  return new ShellScript(parts);
}

/** `a | b | c` */
export function pipeline(...cmds: Command[]): ShellScript {
  return joinWith("|", cmds);
}

/** `a && b && c` */
export function allOf(...cmds: Command[]): ShellScript {
  return joinWith("&&", cmds);
}

/** `a || b` */
export function firstOf(...cmds: Command[]): ShellScript {
  return joinWith("||", cmds);
}

/** Redirections of one command: stdout to a file (truncate or append), stdin from a file, stderr to a file or stdout. */
export function redirect(
  cmd: Command,
  r: { stdout?: Arg; append?: boolean; stdin?: Arg; stderr?: Arg | "stdout" },
): ShellScript {
  const parts: (Arg | Op | ShellScript)[] = group(cmd);
  if (r.stdin !== undefined) parts.push(new Op("<"), r.stdin);
  if (r.stdout !== undefined) parts.push(new Op(r.append ? ">>" : ">"), r.stdout);
  if (r.stderr === "stdout") parts.push(new Op("2>&1"));
  else if (r.stderr !== undefined) parts.push(new Op("2>"), r.stderr);
  return new ShellScript(parts);
}

/**
 * `sh -c SCRIPT sh ARG...`: for a constant script written by a developer that refers to values only as
 * "$1", "$2"...; the values travel as quoted positional arguments, never pasted into the script.
 */
export function shellWithArgs(script: string, ...args: Arg[]): Argv {
  return ["sh", "-c", script, "sh", ...args];
}

/** The two renderings of a command: `line` is sent to the server, `display` is for logs and errors. */
export interface RenderedCommand {
  line: string;
  display: string;
  /** Secret values in this command, for masking remote output. */
  secrets: string[];
}

function renderParts(parts: readonly (Arg | Op | ShellScript)[], secrets: string[]): { line: string; display: string } {
  const line: string[] = [];
  const display: string[] = [];
  for (const p of parts) {
    if (p instanceof Op) {
      line.push(p.op);
      display.push(p.op);
    } else if (p instanceof ShellScript) {
      const inner = renderParts(p.parts, secrets);
      line.push(`{ ${inner.line}; }`);
      display.push(`{ ${inner.display}; }`);
    } else if (p instanceof SecretArg) {
      const v = p.reveal();
      line.push(quote(v));
      display.push(MASK);
      if (v !== "") secrets.push(v);
    } else {
      const q = quote(p);
      line.push(q);
      display.push(q);
    }
  }
  return { line: line.join(" "), display: display.join(" ") };
}

/**
 * Renders a command. With `sudo`, the line becomes `sudo -n -- sh -c LINE` (LINE quoted as one argument), so
 * compositions run entirely as root.
 */
export function renderCommand(cmd: Command, opts: { sudo?: boolean } = {}): RenderedCommand {
  const parts = group(cmd);
  if (parts.length === 0) throw new QuoteError("empty command");
  const secrets: string[] = [];
  const inner = renderParts(isScript(cmd) ? cmd.parts : parts, secrets);
  if (!opts.sudo) return { ...inner, secrets };
  return {
    line: `sudo -n -- sh -c ${quote(inner.line)}`,
    display: `sudo -n -- sh -c ${quote(inner.display)}`,
    secrets,
  };
}

/** Replaces every occurrence of each secret value in `text` with `***` (longest first, so overlaps mask fully). */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].filter((s) => s !== "").sort((a, b) => b.length - a.length)) {
    out = out.split(s).join(MASK);
  }
  return out;
}
