// The real Pulumi CLI for the tests, the demo and the bench: where it is (on PATH, or the cache tools/pulumi/build
// fills), and a stack of one of our programs driven through it with the Automation API (LocalWorkspace), on a local
// backend (`pulumi login file://DIR`) with the passphrase secrets provider. Every run records the engine's own
// events: the step of each resource (op, replace keys, changed properties) and its diagnostics.
import { execFile, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as auto from "@pulumi/pulumi/automation";
import type { StackConfigValue } from "../../examples/lab-stack";

export const PROJECT_DIR = path.resolve(__dirname, "../../..");

/** Thrown where the Pulumi CLI is neither on PATH nor built: the message says what to do, in one line. */
export class PulumiCliMissing extends Error {}

/** The directory holding `pulumi` (and its Node.js plugins). */
export function locatePulumi(): string {
  const r = spawnSync("sh", [path.join(PROJECT_DIR, "tools", "pulumi", "build"), "--locate"], { encoding: "utf8" });
  if (r.status !== 0) throw new PulumiCliMissing((r.stderr || r.stdout || `tools/pulumi/build --locate: exit ${r.status}`).trim());
  return r.stdout.trim();
}

export interface StepRecord {
  /** The engine's op: create, same, update, replace, delete, refresh, ... */
  op: string;
  name: string;
  type: string;
  /** Properties that force a replace (the engine's `keys`). */
  replaces: string[];
  /** Properties that changed (the engine's `diffs`). */
  diffs: string[];
}

export interface CliRun {
  command: string;
  steps: StepRecord[];
  /** Diagnostics the engine printed: errors and warnings, with the resource they are about. */
  diagnostics: { severity: string; message: string; urn?: string }[];
  /** The CLI's output as a person sees it. */
  stdout: string;
  stderr: string;
  ms: number;
  /** Set when the CLI exited non-zero. */
  error?: string;
  /** The engine's change summary (op -> resource count, the stack itself included). */
  changes: Record<string, number>;
  /** Each resource's change as the CLI shows it: create, same, update, replace (`+-`), delete, ... */
  opOf(name: string): string | undefined;
  /** Resource name -> change, for every resource that had a step. */
  byName(): Record<string, string>;
  step(name: string): StepRecord | undefined;
  errors(): { message: string; urn?: string }[];
}

export interface CliStackOptions {
  /** The Pulumi project name (stack config keys live under it); "ovm-ha" with `repoProject`. */
  project: string;
  /** The compiled program, relative to the repository, e.g. dist/examples/nfs/index.js. */
  main: string;
  /** Use the repository's own Pulumi.yaml (name, runtime, main) instead of project and main. */
  repoProject?: boolean;
  stack?: string;
  /** Environment for every CLI call (inherited by the language host and the dynamic-provider host). */
  env?: Record<string, string>;
}

const ENGINE_OPS_SHOWN = new Set(["create", "same", "update", "replace", "delete", "refresh", "read", "create-replacement", "delete-replaced", "discard"]);

/**
 * One stack of one program, in its own project directory under the repository (.ovm-ha-pulumi/; the engine starts
 * the dynamic-provider host there, and it finds @pulumi/pulumi in the repository's node_modules), with its own
 * PULUMI_HOME, backend directory and passphrase. `remove()` deletes all of it.
 */
export class CliStack {
  readonly dir: string;
  readonly name: string;
  readonly binDir: string;
  private constructor(
    private readonly ws: auto.LocalWorkspace,
    private readonly stack: auto.Stack,
    dir: string,
    binDir: string,
    private readonly env: Record<string, string>,
  ) {
    this.dir = dir;
    this.name = stack.name;
    this.binDir = binDir;
  }

  static async create(opts: CliStackOptions): Promise<CliStack> {
    const binDir = locatePulumi();
    const scratch = path.join(PROJECT_DIR, ".ovm-ha-pulumi");
    fs.mkdirSync(scratch, { recursive: true });
    const dir = fs.mkdtempSync(path.join(scratch, `${opts.project}-`));
    const backend = path.join(dir, "backend");
    const home = path.join(dir, "pulumi-home");
    fs.mkdirSync(backend);
    fs.mkdirSync(home);
    if (opts.repoProject) {
      // The repository's Pulumi.yaml as it is, its `main` made relative to this directory.
      const text = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8");
      const main = /^main: (\S+)$/m.exec(text)?.[1];
      if (!main) throw new Error("Pulumi.yaml has no main");
      fs.writeFileSync(path.join(dir, "Pulumi.yaml"), text.replace(/^main: \S+$/m, `main: ${path.relative(dir, path.join(PROJECT_DIR, main))}`));
    } else {
      const main = path.relative(dir, path.join(PROJECT_DIR, opts.main));
      fs.writeFileSync(
        path.join(dir, "Pulumi.yaml"),
        `name: ${opts.project}\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: ${main}\n`,
      );
    }
    const env: Record<string, string> = {
      PULUMI_HOME: home,
      PULUMI_CONFIG_PASSPHRASE: crypto.randomBytes(16).toString("hex"),
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
      ...(opts.env ?? {}),
    };
    try {
      await run(path.join(binDir, "pulumi"), ["login", `file://${backend}`], { cwd: dir, env });
      const pulumiCommand = await auto.PulumiCommand.get({ root: path.dirname(binDir) });
      const ws = await auto.LocalWorkspace.create({ workDir: dir, pulumiHome: home, envVars: env, pulumiCommand });
      const stack = await auto.Stack.create(opts.stack ?? "lab", ws);
      return new CliStack(ws, stack, dir, binDir, env);
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** `pulumi config set KEY VALUE`; a secret goes in with `--secret` on standard input, never on a command line. */
  async setConfig(key: string, v: StackConfigValue): Promise<void> {
    if (!v.secret) return this.stack.setConfig(key, { value: v.value });
    await run(path.join(this.binDir, "pulumi"), ["config", "set", "--secret", "--stack", this.name, key], { cwd: this.dir, env: this.env, input: v.value });
  }

  /** Plain keys in one `pulumi config set-all`, secrets one by one on standard input. */
  async setAllConfig(config: Record<string, StackConfigValue>): Promise<void> {
    const plain = Object.fromEntries(Object.entries(config).filter(([, v]) => !v.secret).map(([k, v]) => [k, { value: v.value }]));
    if (Object.keys(plain).length) await this.stack.setAllConfig(plain);
    for (const [k, v] of Object.entries(config)) if (v.secret) await this.setConfig(k, v);
  }

  preview(opts: { diff?: boolean } = {}): Promise<CliRun> {
    return record("preview", (onEvent) => this.stack.preview({ onEvent, diff: opts.diff }));
  }

  /** `pulumi up`; `diagnose` asks the engine for its verbose log on stderr (for the bench's diagnosis only). */
  up(opts: { diagnose?: boolean } = {}): Promise<CliRun> {
    return record("up", (onEvent) => this.stack.up({ onEvent, ...(opts.diagnose ? { logVerbosity: 9, logToStdErr: true } : {}) }));
  }

  refresh(): Promise<CliRun> {
    return record("refresh", (onEvent) => this.stack.refresh({ onEvent }));
  }

  destroy(): Promise<CliRun> {
    return record("destroy", (onEvent) => this.stack.destroy({ onEvent }));
  }

  /** The stack's outputs (`pulumi stack output --json`), secrets masked. */
  async stackOutputs(): Promise<Record<string, unknown>> {
    const outs = await this.stack.outputs();
    return Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, v.secret ? "[secret]" : v.value]));
  }

  /** `pulumi stack export`: the state as the backend stores it. */
  async exportText(): Promise<string> {
    return run(path.join(this.binDir, "pulumi"), ["stack", "export", "--stack", this.name], { cwd: this.dir, env: this.env });
  }

  /** A resource's outputs in the exported state (secret outputs stay encrypted). */
  async outputs(name: string): Promise<Record<string, unknown> | undefined> {
    const state = JSON.parse(await this.exportText()) as { deployment: { resources?: { urn: string; outputs?: Record<string, unknown> }[] } };
    return state.deployment.resources?.find((r) => r.urn.endsWith(`::${name}`) && !r.urn.includes("pulumi:providers"))?.outputs;
  }

  async resourceNames(): Promise<string[]> {
    const state = JSON.parse(await this.exportText()) as { deployment: { resources?: { urn: string; type: string }[] } };
    return (state.deployment.resources ?? []).filter((r) => !r.type.startsWith("pulumi:")).map((r) => r.urn.split("::").pop()!);
  }

  /** Removes the stack (state included), its backend, PULUMI_HOME and the project directory. */
  async remove(): Promise<void> {
    await this.ws.removeStack(this.name, { force: true }).catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

type EngineResult = { stdout: string; stderr: string; changeSummary?: Record<string, number>; summary?: { resourceChanges?: Record<string, number> } };

// A replace is several engine steps (create-replacement, replace, delete-replaced): one `+-` for a person.
const REPLACE_STEPS = new Set(["replace", "create-replacement", "delete-replaced"]);

async function record(command: string, go: (onEvent: (e: auto.EngineEvent) => void) => Promise<EngineResult>): Promise<CliRun> {
  const steps: StepRecord[] = [];
  const diagnostics: CliRun["diagnostics"] = [];
  const onEvent = (e: auto.EngineEvent) => {
    const m = e.resourcePreEvent?.metadata;
    if (m && !m.type.startsWith("pulumi:") && ENGINE_OPS_SHOWN.has(m.op)) {
      steps.push({ op: m.op, name: m.urn.split("::").pop()!, type: m.type, replaces: m.keys ?? [], diffs: m.diffs ?? [] });
    }
    const d = e.diagnosticEvent;
    if (d && (d.severity === "error" || d.severity === "warning")) diagnostics.push({ severity: d.severity, message: d.message, urn: d.urn });
  };
  const t0 = Date.now();
  let stdout = "";
  let stderr = "";
  let error: string | undefined;
  let changes: Record<string, number> = {};
  try {
    const r = await go(onEvent);
    stdout = r.stdout;
    stderr = r.stderr;
    changes = r.changeSummary ?? r.summary?.resourceChanges ?? {};
  } catch (e) {
    const ce = e as { commandResult?: { stdout: string; stderr: string }; message: string };
    stdout = ce.commandResult?.stdout ?? "";
    stderr = ce.commandResult?.stderr ?? "";
    error = ce.message;
  }
  const ms = Date.now() - t0;
  const opOf = (name: string) => {
    const mine = steps.filter((s) => s.name === name).map((s) => s.op);
    return mine.some((op) => REPLACE_STEPS.has(op)) ? "replace" : mine[0];
  };
  return {
    command, steps, diagnostics, stdout, stderr, ms, error, changes, opOf,
    byName: () => Object.fromEntries([...new Set(steps.map((s) => s.name))].map((n) => [n, opOf(n)!])),
    step: (name) => steps.find((s) => s.name === name && (s.op === opOf(name) || !REPLACE_STEPS.has(opOf(name)!))),
    errors: () => diagnostics.filter((d) => d.severity === "error"),
  };
}

function run(bin: string, args: string[], opts: { cwd: string; env: Record<string, string>; input?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(bin, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      // The error names the command but never the input (it may be a secret).
      if (err) reject(new Error(`pulumi ${args.slice(0, 3).join(" ")} failed: ${`${stderr}\n${stdout}`.trim().split("\n").slice(-10).join("\n")}`));
      else resolve(stdout);
    });
    child.stdin?.end(opts.input ?? "");
  });
}
