// Reads a Xen vm.cfg: a file of Python assignments (`name = 'vm1'`, `memory = 1024`, `disk = ['file:...']`).
// Only literals are understood (strings, numbers, booleans, None, lists/tuples of those), which is what
// Oracle VM writes; anything else is an error, as a real Python parse of a garbled file would be.

export type CfgValue = string | number | boolean | null | CfgValue[];

export interface DiskSpec {
  /** Backend type before the first colon: file, phy, tap:aio ... */
  type: string;
  /** Path or device after the type prefix. */
  target: string;
  /** Guest device, e.g. xvda. */
  dev: string;
  mode: string;
}

export interface VmConfig {
  name: string;
  memory: number;
  vcpus: number;
  disks: DiskSpec[];
  vifs: string[];
  onCrash: string;
  values: Record<string, CfgValue>;
}

export class VmConfigError extends Error {}

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parseAll(): Record<string, CfgValue> {
    const out: Record<string, CfgValue> = {};
    for (;;) {
      this.skipBlank(true);
      if (this.pos >= this.text.length) return out;
      const name = this.identifier();
      this.skipBlank(false);
      if (this.text[this.pos] !== "=") throw this.error("expected '='");
      this.pos++;
      this.skipBlank(false);
      out[name] = this.value();
      this.skipBlank(false);
      const c = this.text[this.pos];
      if (c === ";") this.pos++;
      else if (c !== undefined && c !== "\n") throw this.error("unexpected text after value");
    }
  }

  private error(what: string): VmConfigError {
    const line = this.text.slice(0, this.pos).split("\n").length;
    return new VmConfigError(`line ${line}: ${what}`);
  }

  /** Skips spaces and comments; newlines too when `newlines` (between statements or inside brackets). */
  private skipBlank(newlines: boolean): void {
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === " " || c === "\t" || c === "\r") this.pos++;
      else if (c === "\\" && this.text[this.pos + 1] === "\n") this.pos += 2;
      else if (c === "\n" && newlines) this.pos++;
      else if (c === "#") {
        while (this.pos < this.text.length && this.text[this.pos] !== "\n") this.pos++;
      } else return;
    }
  }

  private identifier(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos));
    if (!m) throw this.error("expected a variable name");
    this.pos += m[0].length;
    return m[0];
  }

  private value(): CfgValue {
    const c = this.text[this.pos];
    if (c === "'" || c === '"') return this.string();
    if (c === "[" || c === "(") return this.list(c === "[" ? "]" : ")");
    const rest = this.text.slice(this.pos);
    const num = /^-?(0x[0-9a-fA-F]+|\d+(\.\d+)?)/.exec(rest);
    if (num) {
      this.pos += num[0].length;
      return Number(num[0]);
    }
    for (const [word, v] of [["True", true], ["False", false], ["None", null]] as const) {
      if (rest.startsWith(word) && !/^[A-Za-z0-9_]/.test(rest.slice(word.length))) {
        this.pos += word.length;
        return v;
      }
    }
    throw this.error("unsupported value");
  }

  private string(): string {
    const quote = this.text[this.pos];
    const triple = this.text.startsWith(quote.repeat(3), this.pos);
    const end = triple ? quote.repeat(3) : quote;
    this.pos += end.length;
    let out = "";
    while (this.pos < this.text.length) {
      if (this.text.startsWith(end, this.pos)) {
        this.pos += end.length;
        return out;
      }
      const c = this.text[this.pos];
      if (c === "\n" && !triple) break;
      if (c === "\\" && this.pos + 1 < this.text.length) {
        const n = this.text[this.pos + 1];
        out += n === "n" ? "\n" : n === "t" ? "\t" : n;
        this.pos += 2;
        continue;
      }
      out += c;
      this.pos++;
    }
    throw this.error("unterminated string");
  }

  private list(close: string): CfgValue[] {
    this.pos++;
    const items: CfgValue[] = [];
    for (;;) {
      this.skipBlank(true);
      if (this.text[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.value());
      this.skipBlank(true);
      const c = this.text[this.pos];
      if (c === ",") this.pos++;
      else if (c !== close) throw this.error(`expected ',' or '${close}'`);
    }
  }
}

export function parseCfgAssignments(text: string): Record<string, CfgValue> {
  return new Parser(text).parseAll();
}

/** `file:/OVS/running_pool/vm1/System.img,xvda,w` -> {type: file, target, dev: xvda, mode: w}. */
export function parseDiskSpec(spec: string): DiskSpec {
  const parts = spec.split(",");
  const backend = parts[0] ?? "";
  // `tap:aio:/path` has two prefixes; the path is what follows the last known prefix.
  const m = /^(tap:[a-z0-9]+|[a-z]+):(.*)$/.exec(backend);
  const type = m ? m[1] : "phy";
  const target = m ? m[2] : backend;
  const dev = (parts[1] ?? "").replace(/:(disk|cdrom)$/, "");
  return { type, target, dev, mode: parts[2] ?? "r" };
}

function asInt(v: CfgValue | undefined, key: string, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
  throw new VmConfigError(`${key} must be an integer`);
}

function asStrings(v: CfgValue | undefined, key: string): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  throw new VmConfigError(`${key} must be a list of strings`);
}

export function parseVmConfig(text: string): VmConfig {
  const values = parseCfgAssignments(text);
  const name = values.name;
  if (typeof name !== "string" || name === "") throw new VmConfigError("name is missing");
  const onCrash = values.on_crash ?? "restart";
  if (typeof onCrash !== "string") throw new VmConfigError("on_crash must be a string");
  return {
    name,
    // xm's defaults when a key is missing.
    memory: asInt(values.memory, "memory", 128),
    vcpus: asInt(values.vcpus, "vcpus", 1),
    disks: asStrings(values.disk, "disk").map(parseDiskSpec),
    vifs: asStrings(values.vif, "vif"),
    onCrash,
    values,
  };
}

/** The disk image the guest process "boots": the first `file:`-backed disk (tap:aio too). */
export function firstFileDisk(cfg: VmConfig): DiskSpec | undefined {
  return cfg.disks.find((d) => d.type === "file" || d.type.startsWith("tap:"));
}

/** Linux block device number xend reports for a guest device (xvda = 51712). */
export function deviceNumber(dev: string): number {
  const m = /^(xvd|hd|sd)([a-z])$/.exec(dev);
  if (!m) return 0;
  const index = m[2].charCodeAt(0) - 97;
  if (m[1] === "xvd") return 202 * 256 + index * 16;
  if (m[1] === "sd") return 8 * 256 + index * 16;
  // IDE: two disks per major (hda/hdb on 3, hdc/hdd on 22).
  const major = [3, 22, 33, 34][Math.floor(index / 2)] ?? 3;
  return major * 256 + (index % 2) * 64;
}

/** The file-backed disks of a config as (path, guest device): what a migration target must reach. */
export function fileDiskSpecs(cfg: VmConfig): { path: string; dev: string }[] {
  return cfg.disks.filter((d) => d.type === "file" || d.type.startsWith("tap:")).map((d) => ({ path: d.target, dev: d.dev }));
}
