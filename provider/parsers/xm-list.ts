import { ParseError } from "./parse-error";
import { numberedLines } from "./text-lines";

/** The six state positions of `xm list`, in order: r b p s c d. */
export interface XmStateFlags {
  running: boolean;
  blocked: boolean;
  paused: boolean;
  shutdown: boolean;
  crashed: boolean;
  dying: boolean;
}

export interface XmDomain {
  name: string;
  /** null for a managed domain that is not running (xm prints an empty ID column). */
  id: number | null;
  memoryMb: number;
  vcpus: number;
  /** The raw six-character state, e.g. `r-----`, `-b----`. */
  state: string;
  flags: XmStateFlags;
  cpuTimeSeconds: number;
}

const COMMAND = "xm list";
const STATE = /^[r-][b-][p-][s-][c-][d-]$/;
const INT = /^\d+$/;
const TIME = /^\d+(\.\d+)?$/;

export function parseXmStateFlags(state: string): XmStateFlags {
  return {
    running: state[0] === "r",
    blocked: state[1] === "b",
    paused: state[2] === "p",
    shutdown: state[3] === "s",
    crashed: state[4] === "c",
    dying: state[5] === "d",
  };
}

/**
 * Parses `xm list` (Xen 3.4): header `Name ID Mem VCPUs State Time(s)` then one row per domain.
 * Rows are read from the right (time, state, vcpus, mem, optional id) because the ID is blank for
 * inactive managed domains.
 */
export function parseXmList(text: string): XmDomain[] {
  const domains: XmDomain[] = [];
  let sawHeader = false;
  for (const { text: line, number } of numberedLines(text)) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    if (/^Name\s+ID\s+Mem/i.test(trimmed)) {
      sawHeader = true;
      continue;
    }
    if (/^Error:/.test(trimmed)) {
      throw new ParseError(COMMAND, "xm reported an error", trimmed, number);
    }
    const tokens = trimmed.split(/\s+/);
    if (tokens.length < 5) throw new ParseError(COMMAND, "too few columns", line, number);
    const time = tokens.pop()!;
    const state = tokens.pop()!;
    const vcpus = tokens.pop()!;
    const mem = tokens.pop()!;
    if (!TIME.test(time) || !STATE.test(state) || !INT.test(vcpus) || !INT.test(mem)) {
      throw new ParseError(COMMAND, "row does not match `name id mem vcpus state time`", line, number);
    }
    let id: number | null = null;
    if (tokens.length >= 2 && INT.test(tokens[tokens.length - 1])) id = Number(tokens.pop());
    if (tokens.length === 0) throw new ParseError(COMMAND, "row has no domain name", line, number);
    domains.push({
      name: tokens.join(" "),
      id,
      memoryMb: Number(mem),
      vcpus: Number(vcpus),
      state,
      flags: parseXmStateFlags(state),
      cpuTimeSeconds: Number(time),
    });
  }
  if (!sawHeader && domains.length === 0) {
    throw new ParseError(COMMAND, "no header and no domains (Domain-0 is always listed)");
  }
  return domains;
}
