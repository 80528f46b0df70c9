// Shared pieces of the four resources' input schemas: Pulumi's unknown placeholder, server/address/port/path
// grammars, and the conversion of zod issues into Pulumi check failures `{property, reason}`.
import { isIP } from "net";
import { z } from "zod";

/** The string Pulumi sends during preview for a value not known yet, whatever the field's type. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export type Unknown = typeof UNKNOWN;

export function isUnknown(value: unknown): value is Unknown {
  return value === UNKNOWN;
}

/** True when the value or anything nested in it is the unknown placeholder. */
export function containsUnknown(value: unknown): boolean {
  if (isUnknown(value)) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** The schema, or the unknown placeholder (accepted so that preview can check inputs that are not known yet). */
export function unknownOr<T extends z.ZodType>(schema: T) {
  return z.union([z.literal(UNKNOWN), schema]);
}

/** The type with every unknown placeholder removed: what create/update work with. */
export type Known<T> = T extends Unknown
  ? never
  : T extends readonly (infer E)[]
    ? Known<E>[]
    : T extends object
      ? { [K in keyof T]: Known<T[K]> }
      : T;

/**
 * Cross-field checks run even when some field failed, so that one check reports every failure. The value they
 * see may then hold raw (wrong-typed) input: they must tolerate any shape.
 */
export const ALWAYS = { when: () => true } as const;

/** The value as a record, or an empty one: for cross-field checks over values of any shape. */
export function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

// ---- grammars -------------------------------------------------------------------------------------------

/**
 * Server names: one DNS label (RFC 1123): 1..63 of [A-Za-z0-9-], not starting or ending with '-'. o2cb requires
 * the node name to equal the host name up to its first '.', so a name is never a dotted FQDN. The grammar has
 * no quote, space, '=' or shell metacharacter, so it is safe in cluster.conf, shell words and Python strings.
 */
export const SERVER_NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
export const serverNameSchema = z
  .string({ error: "must be a string: a host name label of 1..63 letters, digits and '-'" })
  .regex(SERVER_NAME_RE, { error: "must be a host name label: 1..63 of [A-Za-z0-9-], not starting or ending with '-' (no dots)" });

export const ipAddressSchema = z
  .string({ error: "must be a string holding an IPv4 or IPv6 address" })
  .refine((s) => isIP(s) !== 0, { error: "must be an IPv4 address (192.0.2.11) or an IPv6 address (2001:db8::11)" });

/** o2net (OCFS2's cluster network) speaks IPv4 only: cluster.conf ip_address is a dotted quad. */
export const ipv4AddressSchema = z
  .string({ error: "must be a string holding an IPv4 address" })
  .refine((s) => isIP(s) === 4, { error: "must be an IPv4 address such as 192.0.2.11" });

export const portSchema = z
  .number({ error: "must be a TCP port: an integer 1..65535" })
  .int({ error: "must be a TCP port: an integer 1..65535" })
  .min(1, { error: "must be a TCP port: an integer 1..65535" })
  .max(65535, { error: "must be a TCP port: an integer 1..65535" });

/** `SHA256:<43 base64 characters>` as `ssh-keygen -lf` prints it. */
export const hostKeyFingerprintSchema = z
  .string({ error: "must be a string: SHA256:<43 base64 characters>" })
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, { error: "must be an SSH host key fingerprint: SHA256:<43 base64 characters>, as ssh-keygen -lf prints it" });

/**
 * Absolute paths: '/'-separated segments of [A-Za-z0-9._@+-], no '.' or '..' segment, no trailing '/'.
 * No space, quote or newline, so a path is one word in fstab, a shell and a Python string.
 */
export const ABSOLUTE_PATH_RE = /^(?:\/(?!\.{1,2}(?:\/|$))[A-Za-z0-9._@+-]+)+$/;
export const absolutePathSchema = z
  .string({ error: "must be a string holding an absolute path" })
  .max(1024, { error: "must be an absolute path of at most 1024 characters" })
  .regex(ABSOLUTE_PATH_RE, { error: "must be an absolute path: '/'-separated segments of [A-Za-z0-9._@+-], no '.' or '..' segment, no trailing '/'" });

/** A block device path under /dev, e.g. /dev/sdb, /dev/sdb1, /dev/mapper/mpatha, /dev/disk/by-id/... */
export const devicePathSchema = absolutePathSchema.refine((s) => s.startsWith("/dev/") && s.length > 5, {
  error: "must be a block device path under /dev/ (e.g. /dev/sdb or /dev/mapper/mpatha)",
});

/** Host names in NFS exports and the like: DNS names (labels as above, dot-separated, at most 253) or IPs. */
export const HOST_NAME_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
export function isHostOrAddress(s: string): boolean {
  return HOST_NAME_RE.test(s) || isIP(s) === 4;
}

export const serverSchema = z
  .object({
    name: unknownOr(serverNameSchema),
    address: unknownOr(ipAddressSchema),
    /** The SSH port. */
    port: unknownOr(portSchema).default(22),
    /** When given, the server's SSH host key must have this fingerprint (else trust on first use). */
    hostKeyFingerprint: unknownOr(hostKeyFingerprintSchema).optional(),
  })
  .strict();
export type ServerInput = z.output<typeof serverSchema>;

export interface DuplicateServerField {
  index: number;
  key: "name" | "address";
  firstIndex: number;
}

/** Later occurrences of a server name or address already used (case-insensitive); unknowns are skipped. */
export function findDuplicateServerFields(servers: readonly unknown[]): DuplicateServerField[] {
  const out: DuplicateServerField[] = [];
  for (const key of ["name", "address"] as const) {
    const seen = new Map<string, number>();
    servers.forEach((s, i) => {
      if (s === null || typeof s !== "object") return;
      const v = (s as Record<string, unknown>)[key];
      if (typeof v !== "string" || isUnknown(v)) return;
      // Host names are case-insensitive; IPv6 text forms vary in case too.
      const norm = v.toLowerCase();
      const first = seen.get(norm);
      if (first !== undefined) out.push({ index: i, key, firstIndex: first });
      else seen.set(norm, i);
    });
  }
  return out;
}

