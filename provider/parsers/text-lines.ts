/** One line of command output with its 1-based number, so parse errors can point at it. */
export interface NumberedLine {
  text: string;
  number: number;
}

/** Splits output into lines (LF or CRLF), keeping line numbers; trailing whitespace is removed. */
export function numberedLines(text: string): NumberedLine[] {
  return text.split(/\r?\n/).map((t, i) => ({ text: t.replace(/\s+$/, ""), number: i + 1 }));
}
