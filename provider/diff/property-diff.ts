// The table-driven diff shared by the four resources: which top-level properties changed, and whether each
// change is made in place (update) or needs a new resource (replace). Pure: no I/O, no engine calls.
import { z } from "zod";
import { containsUnknown } from "../schemas/common";

export type ChangeKind = "update" | "replace";
/**
 * How a changed property is applied: a fixed kind, or a function of the old and new value (called only when
 * they differ and the new value holds no unknown placeholder).
 */
export type PropertyRule = ChangeKind | ((olds: unknown, news: unknown) => ChangeKind);

/**
 * A rule that can answer for a new value holding unknowns (preview): it must say "replace" whenever a replace
 * is possible once the value is known (e.g. the guest's pool: a replace only if the pool's name differs).
 */
export function unknownAware(rule: (olds: unknown, news: unknown) => ChangeKind): PropertyRule {
  return Object.assign((o: unknown, n: unknown) => rule(o, n), { unknownAware: true });
}
const isUnknownAware = (rule: PropertyRule): boolean => typeof rule === "function" && (rule as { unknownAware?: boolean }).unknownAware === true;
export type DiffTable = Readonly<Record<string, PropertyRule>>;

export interface PropertyChanges {
  /** Changed properties applied in place. */
  updates: string[];
  /** Changed properties that force a replace. */
  replaces: string[];
}

/** What Pulumi's dynamic provider `diff` returns; `changes` is always set (undefined would mean "unknown"). */
export interface DiffResult {
  changes: boolean;
  replaces: string[];
  deleteBeforeReplace: boolean;
}

/** Structural equality of JSON-like values; an absent key equals an undefined one. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
    for (const k of keys) if (!deepEqual(ra[k], rb[k])) return false;
    return true;
  }
  return false;
}

/**
 * Compares only the properties in the table (state outputs carry more keys; `__provider` is never compared).
 * A new value that is (or holds) Pulumi's unknown placeholder counts as changed: a replace when the rule can
 * replace, an update otherwise.
 */
export function diffProperties(table: DiffTable, olds: Record<string, unknown>, news: Record<string, unknown>): PropertyChanges {
  const updates: string[] = [];
  const replaces: string[] = [];
  for (const [property, rule] of Object.entries(table)) {
    const o = olds?.[property];
    const n = news?.[property];
    let kind: ChangeKind;
    if (containsUnknown(n)) kind = rule === "update" ? "update" : isUnknownAware(rule) ? (rule as (o: unknown, n: unknown) => ChangeKind)(o, n) : "replace";
    else if (deepEqual(o, n)) continue;
    else kind = typeof rule === "function" ? rule(o, n) : rule;
    (kind === "replace" ? replaces : updates).push(property);
  }
  return { updates, replaces };
}

/**
 * The table's properties of `props` run through the resource's schema, so that state written by an older
 * release (without a property a newer release defaults) compares equal to the defaulted new inputs. Falls
 * back to the picked raw values when they do not validate.
 */
export function normalizeForDiff(schema: z.ZodType | undefined, table: DiffTable, props: Record<string, unknown>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(table)) if (props && key in props) picked[key] = props[key];
  if (!schema) return picked;
  const parsed = schema.safeParse(picked);
  return parsed.success ? (parsed.data as Record<string, unknown>) : picked;
}
