// Byte sizes as mkfs.ocfs2 writes them ("4K", "64M", "1M") or as plain byte counts; normalized to bytes.
import { z } from "zod";

const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
const SIZE_RE = /^([0-9]{1,13})([KMGT]?)$/i;

/** "64M" -> 67108864; a number is taken as bytes. Undefined when not a size. */
export function parseSize(value: number | string): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  const m = SIZE_RE.exec(value.trim());
  if (!m) return undefined;
  const bytes = Number(m[1]) * UNITS[m[2].toUpperCase()];
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** Bytes -> the largest exact unit, as mkfs.ocfs2 accepts it: 4096 -> "4K", 67108864 -> "64M", 512 -> "512". */
export function formatSize(bytes: number): string {
  for (const unit of ["T", "G", "M", "K"]) {
    if (bytes % UNITS[unit] === 0) return `${bytes / UNITS[unit]}${unit}`;
  }
  return String(bytes);
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && Number.isInteger(Math.log2(n));
}

/**
 * A size given as bytes or "<n>[K|M|G|T]" (binary units, as mkfs.ocfs2), within [min, max] bytes and optionally a
 * power of two. `allowed` is the human description used in every message.
 */
export function sizeSchema(opts: { min: number; max?: number; powerOfTwo?: boolean; allowed: string }) {
  const msg = `must be ${opts.allowed}`;
  return z
    .union([z.number(), z.string()], { error: msg })
    .transform((v, ctx) => {
      const bytes = parseSize(v);
      if (bytes === undefined || bytes < opts.min || (opts.max !== undefined && bytes > opts.max) || (opts.powerOfTwo && !isPowerOfTwo(bytes))) {
        ctx.addIssue({ code: "custom", message: msg });
        return z.NEVER;
      }
      return bytes;
    });
}
