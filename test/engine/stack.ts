// A stack driven the way the Pulumi engine drives dynamic providers: the program runs under the SDK's mocks, each
// registration is checked, diffed and applied against the SDK's own dynamic-provider host over gRPC, and the
// resulting state is kept between operations (in memory, and in a JSON file when one is given).
import * as crypto from "crypto";
import { deleteInParallel } from "./dependency-order";
import { Program, Registration, RegistrationResult, runProgram } from "./program-run";
import { CheckFailure, ProviderCallError, ProviderHost, ProviderMethod } from "./provider-host";
import { StackState, StateResource } from "./stack-state";
import { PropertyBag, sameValue, unwrapBag, wrapBag } from "./wire-values";

export type StepOp = "create" | "update" | "replace" | "delete" | "same";

export interface Step {
  op: StepOp;
  urn: string;
  type: string;
  name: string;
  /** Properties the provider's Diff (or replaceOnChanges) named as needing a replacement. */
  replaces?: string[];
  deleteBeforeReplace?: boolean;
  /** Checked inputs, secret properties shown as "[secret]" so plans can be printed. */
  inputs?: PropertyBag;
}

export interface EngineError {
  urn?: string;
  message: string;
  /** Check failures, property and reason, when the error is a failed Check. */
  failures?: CheckFailure[];
}

export interface OperationResult {
  /** preview: the planned steps; up/destroy/refresh: the steps performed, in order. */
  steps: Step[];
  errors: EngineError[];
  /** gRPC calls made to the provider host during this operation, by method. */
  calls: Record<ProviderMethod, number>;
  /** What the program returned (preview and up only). */
  exports?: unknown;
  /**
   * The RegisterResource requests of the program run (preview and up only), options included. Inputs are in wire
   * form with secrets in plaintext inside their wrappers, as the program holds them: not part of recordedText.
   */
  registrations: Registration[];
  /** The step for a resource by name (or urn); undefined when none. */
  step(nameOrUrn: string): Step | undefined;
  /** Steps of the given kind. */
  ops(op: StepOp): Step[];
}

export interface StackOptions {
  /** Project name: URNs and the `project:` config namespace. */
  project: string;
  stack?: string;
  /** Working directory of the provider host, where `require`s of the serialized provider resolve. */
  projectDir?: string;
  /** When set, state is saved here after every step and loaded at construction. */
  stateFile?: string;
  /** 32-byte key for the secrets in the saved state; a random one per Stack by default. */
  secretsKey?: Buffer;
}

const MARK_SECRET = "[secret]";
const zeroCalls = (): Record<ProviderMethod, number> => ({ Configure: 0, Check: 0, Diff: 0, Create: 0, Read: 0, Update: 0, Delete: 0 });

class StepFailure extends Error {}

interface Operation {
  host: ProviderHost;
  preview: boolean;
  steps: Step[];
  errors: EngineError[];
  registered: Set<string>;
  registrations: Registration[];
}

export class Stack {
  readonly project: string;
  readonly stackName: string;
  readonly projectDir: string;
  readonly state: StackState;
  /** `project:key` -> value; secret values are sent to Configure in plaintext and never written anywhere. */
  readonly config = new Map<string, { value: string; secret: boolean }>();
  /** Provider gRPC calls since construction (or resetCalls), by method. */
  calls = zeroCalls();
  /** What the harness did, one line per event (no property values). */
  readonly log: string[] = [];
  /** Everything the provider host processes wrote to stdout/stderr. */
  hostOutput = "";

  constructor(opts: StackOptions) {
    this.project = opts.project;
    this.stackName = opts.stack ?? "dev";
    this.projectDir = opts.projectDir ?? process.cwd();
    this.state = new StackState(opts.stateFile, opts.secretsKey ?? crypto.randomBytes(32));
    this.state.load();
  }

  /** Sets stack config; a key without `:` is put under the project's namespace. */
  setConfig(key: string, value: string, opts: { secret?: boolean } = {}): void {
    this.config.set(key.includes(":") ? key : `${this.project}:${key}`, { value, secret: opts.secret ?? false });
  }

  resetCalls(): void {
    this.calls = zeroCalls();
  }

  get resources(): readonly StateResource[] {
    return this.state.resources;
  }

  /** The live (not pending-delete) resource with this name or urn. */
  resource(nameOrUrn: string): StateResource | undefined {
    return this.state.resources.find((r) => !r.pendingDelete && (r.urn === nameOrUrn || r.name === nameOrUrn));
  }

