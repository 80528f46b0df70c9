// A power fence for lab tests that leaves a record the world keeps, not the watchdog: each call appends
// `<epoch ms> <server>` to LOG before it powers the server off (`lab power off`, in-process). When the file GATE
// exists, the call waits (at most 20 s) until the test removes it: a test can let the fence end at a moment it
// chooses (say, right after a heartbeat of another server was handled).
// Usage: node fence-recorder.js LOG GATE LABDIR SERVER
import * as fs from "fs";
import { crash, loadLab } from "../../lab/lab";

export interface FenceCall {
  at: number;
  server: string;
}

export function readFenceCalls(log: string): FenceCall[] {
  let text = "";
  try {
    text = fs.readFileSync(log, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .map((l) => /^(\d+) (\S+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ at: Number(m[1]), server: m[2] }));
}

/**
 * Makes every server's power fence in a lab watchdog config go through the recorder: the `off` argv (the
 * confirmed form, whose `status` query stays the lab's) or the one-command form, whichever the config has.
 */
export function recordFenceCalls(config: { fence: Record<string, unknown> }, argv: string[]): void {
  for (const f of Object.values(config.fence) as Record<string, unknown>[]) {
    if ("off" in f) f.off = argv;
    else f.command = argv;
    f.timeoutMs = 25000;
  }
}

async function main(): Promise<void> {
  const [log, gate, labDir, server] = process.argv.slice(2);
  if (!server) throw new Error("usage: fence-recorder LOG GATE LABDIR SERVER");
  fs.appendFileSync(log, `${Date.now()} ${server}\n`);
  const until = Date.now() + 20000;
  while (fs.existsSync(gate) && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  await crash(loadLab(labDir), server);
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`fence-recorder: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
