// Where the Pulumi CLI is installed, the demo applies the example with `pulumi up` against a local state backend
// (a directory), instead of the engine-path harness. This module is the exact sequence of CLI calls; the demo runs
// it in the example's directory. Secrets go in on standard input, never on a command line.
import { execFile } from "child_process";
import type { StackConfigValue } from "../examples/lab-stack";

export interface CliStep {
  /** What the step does, for the screen. */
  what: string;
  argv: string[];
  /** Written to the command's standard input (secret config values). */
  input?: string;
}

/** Environment for every call: a local (file) backend and the passphrase that encrypts the stack's secrets. */
export function pulumiCliEnv(backendDir: string, passphrase: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
  };
}

/** Stack creation and config, then preview, up, and the outputs as JSON. */
export function pulumiCliSteps(stack: string, config: Record<string, StackConfigValue>): { setup: CliStep[]; preview: CliStep; up: CliStep; outputs: CliStep; destroy: CliStep } {
  const setup: CliStep[] = [{ what: `create stack ${stack}`, argv: ["pulumi", "stack", "init", stack, "--non-interactive"] }];
  for (const [key, v] of Object.entries(config)) {
    setup.push(
      v.secret
        ? { what: `config ${key} (secret)`, argv: ["pulumi", "config", "set", "--secret", "--stack", stack, key], input: v.value }
        : { what: `config ${key}`, argv: ["pulumi", "config", "set", "--stack", stack, "--", key, v.value] },
    );
  }
  return {
    setup,
    preview: { what: "pulumi preview", argv: ["pulumi", "preview", "--stack", stack, "--non-interactive"] },
    up: { what: "pulumi up", argv: ["pulumi", "up", "--stack", stack, "--yes", "--skip-preview", "--non-interactive"] },
    outputs: { what: "stack outputs", argv: ["pulumi", "stack", "output", "--stack", stack, "--json"] },
    destroy: { what: "pulumi destroy", argv: ["pulumi", "destroy", "--stack", stack, "--yes", "--non-interactive"] },
  };
}

/** Runs one step; the error says which step failed and its output's last lines (config values are never echoed). */
export function runCliStep(step: CliStep, opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(step.argv[0], step.argv.slice(1), { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 600000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const tail = `${stdout}\n${stderr}`.trim().split("\n").slice(-10).join("\n");
        reject(new Error(`${step.what} failed (${step.argv.slice(0, 3).join(" ")} ...):\n${tail}`));
      } else resolve(stdout);
    });
    child.stdin?.end(step.input ?? "");
  });
}

export function pulumiOnPath(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return new Promise((resolve) => {
    const child = execFile("pulumi", ["version"], { env, timeout: 10000 }, (err) => resolve(!err));
    child.stdin?.end();
  });
}