  /** The serialized provider (`__provider`) recorded in state for this resource: the code destroy will run. */
  providerBlob(nameOrUrn: string): string | undefined {
    const v = this.resource(nameOrUrn)?.outputs.__provider ?? this.resource(nameOrUrn)?.inputs.__provider;
    return typeof v === "string" ? v : undefined;
  }

  /** The state as saved (secrets encrypted). */
  stateJson(): string {
    return this.state.toJson();
  }

  /** Everything the harness wrote, logged or captured, for "no secret appears anywhere" assertions. */
  recordedText(results: readonly OperationResult[] = []): string {
    const shown = results.map((r) => JSON.stringify({ ...r, registrations: undefined }));
    return [this.stateJson(), this.log.join("\n"), this.hostOutput, ...shown].join("\n");
  }

  /** Runs the program in preview: Check and Diff only, unknowns for values not known yet. */
  async preview(program: Program): Promise<OperationResult> {
    return this.withHost(true, async (op) => {
      const run = await this.runProgramWith(op, program);
      for (const r of this.unregistered(op)) op.steps.push(stepOf("delete", r));
      return run.exports;
    });
  }

  /** Runs the program and applies: creates, updates, replaces as registered; then deletes what is gone. */
  async up(program: Program): Promise<OperationResult> {
    return this.withHost(false, async (op) => {
      const run = await this.runProgramWith(op, program);
      if (op.errors.length > 0) return run.exports; // the engine stops before deleting when a step failed
      const gone = [...this.unregistered(op), ...this.state.resources.filter((r) => r.pendingDelete)];
      // In parallel, dependents first; the engine starts no new delete after a failed one (the error is recorded).
      await deleteInParallel(gone, (r) => this.deleteResource(op, r));
      return run.exports;
    });
  }

  /** Reads every resource and updates its outputs (and inputs, when Read returns them). */
  async refresh(): Promise<OperationResult> {
    return this.withHost(false, async (op) => {
      for (const r of [...this.state.resources]) {
        if (!r.custom) continue;
        try {
          const read = await op.host.read(r.id ?? "", r.urn, r.outputs, r.inputs);
          if (!read.id) {
            this.state.remove(r);
            this.note(`refresh ${r.urn}: gone`);
            op.steps.push(stepOf("delete", r));
          } else {
            // As the real engine (RefreshStep.ResultOp): the provider's Diff of what Read found (olds: its outputs
            // and inputs) against the inputs in state (news); the step is "same" when that Diff finds nothing, even
            // though outputs changed (a guest the watchdog moved: runningOn, domainId).
            const inputs = read.inputs ?? r.inputs;
            const diff = await op.host.diff(read.id, r.urn, read.outputs, r.inputs, inputs);
            const changed = diff.changes !== "none";
            const updated: StateResource = { ...r, id: read.id, outputs: read.outputs, inputs };
            this.state.resources[this.state.resources.indexOf(r)] = updated;
            this.note(`refresh ${r.urn}: ${changed ? "changed" : "same"}`);
            op.steps.push(stepOf(changed ? "update" : "same", updated));
          }
          this.state.save();
        } catch (e) {
          op.errors.push({ urn: r.urn, message: messageOf(e) });
        }
      }
      return undefined;
    });
  }

  /** Deletes every resource, dependents first, independent ones in parallel (as the engine does). */
  async destroy(): Promise<OperationResult> {
    return this.withHost(false, async (op) => {
      // As the engine: every resource whose dependents are gone is deleted at once, in parallel.
      await deleteInParallel([...this.state.resources], (r) => this.deleteResource(op, r));
      return undefined;
    });
  }

  private async withHost(preview: boolean, body: (op: Operation) => Promise<unknown>): Promise<OperationResult> {
    const before = { ...this.calls };
    const host = await ProviderHost.start({
      cwd: this.projectDir,
      project: this.project,
      calls: this.calls,
      onOutput: (t) => (this.hostOutput += t),
    });
    const op: Operation = { host, preview, steps: [], errors: [], registered: new Set(), registrations: [] };
    let exportsValue: unknown;
    try {
      // The engine configures the provider plugin once, before any resource call.
      const cfg: Record<string, string> = {};
      for (const [k, v] of this.config) cfg[k] = v.value;
      await host.configure(cfg);
      exportsValue = await body(op);
    } catch (e) {
      if (!op.errors.some((x) => x.message === messageOf(e))) op.errors.push({ message: messageOf(e) });
    } finally {
      await host.stop();
    }
    const calls = zeroCalls();
    for (const m of Object.keys(calls) as ProviderMethod[]) calls[m] = this.calls[m] - before[m];
    const steps = op.steps;
    return {
      steps,
      errors: op.errors,
      calls,
      exports: exportsValue,
      registrations: op.registrations,
      step: (n) => steps.find((s) => s.urn === n || s.name === n),
      ops: (o) => steps.filter((s) => s.op === o),
    };
  }

