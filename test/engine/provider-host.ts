// The SDK's own dynamic-provider host (cmd/dynamic-provider), started as the engine starts it and called over gRPC
// with the SDK's generated stubs. Structs are built with the google-protobuf copy the SDK itself resolves, since
// messages from another copy are rejected by setArgs/setNews.
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { PropertyBag } from "./wire-values";

const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const fromSdk = (m: string): string => require.resolve(m, { paths: [sdkDir] });
/* eslint-disable @typescript-eslint/no-require-imports */
const grpc = require(fromSdk("@grpc/grpc-js"));
const structproto = require(fromSdk("google-protobuf/google/protobuf/struct_pb"));
const provproto = require(path.join(sdkDir, "proto/provider_pb"));
const provrpc = require(path.join(sdkDir, "proto/provider_grpc_pb"));
const statusproto = require(path.join(sdkDir, "proto/status_pb"));
/* eslint-enable @typescript-eslint/no-require-imports */

export type ProviderMethod = "Configure" | "Check" | "Diff" | "Create" | "Read" | "Update" | "Delete";

export interface CheckFailure {
  property: string;
  reason: string;
}

export type DiffChanges = "unknown" | "none" | "some";

export interface DiffResult {
  changes: DiffChanges;
  replaces: string[];
  deleteBeforeReplace: boolean;
}

export interface InitFailure {
  id: string;
  properties: PropertyBag;
  reasons: string[];
}

/** A failed provider call; `initFailure` is set when the gRPC status details carried ErrorResourceInitFailed. */
export class ProviderCallError extends Error {
  constructor(
    readonly method: ProviderMethod,
    message: string,
    readonly initFailure?: InitFailure,
  ) {
    super(`${method} failed: ${message}`);
  }
}

export interface HostOptions {
  /** Working directory of the host: the project root, where the program's node_modules resolve. */
  cwd: string;
  project: string;
  /** Counts are added here (shared with the Stack, so tests see totals). */
  calls: Record<ProviderMethod, number>;
  /** Receives everything the host writes to stdout/stderr after its port line. */
  onOutput: (text: string) => void;
}

const toStruct = (bag: PropertyBag): unknown => structproto.Struct.fromJavaScript(bag);
const fromStruct = (s: { toJavaScript(): PropertyBag } | undefined): PropertyBag => (s ? s.toJavaScript() : {});

