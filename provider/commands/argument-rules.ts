import { CommandArgumentError } from "./command-argument-error";

// Each rule returns the value it accepted (possibly normalised) or throws CommandArgumentError.

const CONTROL = /[\x00-\x1f\x7f]/;

/** Rejects text that could be read as an option (leading `-`), is empty, or carries control characters. */
export function plainArgument(property: string, value: string): string {
  if (typeof value !== "string" || value === "") throw new CommandArgumentError(property, value, "must be a non-empty string");
  if (value.startsWith("-")) throw new CommandArgumentError(property, value, "must not start with '-' (it would be read as an option)");
  if (CONTROL.test(value)) throw new CommandArgumentError(property, value, "must not contain control characters");
  return value;
}

/** A block device path: `/dev/` then path characters, no `..`. */
export function devicePath(property: string, value: string): string {
  if (typeof value !== "string" || !/^\/dev\/[A-Za-z0-9._+:@\/-]+$/.test(value) || value.split("/").includes("..") || value.endsWith("/")) {
    throw new CommandArgumentError(property, value, "must be a device path under /dev/ (letters, digits, . _ + : @ - /), without '..'");
  }
  return value;
}

/** An absolute path without `..` components or control characters. */
export function absolutePath(property: string, value: string): string {
  if (typeof value !== "string" || !value.startsWith("/") || CONTROL.test(value) || value.split("/").includes("..")) {
    throw new CommandArgumentError(property, value, "must be an absolute path (starting with '/') without '..' or control characters");
  }
  return value;
}

/**
 * An iSCSI name (RFC 3720): `iqn.YYYY-MM.reversed.domain[:unique]` or `eui.` + 16 hex digits
 * (also `naa.` + 16 or 32 hex digits). Lower-case letters, digits, `.`, `-`, `:` only in the iqn form.
 */
export function iscsiName(property: string, value: string): string {
  const iqn = /^iqn\.\d{4}-(0[1-9]|1[0-2])\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[a-z0-9.:-]+)?$/;
  const eui = /^eui\.[0-9A-Fa-f]{16}$/;
  const naa = /^naa\.([0-9A-Fa-f]{16}|[0-9A-Fa-f]{32})$/;
  if (typeof value !== "string" || value.length > 223 || !(iqn.test(value) || eui.test(value) || naa.test(value))) {
    throw new CommandArgumentError(property, value,
      "must be an iSCSI name: iqn.YYYY-MM.reversed.domain[:identifier] (lower case) or eui.<16 hex digits>, at most 223 bytes");
  }
  return value;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

/** A host: IPv4 address, DNS name (RFC 1123) or IPv6 address (bare, without brackets). */
export function hostName(property: string, value: string): string {
  if (typeof value === "string" && (IPV4.test(value) || HOSTNAME.test(value) || (value.includes(":") && IPV6.test(value) && value.length <= 45))) {
    return value;
  }
  throw new CommandArgumentError(property, value, "must be an IPv4 address, an IPv6 address or a DNS host name");
}

function port(property: string, value: string, whole: string): number {
  const n = Number(value);
  if (!/^\d{1,5}$/.test(value) || n < 1 || n > 65535) throw new CommandArgumentError(property, whole, "port must be 1..65535");
  return n;
}

/**
 * An iSCSI portal `HOST[:PORT]` or `[IPv6][:PORT]`; returns `HOST:PORT` (port 3260 when omitted), the form
 * iscsiadm prints and matches node records by.
 */
export function iscsiPortal(property: string, value: string): string {
  if (typeof value !== "string") throw new CommandArgumentError(property, value, "must be a string");
  let m = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (m) {
    if (!m[1].includes(":") || !IPV6.test(m[1])) throw new CommandArgumentError(property, value, "bracketed host must be an IPv6 address");
    return `[${m[1]}]:${m[2] === undefined ? 3260 : port(property, m[2], value)}`;
  }
  m = /^([^:\[\]]+)(?::(\d*))?$/.exec(value);
  if (!m) throw new CommandArgumentError(property, value, "must be HOST[:PORT] or [IPv6][:PORT]");
  if (!(IPV4.test(m[1]) || HOSTNAME.test(m[1]))) throw new CommandArgumentError(property, value, "host must be an IPv4 address or DNS name");
  return `${m[1]}:${m[2] === undefined ? 3260 : port(property, m[2], value)}`;
}

/** A Xen domain name or numeric id: letters, digits, `_ . + : -`, not starting with `-`, at most 64. */
export function domainName(property: string, value: string): string {
  if (typeof value !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.+:-]{0,63}$/.test(value)) {
    throw new CommandArgumentError(property, value, "must be 1-64 characters of letters, digits, _ . + : - and not start with '-'");
  }
  return value;
}

/** A whole number within [min, max]. */
export function integerInRange(property: string, value: number, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new CommandArgumentError(property, value, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Reads a size given as bytes (number) or a string with an optional K/M/G/T suffix (binary units). */
export function sizeInBytes(property: string, value: number | string): number {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value <= 0) throw new CommandArgumentError(property, value, "must be a positive whole number of bytes");
    return value;
  }
  const m = typeof value === "string" ? /^(\d+)\s*([KMGT]?)(?:i?B)?$/i.exec(value.trim()) : null;
  if (!m) throw new CommandArgumentError(property, value, "must be bytes or a size such as 4K, 64M, 1G");
  const bytes = Number(m[1]) * UNITS[m[2].toUpperCase()];
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new CommandArgumentError(property, value, "must be a positive size");
  return bytes;
}

/** Formats bytes with the largest binary unit that divides it exactly: 4096 → `4K`, 67108864 → `64M`. */
export function compactSize(bytes: number): string {
  for (const unit of ["T", "G", "M", "K"]) if (bytes % UNITS[unit] === 0) return `${bytes / UNITS[unit]}${unit}`;
  return String(bytes);
}

/** A power of two within [min, max] bytes. */
export function powerOfTwoSize(property: string, value: number | string, min: number, max: number): number {
  const bytes = sizeInBytes(property, value);
  if (bytes < min || bytes > max || (bytes & (bytes - 1)) !== 0) {
    throw new CommandArgumentError(property, value, `must be a power of two from ${compactSize(min)} to ${compactSize(max)}`);
  }
  return bytes;
}