  private async runProgramWith(op: Operation, program: Program): Promise<{ exports: unknown }> {
    const secretConfigKeys = [...this.config].filter(([, v]) => v.secret).map(([k]) => k);
    const config: Record<string, string> = {};
    for (const [k, v] of this.config) config[k] = v.value;
    const run = await runProgram(program, {
      project: this.project,
      stack: this.stackName,
      preview: op.preview,
      config,
      secretConfigKeys,
      register: (reg) => this.register(op, reg),
    });
    op.registrations.push(...run.registrations);
    // Failed registrations come back from the SDK wrapped ("failed to register new resource ..."); those are
    // already recorded. Anything else is an error of the program itself.
    for (const e of run.errors) {
      const known = op.errors.some((x) => e.message.includes(x.message));
      if (!known && !op.errors.some((x) => x.message === e.message)) op.errors.push({ message: e.message });
    }
    return run;
  }

  private unregistered(op: Operation): StateResource[] {
    return this.state.resources.filter((r) => !r.pendingDelete && !op.registered.has(r.urn));
  }

  private fail(op: Operation, err: EngineError): never {
    op.errors.push(err);
    this.note(`error ${err.urn ?? ""}: ${err.message}`);
    throw new StepFailure(err.message);
  }

  private note(line: string): void {
    this.log.push(line);
  }