export class ProviderHost {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly client: any, // eslint-disable-line @typescript-eslint/no-explicit-any
    private readonly opts: HostOptions,
  ) {}

  static async start(opts: HostOptions): Promise<ProviderHost> {
    const entry = path.join(sdkDir, "cmd/dynamic-provider/index.js");
    const env: NodeJS.ProcessEnv = { ...process.env, PULUMI_NODEJS_PROJECT: opts.project };
    delete env.PULUMI_CONFIG;
    const proc = spawn(process.execPath, [entry, "127.0.0.1:1"], { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const port = await new Promise<number>((resolve, reject) => {
      let buffered = "";
      const onData = (d: Buffer): void => {
        buffered += d.toString("utf8");
        const nl = buffered.indexOf("\n");
        if (nl < 0) return;
        proc.stdout!.off("data", onData);
        proc.stdout!.on("data", (more: Buffer) => opts.onOutput(more.toString("utf8")));
        if (buffered.length > nl + 1) opts.onOutput(buffered.slice(nl + 1));
        const n = Number(buffered.slice(0, nl).trim());
        if (Number.isInteger(n) && n > 0) resolve(n);
        else reject(new Error(`dynamic provider host printed no port: ${buffered.slice(0, 200)}`));
      };
      proc.stdout!.on("data", onData);
      proc.stderr!.on("data", (d: Buffer) => opts.onOutput(d.toString("utf8")));
      proc.once("exit", (code) => reject(new Error(`dynamic provider host exited with ${code} before listening`)));
      proc.once("error", reject);
    });
    const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    return new ProviderHost(proc, client, opts);
  }

  async stop(): Promise<void> {
    this.client.close();
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once("exit", () => resolve()));
    this.proc.kill("SIGTERM");
    await exited;
  }

  /** Configure with the stack config as `project:key` -> plaintext value, as the engine sends it. */
  async configure(config: Record<string, string>): Promise<void> {
    const req = new provproto.ConfigureRequest();
    req.setArgs(toStruct(config));
    for (const [k, v] of Object.entries(config)) req.getVariablesMap().set(k, v);
    req.setAcceptsecrets(true);
    req.setAcceptresources(true);
    await this.call("Configure", "configure", req);
  }

  async check(urn: string, olds: PropertyBag, news: PropertyBag): Promise<{ inputs: PropertyBag; failures: CheckFailure[] }> {
    const req = new provproto.CheckRequest();
    req.setUrn(urn);
    req.setOlds(toStruct(olds));
    req.setNews(toStruct(news));
    const resp = await this.call("Check", "check", req);
    const failures = (resp.getFailuresList() as { getProperty(): string; getReason(): string }[]).map((f) => ({
      property: f.getProperty(),
      reason: f.getReason(),
    }));
    return { inputs: fromStruct(resp.getInputs()), failures };
  }

  async diff(id: string, urn: string, olds: PropertyBag, news: PropertyBag, oldInputs: PropertyBag): Promise<DiffResult> {
    const req = new provproto.DiffRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setOlds(toStruct(olds));
    req.setNews(toStruct(news));
    req.setOldInputs(toStruct(oldInputs));
    const resp = await this.call("Diff", "diff", req);
    const c = resp.getChanges();
    const D = provproto.DiffResponse.DiffChanges;
    return {
      changes: c === D.DIFF_SOME ? "some" : c === D.DIFF_NONE ? "none" : "unknown",
      replaces: resp.getReplacesList(),
      deleteBeforeReplace: resp.getDeletebeforereplace(),
    };
  }

  async create(urn: string, inputs: PropertyBag): Promise<{ id: string; outputs: PropertyBag }> {
    const req = new provproto.CreateRequest();
    req.setUrn(urn);
    req.setProperties(toStruct(inputs));
    req.setPreview(false);
    const resp = await this.call("Create", "create", req);
    return { id: resp.getId(), outputs: fromStruct(resp.getProperties()) };
  }

  async read(id: string, urn: string, outputs: PropertyBag, inputs: PropertyBag): Promise<{ id: string; outputs: PropertyBag; inputs?: PropertyBag }> {
    const req = new provproto.ReadRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setProperties(toStruct(outputs));
    req.setInputs(toStruct(inputs));
    const resp = await this.call("Read", "read", req);
    return { id: resp.getId(), outputs: fromStruct(resp.getProperties()), inputs: resp.getInputs() ? fromStruct(resp.getInputs()) : undefined };
  }

  async update(id: string, urn: string, olds: PropertyBag, news: PropertyBag, oldInputs: PropertyBag): Promise<PropertyBag> {
    const req = new provproto.UpdateRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setOlds(toStruct(olds));
    req.setNews(toStruct(news));
    req.setOldInputs(toStruct(oldInputs));
    req.setPreview(false);
    const resp = await this.call("Update", "update", req);
    return fromStruct(resp.getProperties());
  }

  async delete(id: string, urn: string, outputs: PropertyBag, inputs: PropertyBag): Promise<void> {
    const req = new provproto.DeleteRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setProperties(toStruct(outputs));
    req.setOldInputs(toStruct(inputs));
    await this.call("Delete", "delete", req);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private call(method: ProviderMethod, fn: string, req: unknown): Promise<any> {
    this.opts.calls[method] = (this.opts.calls[method] ?? 0) + 1;
    return new Promise((resolve, reject) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      this.client[fn](req, (err: any, resp: unknown) => {
        if (err) reject(new ProviderCallError(method, String(err.details ?? err.message), initFailureOf(err)));
        else resolve(resp);
      });
    });
  }
}

/** Decodes ErrorResourceInitFailed from `grpc-status-details-bin`, where the host packs it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function initFailureOf(err: any): InitFailure | undefined {
  const bins: unknown[] = err?.metadata?.get?.("grpc-status-details-bin") ?? [];
  for (const bin of bins) {
    const status = statusproto.Status.deserializeBinary(new Uint8Array(bin as Buffer));
    for (const any of status.getDetailsList()) {
      if (!String(any.getTypeUrl()).endsWith("pulumirpc.ErrorResourceInitFailed")) continue;
      const detail = provproto.ErrorResourceInitFailed.deserializeBinary(any.getValue_asU8());
      return { id: detail.getId(), properties: fromStruct(detail.getProperties()), reasons: detail.getReasonsList() };
    }
  }
  return undefined;
}
