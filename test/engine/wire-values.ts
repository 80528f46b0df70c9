// Values as they travel between the Pulumi SDK, the engine and a provider: the unknown sentinel of preview and
// the secret wrapper of the SDK's wire format. The harness plays an engine that tells providers it does not accept
// secrets (as the dynamic-provider host answers Configure), so secrets are unwrapped before a provider sees them
// and re-wrapped, by top-level property name, on the way back to the program.

export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export type PropertyBag = Record<string, unknown>;

export function isSecretWrapper(v: unknown): v is { value: unknown } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && (v as PropertyBag)[SIG_KEY] === SECRET_SIG;
}

/** Removes secret wrappers at any depth; reports whether any was found. */
export function unwrapSecrets(v: unknown): { value: unknown; secret: boolean } {
  if (isSecretWrapper(v)) {
    const inner = unwrapSecrets(v.value);
    return { value: inner.value, secret: true };
  }
  if (Array.isArray(v)) {
    let secret = false;
    const value = v.map((e) => {
      const r = unwrapSecrets(e);
      secret = secret || r.secret;
      return r.value;
    });
    return { value, secret };
  }
  if (typeof v === "object" && v !== null) {
    let secret = false;
    const value: PropertyBag = {};
    for (const [k, e] of Object.entries(v)) {
      const r = unwrapSecrets(e);
      secret = secret || r.secret;
      value[k] = r.value;
    }
    return { value, secret };
  }
  return { value: v, secret: false };
}

/** Plaintext bag plus the names of top-level properties that held a secret somewhere inside. */
export function unwrapBag(bag: PropertyBag): { plain: PropertyBag; secretKeys: string[] } {
  const plain: PropertyBag = {};
  const secretKeys: string[] = [];
  for (const [k, v] of Object.entries(bag)) {
    const r = unwrapSecrets(v);
    plain[k] = r.value;
    if (r.secret) secretKeys.push(k);
  }
  return { plain, secretKeys };
}

/** Wraps the named top-level properties as secrets, the form the SDK turns into secret Outputs. */
export function wrapBag(bag: PropertyBag, secretKeys: readonly string[]): PropertyBag {
  const out: PropertyBag = {};
  for (const [k, v] of Object.entries(bag)) {
    out[k] = secretKeys.includes(k) ? { [SIG_KEY]: SECRET_SIG, value: v } : v;
  }
  return out;
}

export function containsUnknowns(v: unknown): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(containsUnknowns);
  if (typeof v === "object" && v !== null) return Object.values(v).some(containsUnknowns);
  return false;
}

/** Structural equality of JSON-like values; an unknown never equals anything (it may change). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === UNKNOWN || b === UNKNOWN) return false;
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((e, i) => sameValue(e, b[i]));
  }
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
    const ka = Object.keys(a).filter((k) => (a as PropertyBag)[k] !== undefined).sort();
    const kb = Object.keys(b).filter((k) => (b as PropertyBag)[k] !== undefined).sort();
    return sameValue(ka, kb) && ka.every((k) => sameValue((a as PropertyBag)[k], (b as PropertyBag)[k]));
  }
  return false;
}
