import { ParseError } from "./parse-error";

/** A value in vm.cfg: Python string, int, float, bool, None, or a list of these. */
export type VmCfgValue = string | number | boolean | null | VmCfgValue[];

const COMMAND = "vm.cfg";

/** Line number of an offset, for error messages. */
function lineAt(text: string, offset: number): { line: string; number: number } {
  const before = text.slice(0, offset);
  const number = before.split("\n").length;
  const start = before.lastIndexOf("\n") + 1;
  const end = text.indexOf("\n", offset);
  return { line: text.slice(start, end < 0 ? text.length : end), number };
}

/**
 * Parses a Xen vm.cfg (Python assignments): `name = 'vm1'`, `memory = 1024`, `disk = ['file:...,xvda,w']`.
 * Supports single/double-quoted strings with escapes, ints, floats, True/False/None, lists and tuples
 * (spanning lines, trailing commas), `#` comments and `;`-separated statements. Anything else is an error.
 */
export function parseVmCfg(text: string): Record<string, VmCfgValue> {
  let i = 0;
  const out: Record<string, VmCfgValue> = {};
  const fail = (reason: string): never => {
    const at = lineAt(text, Math.min(i, text.length));
    throw new ParseError(COMMAND, reason, at.line, at.number);
  };
  // Skips spaces and comments; newlines too when inside brackets.
  const skip = (newlines: boolean): void => {
    for (;;) {
      const c = text[i];
      if (c === " " || c === "\t" || c === "\r" || (newlines && c === "\n")) i++;
      else if (c === "\\" && text[i + 1] === "\n") i += 2; // explicit line continuation
      else if (c === "#") while (i < text.length && text[i] !== "\n") i++;
      else return;
    }
  };
  const parseString = (): string => {
    const quote = text[i];
    const triple = text.startsWith(quote.repeat(3), i);
    i += triple ? 3 : 1;
    let s = "";
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text[i];
      if (triple ? text.startsWith(quote.repeat(3), i) : c === quote) {
        i += triple ? 3 : 1;
        return s;
      }
      if (c === "\n" && !triple) fail("unterminated string");
      if (c === "\\") {
        const n = text[i + 1];
        const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"', "\n": "" };
        if (n in simple) {
          s += simple[n];
          i += 2;
        } else if (/[0-7]/.test(n)) {
          const oct = /^[0-7]{1,3}/.exec(text.slice(i + 1))![0];
          s += String.fromCharCode(parseInt(oct, 8));
          i += 1 + oct.length;
        } else if (n === "x" && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 2, i + 4))) {
          s += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
          i += 4;
        } else {
          s += "\\"; // Python keeps unknown escapes literally.
          i += 1;
        }
        continue;
      }
      s += c;
      i++;
    }
  };
  const parseValue = (inBrackets: boolean): VmCfgValue => {
    skip(inBrackets);
    const c = text[i];
    if (c === "'" || c === '"') {
      let s = parseString();
      // Adjacent string literals concatenate, as in Python.
      for (;;) {
        const save = i;
        skip(inBrackets);
        if (text[i] === "'" || text[i] === '"') s += parseString();
        else {
          i = save;
          return s;
        }
      }
    }
    if (c === "[" || c === "(") {
      const close = c === "[" ? "]" : ")";
      i++;
      const list: VmCfgValue[] = [];
      for (;;) {
        skip(true);
        if (text[i] === close) {
          i++;
          return list;
        }
        list.push(parseValue(true));
        skip(true);
        if (text[i] === ",") i++;
        else if (text[i] !== close) fail(`expected , or ${close} in list`);
      }
    }
    const m = /^(-?(?:0[xX][0-9A-Fa-f]+|\d+\.\d*(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)|True|False|None)(?![\w.])/.exec(text.slice(i));
    if (!m) return fail("expected a string, number, True/False/None or list");
    i += m[0].length;
    if (m[0] === "True") return true;
    if (m[0] === "False") return false;
    if (m[0] === "None") return null;
    return /^-?0[xX]/.test(m[0]) ? (m[0].startsWith("-") ? -1 : 1) * parseInt(m[0].replace(/^-?0[xX]/, ""), 16) : Number(m[0]);
  };
  for (;;) {
    skip(false);
    if (i >= text.length) return out;
    if (text[i] === "\n" || text[i] === ";") {
      i++;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (!name) fail("expected `name = value`");
    i += name![0].length;
    skip(false);
    if (text[i] !== "=" || text[i + 1] === "=") fail("expected `=`");
    i++;
    out[name![0]] = parseValue(false);
    skip(false);
    if (i < text.length && text[i] !== "\n" && text[i] !== ";") fail("unexpected text after the value");
  }
}

function formatValue(v: VmCfgValue, key: string): string {
  if (v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new RangeError(`vm.cfg ${key}: ${v} is not a finite number`);
    return String(v);
  }
  if (typeof v === "string") {
    // repr-style single-quoted string; escapes keep any character from ending the string or the line.
    return "'" + v.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t") + "'";
  }
  return "[" + v.map((x) => formatValue(x, key)).join(", ") + "]";
}

/** Writes vm.cfg text that parseVmCfg (and Python) read back to the same values. */
export function formatVmCfg(cfg: Record<string, VmCfgValue>): string {
  return Object.entries(cfg)
    .map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new RangeError(`vm.cfg key ${JSON.stringify(k)} is not a Python identifier`);
      return `${k} = ${formatValue(v, k)}`;
    })
    .join("\n") + "\n";
}
