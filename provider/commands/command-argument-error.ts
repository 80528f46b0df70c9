/**
 * Thrown by a command builder when a value would be unsafe or invalid on the server. Names the property,
 * the value and what is allowed, so the Pulumi user sees which input to fix before anything runs.
 */
export class CommandArgumentError extends Error {
  readonly property: string;
  readonly value: unknown;
  readonly allowed: string;

  constructor(property: string, value: unknown, allowed: string) {
    super(`invalid ${property} ${JSON.stringify(value)}: ${allowed}`);
    this.name = "CommandArgumentError";
    this.property = property;
    this.value = value;
    this.allowed = allowed;
  }
}

/** A command to run: argv (never a shell string) and optional text for its standard input. */
export interface CommandSpec {
  argv: string[];
  stdin?: string;
}
