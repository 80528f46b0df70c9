import { numberedLines } from "./text-lines";

/** What an `xm` error message means, so callers branch on a kind rather than on text. */
export type XmErrorKind =
  | "no-such-domain"
  | "already-exists"
  | "xend-down"
  | "connection-refused"
  | "other";

export interface XmError {
  kind: XmErrorKind;
  /** The domain named in the message, when it names one. */
  domain?: string;
  /** The existing domain's id for `already-exists`. */
  id?: number;
  /** The first `Error:` line, as printed. */
  message: string;
}

/**
 * Classifies `xm` error output (stderr or stdout). Returns null when there is no `Error:` line, e.g. a
 * silent successful `xm migrate`.
 */
export function parseXmError(text: string): XmError | null {
  const line = numberedLines(text).find((l) => /^\s*Error:/.test(l.text));
  if (!line) return null;
  const message = line.text.trim();
  let m = /Domain '([^']*)' does not exist/.exec(message);
  if (m) return { kind: "no-such-domain", domain: m[1], message };
  m = /Domain '([^']*)' already exists with ID '(\d+)'/.exec(message);
  if (m) return { kind: "already-exists", domain: m[1], id: Number(m[2]), message };
  if (/Unable to connect to xend|Is xend running\?/.test(message)) return { kind: "xend-down", message };
  if (/can't connect|Connection refused/i.test(message)) return { kind: "connection-refused", message };
  return { kind: "other", message };
}

export interface XmCreateResult {
  name: string;
  id: number;
  configFile?: string;
}

/**
 * Reads `xm create` output: `Using config file "CFG".` then `Started domain NAME (id=N)`.
 * Returns null when no domain was started (the caller then looks at parseXmError).
 */
export function parseXmCreate(text: string): XmCreateResult | null {
  let configFile: string | undefined;
  for (const { text: line } of numberedLines(text)) {
    const cfg = /^\s*Using config file "(.*)"\.?\s*$/.exec(line);
    if (cfg) configFile = cfg[1];
    const started = /^\s*Started domain (\S+)(?:\s+\(id=(\d+)\))?/.exec(line);
    if (started && started[2] !== undefined) {
      return { name: started[1], id: Number(started[2]), ...(configFile !== undefined ? { configFile } : {}) };
    }
  }
  return null;
}
