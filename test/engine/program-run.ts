// Runs a Pulumi program under the SDK's mocks and hands each resource registration, with its options, to the
// harness's engine, which answers with the id and outputs the program then sees, as the engine would.
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { PropertyBag } from "./wire-values";

/* eslint-disable @typescript-eslint/no-require-imports */
const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const settings = require(path.join(sdkDir, "runtime/settings"));
const state = require(path.join(sdkDir, "runtime/state"));
const runtimeConfig = require(path.join(sdkDir, "runtime/config"));
/* eslint-enable @typescript-eslint/no-require-imports */

export type Program = () => unknown;

/** One RegisterResource request, as the engine receives it. */
export interface Registration {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  /** Wire form: secrets wrapped, values not yet known as the unknown sentinel (preview only). */
  inputs: PropertyBag;
  parent?: string;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  deleteBeforeReplace: boolean;
  additionalSecretOutputs: string[];
  ignoreChanges: string[];
  replaceOnChanges: string[];
  protect: boolean;
}

/** What the engine answers: `id` undefined means not yet known (preview of a create). */
export interface RegistrationResult {
  id?: string;
  /** Wire form: may contain secret wrappers and, in preview, the unknown sentinel. */
  outputs: PropertyBag;
}

export interface ProgramRunOptions {
  project: string;
  stack: string;
  preview: boolean;
  /** `project:key` -> plaintext value, and which keys are secret (so pulumi.Config marks them). */
  config: Record<string, string>;
  secretConfigKeys: string[];
  register: (reg: Registration) => Promise<RegistrationResult>;
}

export interface ProgramRunResult {
  registrations: Registration[];
  /** Errors of the program itself and of failed registrations (the SDK reports these as unhandled rejections). */
  errors: Error[];
  /** The program's return value (its stack outputs), resolved. */
  exports: unknown;
}

// The URN the mock monitor gives a resource: parent's type prefixed, as the engine does.
function urnOf(stack: string, project: string, parent: string, type: string, name: string): string {
  let t = type;
  if (parent) t = parent.split("::")[2].split("$").pop() + "$" + type;
  return `urn:pulumi:${stack}::${project}::${t}::${name}`;
}

let running = false;

export async function runProgram(program: Program, opts: ProgramRunOptions): Promise<ProgramRunResult> {
  if (running) throw new Error("the SDK runtime is process-global: one program run at a time");
  running = true;
  const registrations: Registration[] = [];
  const errors: Error[] = [];
  let inflight = 0;
  // The monitor calls newResource synchronously from registerResource, so the request being served is known.
  let current: Registration | undefined;

  const mocks: pulumi.runtime.Mocks = {
    call: (args) => {
      throw new Error(`the engine harness does not serve invokes (${args.token})`);
    },
    newResource: async () => {
      const reg = current;
      current = undefined;
      if (!reg) throw new Error("the engine harness does not serve reads of existing resources");
      registrations.push(reg);
      inflight++;
      try {
        const res = await opts.register(reg);
        return { id: res.id, state: res.outputs };
      } finally {
        inflight--;
      }
    },
  };

  // Registration failures reach the SDK as rejected promises it deliberately leaves unhandled (the language host
  // reports them); collect them here instead of letting the test runner fail on them.
  const savedListeners = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  const onUnhandled = (reason: unknown): void => {
    errors.push(reason instanceof Error ? reason : new Error(String(reason)));
  };
  process.on("unhandledRejection", onUnhandled);

  try {
    await pulumi.runtime.setMocks(mocks, opts.project, opts.stack, opts.preview);
    runtimeConfig.setAllConfig(opts.config, opts.secretConfigKeys);
    const monitor = settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    monitor.registerResource = (req: any, cb: unknown) => {
      const propertyDependencies: Record<string, string[]> = {};
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      req.getPropertydependenciesMap().forEach((v: any, k: string) => (propertyDependencies[k] = v.getUrnsList()));
      current = {
        urn: urnOf(opts.stack, opts.project, req.getParent(), req.getType(), req.getName()),
        type: req.getType(),
        name: req.getName(),
        custom: req.getCustom(),
        inputs: req.getObject() ? req.getObject().toJavaScript() : {},
        parent: req.getParent() || undefined,
        dependencies: req.getDependenciesList(),
        propertyDependencies,
        deleteBeforeReplace: req.getDeletebeforereplace(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        ignoreChanges: req.getIgnorechangesList(),
        replaceOnChanges: req.getReplaceonchangesList(),
        protect: req.getProtect() ?? false,
      };
      return register(req, cb);
    };

    let exportsValue: unknown;
    try {
      exportsValue = await program();
    } catch (e) {
      errors.push(e instanceof Error ? e : new Error(String(e)));
    }
    // Registrations may start late (inside applies); wait until the SDK's RPC queue is drained and stays so.
    for (;;) {
      const before = state.getStore().settings.rpcDone;
      await settings.waitForRPCs();
      await new Promise((r) => setImmediate(r));
      if (inflight === 0 && state.getStore().settings.rpcDone === before) break;
    }
    // Unhandled rejections are reported after the microtask queue drains.
    await new Promise((r) => setTimeout(r, 0));
    return { registrations, errors, exports: exportsValue };
  } finally {
    process.off("unhandledRejection", onUnhandled);
    for (const l of savedListeners) process.on("unhandledRejection", l);
    running = false;
  }
}