  /** One registration, as the engine's step generator and executor handle it. */
  private async register(op: Operation, reg: Registration): Promise<RegistrationResult> {
    op.registered.add(reg.urn);
    const old = this.state.find(reg.urn);
    if (!reg.custom) return this.registerComponent(op, reg, old);
    if (!reg.type.startsWith("pulumi-nodejs:dynamic")) {
      this.fail(op, { urn: reg.urn, message: `${reg.type}: only dynamic provider resources are served by the harness` });
    }
    const { plain, secretKeys } = unwrapBag(reg.inputs);
    const news = { ...plain };
    for (const k of reg.ignoreChanges) if (old && k in old.inputs) news[k] = old.inputs[k];

    let checked: PropertyBag;
    try {
      const chk = await op.host.check(reg.urn, old?.inputs ?? {}, news);
      if (chk.failures.length > 0) {
        const text = chk.failures.map((f) => `${f.property}: ${f.reason}`).join("; ");
        this.fail(op, { urn: reg.urn, message: `check failed for ${reg.urn}: ${text}`, failures: chk.failures });
      }
      checked = chk.inputs;
    } catch (e) {
      if (e instanceof StepFailure) throw e;
      this.fail(op, { urn: reg.urn, message: messageOf(e) });
    }

    let kind: StepOp = "create";
    let replaces: string[] = [];
    let deleteBeforeReplace = false;
    if (old) {
      let diff;
      try {
        diff = await op.host.diff(old.id ?? "", reg.urn, old.outputs, checked, old.inputs);
      } catch (e) {
        this.fail(op, { urn: reg.urn, message: messageOf(e) });
      }
      replaces = [...diff.replaces];
      for (const k of reg.replaceOnChanges) {
        if (!replaces.includes(k) && !sameValue(old.inputs[k], checked[k])) replaces.push(k);
      }
      const inputsChanged = !sameValue(old.inputs, checked);
      if (replaces.length > 0) {
        kind = "replace";
        deleteBeforeReplace = diff.deleteBeforeReplace || reg.deleteBeforeReplace;
      } else if (diff.changes === "some" || (diff.changes === "unknown" && inputsChanged) || old.initErrors) {
        // A resource that failed to initialize is always updated, so its initialization is retried.
        kind = "update";
      } else {
        kind = "same";
      }
    }
    const shown = wrapBag(checked, []);
    for (const k of secretKeys) if (k in shown) shown[k] = MARK_SECRET;
    op.steps.push({
      op: kind,
      urn: reg.urn,
      type: reg.type,
      name: reg.name,
      ...(kind === "replace" ? { replaces, deleteBeforeReplace } : {}),
      inputs: shown,
    });
    this.note(`${op.preview ? "plan" : "step"} ${kind}${kind === "replace" && deleteBeforeReplace ? " (delete first)" : ""} ${reg.urn}`);

    const secretOutputs = [...new Set([...secretKeys, ...reg.additionalSecretOutputs])];
    if (op.preview) {
      // The engine's preview of a dynamic resource: old outputs when unchanged, else the checked inputs, with
      // everything else unknown (absent keys become unknown Outputs in a preview run).
      if (kind === "same") return { id: old!.id, outputs: wrapBag(old!.outputs, old!.secretOutputs) };
      return { id: kind === "update" ? old!.id : undefined, outputs: wrapBag(checked, secretOutputs) };
    }

    const base: StateResource = {
      urn: reg.urn,
      type: reg.type,
      name: reg.name,
      custom: true,
      inputs: checked,
      outputs: {},
      secretInputs: secretKeys,
      secretOutputs,
      parent: reg.parent,
      dependencies: [...new Set(reg.dependencies)],
      ...(reg.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
      ...(reg.additionalSecretOutputs.length ? { additionalSecretOutputs: reg.additionalSecretOutputs } : {}),
    };

    let result: StateResource;
    if (kind === "same") {
      result = { ...base, id: old!.id, outputs: old!.outputs, secretOutputs: old!.secretOutputs };
      this.state.put(result);
      this.state.save();
    } else if (kind === "update") {
      result = await this.applyUpdate(op, base, old!);
    } else {
      if (kind === "replace") {
        if (deleteBeforeReplace) {
          await this.deleteResource(op, old!);
        } else {
          old!.pendingDelete = true; // deleted after the program, with the other deletes
        }
      }
      result = await this.applyCreate(op, base);
    }
    return { id: result.id, outputs: wrapBag(result.outputs, result.secretOutputs) };
  }

  private registerComponent(op: Operation, reg: Registration, old: StateResource | undefined): RegistrationResult {
    op.steps.push({ op: old ? "same" : "create", urn: reg.urn, type: reg.type, name: reg.name });
    if (!op.preview) {
      this.state.put({
        urn: reg.urn, type: reg.type, name: reg.name, custom: false, inputs: {}, outputs: {},
        secretInputs: [], secretOutputs: [], parent: reg.parent, dependencies: [...new Set(reg.dependencies)],
      });
      this.state.save();
    }
    return { id: undefined, outputs: {} };
  }

  private async applyCreate(op: Operation, base: StateResource): Promise<StateResource> {
    try {
      const { id, outputs } = await op.host.create(base.urn, base.inputs);
      const r = { ...base, id, outputs };
      this.state.put(r);
      this.state.save();
      this.note(`created ${base.urn}`);
      return r;
    } catch (e) {
      this.recordInitFailure(op, base, e);
      this.fail(op, { urn: base.urn, message: messageOf(e) });
    }
  }

  private async applyUpdate(op: Operation, base: StateResource, old: StateResource): Promise<StateResource> {
    try {
      const outputs = await op.host.update(old.id ?? "", base.urn, old.outputs, base.inputs, old.inputs);
      const r = { ...base, id: old.id, outputs };
      this.state.put(r);
      this.state.save();
      this.note(`updated ${base.urn}`);
      return r;
    } catch (e) {
      this.recordInitFailure(op, { ...base, id: old.id }, e);
      this.fail(op, { urn: base.urn, message: messageOf(e) });
    }
  }

  /** ErrorResourceInitFailed: the object exists, so it is kept in state with its reasons, as the engine does. */
  private recordInitFailure(op: Operation, base: StateResource, e: unknown): void {
    if (!(e instanceof ProviderCallError) || !e.initFailure) return;
    const f = e.initFailure;
    this.state.put({ ...base, id: f.id || base.id, outputs: f.properties, initErrors: f.reasons.length ? f.reasons : [e.message] });
    this.state.save();
    this.note(`init failed ${base.urn}`);
  }

  private async deleteResource(op: Operation, r: StateResource): Promise<void> {
    if (r.custom) {
      try {
        await op.host.delete(r.id ?? "", r.urn, r.outputs, r.inputs);
      } catch (e) {
        op.errors.push({ urn: r.urn, message: messageOf(e) });
        this.note(`error ${r.urn}: delete failed`);
        throw e;
      }
    }
    this.state.remove(r);
    this.state.save();
    this.note(`deleted ${r.urn}`);
    // The delete of a replaced resource is part of its replace step, already listed.
    if (!op.steps.some((s) => s.urn === r.urn && s.op === "replace")) op.steps.push(stepOf("delete", r));
  }
}

function stepOf(op: StepOp, r: StateResource): Step {
  return { op, urn: r.urn, type: r.type, name: r.name };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
