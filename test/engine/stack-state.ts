// The harness's checkpoint: what the engine keeps per resource, and its JSON form. Like the engine's state file,
// secret properties are stored encrypted (AES-256-GCM with the stack's key), so a test can read the saved JSON and
// assert that no plaintext secret is in it.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { PropertyBag, SECRET_SIG, SIG_KEY } from "./wire-values";

export interface StateResource {
  urn: string;
  type: string;
  name: string;
  /** false for component resources: recorded, never sent to a provider. */
  custom: boolean;
  id?: string;
  /** Inputs as returned by Check (plaintext in memory), including `__provider`. */
  inputs: PropertyBag;
  /** Outputs from Create/Update/Read (plaintext in memory), including `__provider`. */
  outputs: PropertyBag;
  /** Top-level input/output names that are secret (encrypted when saved). */
  secretInputs: string[];
  secretOutputs: string[];
  parent?: string;
  /** URNs this resource depends on (explicit dependsOn and through Outputs). */
  dependencies: string[];
  deleteBeforeReplace?: boolean;
  additionalSecretOutputs?: string[];
  /** Set when Create/Update failed with ErrorResourceInitFailed: created but not initialized. */
  initErrors?: string[];
  /** A replaced resource waiting for its delete (create-before-delete replacement). */
  pendingDelete?: boolean;
}

interface SavedCiphertext {
  [SIG_KEY]: string;
  ciphertext: string;
}

const FORMAT_VERSION = 1;

export class StackState {
  resources: StateResource[] = [];

  constructor(
    private readonly file: string | undefined,
    private readonly key: Buffer,
  ) {}

  find(urn: string): StateResource | undefined {
    return this.resources.find((r) => r.urn === urn && !r.pendingDelete);
  }

  /** Replaces the live resource of the same urn (pending deletes are kept). */
  put(r: StateResource): void {
    const i = this.resources.findIndex((x) => x.urn === r.urn && !x.pendingDelete);
    if (i >= 0) this.resources[i] = r;
    else this.resources.push(r);
  }

  remove(r: StateResource): void {
    this.resources = this.resources.filter((x) => x !== r);
  }

  /** The JSON the harness writes: secrets encrypted. */
  toJson(): string {
    const resources = this.resources.map((r) => ({
      ...r,
      inputs: this.encryptBag(r.inputs, r.secretInputs),
      outputs: this.encryptBag(r.outputs, r.secretOutputs),
    }));
    return JSON.stringify({ version: FORMAT_VERSION, resources }, null, 2);
  }

  save(): void {
    if (!this.file) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, this.toJson());
    fs.renameSync(tmp, this.file);
  }

  load(): void {
    if (!this.file || !fs.existsSync(this.file)) return;
    const parsed = JSON.parse(fs.readFileSync(this.file, "utf8")) as { version: number; resources: StateResource[] };
    if (parsed.version !== FORMAT_VERSION) throw new Error(`unsupported state version ${parsed.version}`);
    this.resources = parsed.resources.map((r) => ({
      ...r,
      inputs: this.decryptBag(r.inputs),
      outputs: this.decryptBag(r.outputs),
    }));
  }

  private encryptBag(bag: PropertyBag, secretKeys: readonly string[]): PropertyBag {
    const out: PropertyBag = {};
    for (const [k, v] of Object.entries(bag)) out[k] = secretKeys.includes(k) ? this.encrypt(v) : v;
    return out;
  }

  private decryptBag(bag: PropertyBag): PropertyBag {
    const out: PropertyBag = {};
    for (const [k, v] of Object.entries(bag)) {
      const c = v as Partial<SavedCiphertext> | null;
      out[k] = typeof c === "object" && c !== null && c[SIG_KEY] === SECRET_SIG && typeof c.ciphertext === "string"
        ? this.decrypt(c.ciphertext)
        : v;
    }
    return out;
  }

  private encrypt(v: unknown): SavedCiphertext {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(v ?? null), "utf8"), cipher.final()]);
    return { [SIG_KEY]: SECRET_SIG, ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64") };
  }

  private decrypt(ciphertext: string): unknown {
    const raw = Buffer.from(ciphertext, "base64");
    const decipher = crypto.createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8"));
  }
}
