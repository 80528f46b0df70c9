import { ParseError } from "./parse-error";
import { numberedLines } from "./text-lines";

export interface XmInfo {
  host: string;
  nrCpus: number;
  totalMemoryMb: number;
  freeMemoryMb: number;
  /** Every `key : value` line, keys trimmed (values may themselves contain colons). */
  fields: Record<string, string>;
}

const COMMAND = "xm info";

function requiredInt(fields: Record<string, string>, key: string): number {
  const v = fields[key];
  if (v === undefined) throw new ParseError(COMMAND, `missing key ${key}`);
  if (!/^\d+$/.test(v)) throw new ParseError(COMMAND, `${key} is not a whole number`, `${key}: ${v}`);
  return Number(v);
}

/** Parses `xm info`: lines `%-23s: value`; unknown keys are kept in `fields`. */
export function parseXmInfo(text: string): XmInfo {
  const fields: Record<string, string> = {};
  for (const { text: line, number } of numberedLines(text)) {
    if (line.trim() === "") continue;
    if (/^Error:/.test(line.trim())) throw new ParseError(COMMAND, "xm reported an error", line, number);
    const colon = line.indexOf(":");
    if (colon <= 0) throw new ParseError(COMMAND, "line is not `key : value`", line, number);
    const key = line.slice(0, colon).trim();
    if (!/^[A-Za-z0-9_]+$/.test(key)) throw new ParseError(COMMAND, "bad key", line, number);
    fields[key] = line.slice(colon + 1).trim();
  }
  const host = fields.host;
  if (host === undefined || host === "") throw new ParseError(COMMAND, "missing key host");
  return {
    host,
    nrCpus: requiredInt(fields, "nr_cpus"),
    totalMemoryMb: requiredInt(fields, "total_memory"),
    freeMemoryMb: requiredInt(fields, "free_memory"),
    fields,
  };
}
