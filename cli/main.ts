#!/usr/bin/env node
// The `ovm-ha` command line.
import { Command, InvalidArgumentError } from "commander";
import * as path from "path";
import { agentCommand } from "./agent-command";
import { labCommand } from "./lab-command";
import { watchdogCommands } from "./watchdog-command";

function main(): void {
  const program = new Command();
  program.name("ovm-ha").description("Highly available Oracle VM server pools: lab, watchdog and tools").showHelpAfterError();
  program.addCommand(labCommand());
  for (const c of watchdogCommands()) program.addCommand(c);
  program.addCommand(agentCommand());
  program.parseAsync(process.argv).catch((e: Error) => {
    process.stderr.write(`ovm-ha: ${e.message}\n`);
    process.exit(1);
  });
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number >= 1, got '${value}'`);
  return n;
}

export function resolveDir(dir: string): string {
  return path.resolve(dir);
}

if (require.main === module) main();