/** Reports duplicate server names and addresses of a list at `path`, at the later occurrence. */
export function checkUniqueServers(servers: unknown, ctx: z.RefinementCtx, path: (string | number)[]): void {
  if (!Array.isArray(servers)) return;
  for (const d of findDuplicateServerFields(servers)) {
    ctx.addIssue({ code: "custom", path: [...path, d.index, d.key], message: `must be unique among the servers: ${d.key} already used by server [${d.firstIndex}]` });
  }
}

// ---- failures -------------------------------------------------------------------------------------------

export interface CheckFailure {
  property: string;
  reason: string;
}

export interface CheckResult<T> {
  /** The normalized inputs (defaults filled in) when valid; the inputs as given otherwise. */
  inputs: T | Record<string, unknown>;
  failures: CheckFailure[];
}

/** Thrown where inputs must be valid and fully known (create/update): carries the same failures as check. */
export class ValidationError extends Error {
  readonly failures: CheckFailure[];
  constructor(resource: string, failures: CheckFailure[]) {
    super(`invalid ${resource} inputs: ` + failures.map((f) => `${f.property}: ${f.reason}`).join("; "));
    this.name = "ValidationError";
    this.failures = failures;
  }
}

/** Pulumi property path syntax: `servers[1].address`. */
export function propertyPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (typeof seg === "string" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): { found: boolean; value: unknown } {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return { found: false, value: undefined };
    const rec = cur as Record<PropertyKey, unknown>;
    if (!(seg in rec)) return { found: false, value: undefined };
    cur = rec[seg];
  }
  return { found: true, value: cur };
}

/** A short rendering of the offending value for the message (never long: inputs here hold no secrets). */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 80 ? s.slice(0, 77) + "..." : s;
}

type Issue = z.core.$ZodIssue;

/** A union with the unknown placeholder failed: keep only the other branch's issues, re-rooted at the union. */
function flattenIssue(issue: Issue, prefix: readonly PropertyKey[]): { path: PropertyKey[]; message: string; issue: Issue }[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === "invalid_union") {
    let branches = issue.errors.filter(
      (branch) => !(branch.length === 1 && branch[0].code === "invalid_value" && branch[0].values.length === 1 && branch[0].values[0] === UNKNOWN),
    );
    // A branch that failed only deeper inside the value is the one the user meant (a list with a bad element
    // rather than "not the literal"): report just those.
    const deeper = branches.filter((b) => b.length > 0 && b.every((i) => i.path.length > 0));
    if (deeper.length > 0) branches = deeper;
    if (branches.length > 0) return branches.flatMap((b) => b.flatMap((i) => flattenIssue(i, path)));
  }
  return [{ path, message: issue.message, issue }];
}

/** zod issues -> one failure per property and message, naming the value received and what is allowed. */
export function issuesToFailures(issues: readonly Issue[], input: unknown): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const seen = new Set<string>();
  const push = (f: CheckFailure) => {
    const k = f.property + "\0" + f.reason;
    if (!seen.has(k)) {
      seen.add(k);
      failures.push(f);
    }
  };
  for (const raw of issues) {
    for (const { path, message, issue } of flattenIssue(raw, [])) {
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) {
          const { value } = valueAt(input, [...path, key]);
          push({ property: propertyPath([...path, key]), reason: `is not a known property; got ${describeValue(value)}` });
        }
        continue;
      }
      const { found, value } = valueAt(input, path);
      const property = propertyPath(path) || "(inputs)";
      if (!found || value === undefined) {
        // A missing required value: zod's invalid_type carries our "must be ..." message.
        push({ property, reason: `is required: ${message}` });
      } else {
        push({ property, reason: `${message}; got ${describeValue(value)}` });
      }
    }
  }
  return failures;
}

/** Pulumi adds its serialized provider to every property bag; it is never ours to validate. */
export function withoutProviderKey(news: Record<string, unknown>): Record<string, unknown> {
  const { __provider: _ignored, ...rest } = news ?? {};
  return rest;
}

/** Validates news against a schema: the normalized inputs, or the failures and the inputs as given. */
export function checkWith<T extends z.ZodType>(schema: T, news: Record<string, unknown>): CheckResult<z.output<T>> {
  const input = withoutProviderKey(news);
  const result = schema.safeParse(input);
  if (result.success) return { inputs: result.data, failures: [] };
  return { inputs: input, failures: issuesToFailures(result.error.issues, input) };
}

/** For create/update: inputs must validate and hold no unknown placeholder (the engine resolves them first). */
export function parseKnown<T extends z.ZodType>(resource: string, schema: T, inputs: Record<string, unknown>): Known<z.output<T>> {
  const checked = checkWith(schema, inputs);
  if (checked.failures.length > 0) throw new ValidationError(resource, checked.failures);
  const unknowns = unknownPaths(checked.inputs, []);
  if (unknowns.length > 0) {
    throw new ValidationError(
      resource,
      unknowns.map((p) => ({ property: propertyPath(p), reason: "is still unknown (a value of another resource not yet created); cannot act on it" })),
    );
  }
  return checked.inputs as Known<z.output<T>>;
}

function unknownPaths(value: unknown, path: PropertyKey[]): PropertyKey[][] {
  if (isUnknown(value)) return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownPaths(v, [...path, i]));
  if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => unknownPaths(v, [...path, k]));
  return [];
}
