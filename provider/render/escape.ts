// Escaping for the files we render. Inputs are already restricted by the schemas' grammars; these functions
// check again at render time (a model may be built by other code) and refuse rather than emit something a
// reader could take for another key, line or statement.

export class RenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RenderError";
  }
}

/** Python string literal, single-quoted, for vm.cfg (Xen evaluates vm.cfg as Python). */
export function pythonString(value: unknown): string {
  if (typeof value !== "string") throw new RenderError(`vm.cfg: expected a string, got ${JSON.stringify(value)}`);
  // Control characters are refused outright: no legitimate vm.cfg value has them.
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new RenderError(`vm.cfg: control character in ${JSON.stringify(value)}`);
  return "'" + value.replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";
}

/** A decimal integer (Python literal, config value): anything else is refused. */
export function integerLiteral(value: unknown): string {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw new RenderError(`expected an integer, got ${JSON.stringify(value)}`);
  return String(value);
}

/**
 * cluster.conf values: o2cb's parser splits `key = value` at '=', treats ':' at line end as a stanza and '#' as
 * a comment, so values are limited to [A-Za-z0-9._-] (names, dotted IPv4 addresses, numbers).
 */
export function clusterConfValue(value: unknown): string {
  const s = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof s !== "string" || !/^[A-Za-z0-9._-]+$/.test(s)) throw new RenderError(`cluster.conf: refusing value ${JSON.stringify(value)} (allowed: [A-Za-z0-9._-]+)`);
  return s;
}

/** A shell word that needs no quoting: /etc/sysconfig/o2cb is sourced by a shell. */
export function shellWord(value: unknown): string {
  const s = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof s !== "string" || !/^[A-Za-z0-9._-]+$/.test(s)) throw new RenderError(`sysconfig: refusing value ${JSON.stringify(value)} (allowed: [A-Za-z0-9._-]+)`);
  return s;
}

/** One fstab field: whitespace and backslash octal-escaped as getmntent(3) reads them; empty refused. */
export function fstabField(value: unknown): string {
  if (typeof value !== "string" || value === "") throw new RenderError(`fstab: expected a non-empty field, got ${JSON.stringify(value)}`);
  if (/[\u0000\u000a\u000d]/.test(value)) throw new RenderError(`fstab: line break in ${JSON.stringify(value)}`);
  const escaped = value.replace(/[\\ \t]/g, (c) => "\\" + c.charCodeAt(0).toString(8).padStart(3, "0"));
  // A field starting with '#' would turn the line into a comment.
  if (escaped.startsWith("#")) throw new RenderError(`fstab: field may not start with '#': ${JSON.stringify(value)}`);
  return escaped;
}
