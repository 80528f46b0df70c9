// One lab server's hardware watchdog: a host process (started by power on, see hw-watchdog-control.ts) that reads
// the server's /dev/watchdog (a FIFO in the server's /dev) and resets the server when it is not fed in time.
// The device semantics are in hw-watchdog-timer.ts. Opening the FIFO for reading blocks until a writer opens it:
// that is "open" (arms the timer); each chunk read is a write; end of file is the close.
// Usage: node hw-watchdog.js LABDIR SERVER
import * as fs from "fs";
import { performance } from "perf_hooks";
import {
  appendHwWatchdogReset,
  hwWatchdogFiles,
  hwWatchdogTimeoutMs,
  HwWatchdogReset,
  writeHwWatchdogState,
} from "./hw-watchdog-control";
import { HwWatchdogEvent, HwWatchdogState, hwWatchdogExpiresAt, initialHwWatchdog, stepHwWatchdog } from "./hw-watchdog-timer";
import { layout } from "./layout";

const [labDir, server] = process.argv.slice(2);

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} hw-watchdog ${server}: ${line}\n`);
}

/** A line in the server's console log, as its kernel would print it. */
function consoleLine(line: string): void {
  try {
    fs.appendFileSync(layout.serverLog(labDir, server), line + "\n");
  } catch {
    /* the console log is the lab's; never fatal */
  }
}

// Epoch ms for a monotonic time (records are read by people and tests in epoch ms). One offset for the process's
// life: computed afresh at each call, the same keepalive came out 1 ms apart in the state and the reset record (CI).
const epochOffset = Date.now() - performance.now();
const epochOf = (mono: number) => Math.round(mono + epochOffset);

let state: HwWatchdogState = initialHwWatchdog(hwWatchdogTimeoutMs(labDir));
let timer: NodeJS.Timeout | undefined;
let resetting = false;

function publish(): void {
  writeHwWatchdogState(labDir, server, {
    running: true,
    armed: state.armed,
    open: state.open,
    timeoutMs: state.timeoutMs,
    lastKeepaliveAt: state.lastKeepaliveAt === undefined ? undefined : epochOf(state.lastKeepaliveAt),
  });
}

function apply(e: HwWatchdogEvent): void {
  const wasArmed = state.armed;
  const step = stepHwWatchdog(state, e);
  state = step.state;
  // While the timer resets the server, its dying processes close the device: no message from a dead kernel.
  if (step.console && !resetting) {
    consoleLine(step.console);
    log(step.console);
  }
  if (e.kind !== "write" || wasArmed !== state.armed) log(`${e.kind}: ${state.armed ? `armed (timeout ${state.timeoutMs} ms)` : "stopped"}`);
  publish();
  schedule();
}

function schedule(): void {
  if (timer) clearTimeout(timer);
  timer = undefined;
  const at = hwWatchdogExpiresAt(state);
  if (at === undefined || resetting) return;
  timer = setTimeout(expire, Math.max(0, at - performance.now()));
}

async function expire(): Promise<void> {
  if (resetting || hwWatchdogExpiresAt(state) === undefined) return;
  // libuv runs timers before it collects finished reads: a keepalive that came in while this process was starved
  // of CPU would be seen after this timer. Let the loop collect them first (a chip sees every write at once).
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  const at = hwWatchdogExpiresAt(state);
  if (resetting || at === undefined) return;
  if (performance.now() < at) return schedule();
  resetting = true;
  const record: HwWatchdogReset = { server, at: Date.now(), lastKeepaliveAt: epochOf(state.lastKeepaliveAt!), timeoutMs: state.timeoutMs };
  appendHwWatchdogReset(labDir, server, record);
  const line = `[lab] hardware watchdog: not fed for ${record.at - record.lastKeepaliveAt} ms (timeout ${state.timeoutMs} ms): resetting ${server}`;
  consoleLine(line);
  log(line);
  // Loaded here: lab.ts is the lab's core; the timer needs it only to reset.
  const lab = require("./lab") as typeof import("./lab");
  try {
    const info = lab.loadLab(labDir);
    await lab.resetServer(info, server, () => {
      record.killedAt = Date.now();
      // Every process of the server has ended: the device is closed, the timer stopped until the next open.
      state = stepHwWatchdog(state, { kind: "reset", at: performance.now() }).state;
      publish();
      appendHwWatchdogReset(labDir, server, record);
    });
    record.bootedAt = Date.now();
  } catch (e) {
    record.bootError = (e as Error).message;
    log(`reset failed: ${record.bootError}`);
  }
  appendHwWatchdogReset(labDir, server, record);
  resetting = false;
  schedule();
}

/** Opens, reads to end of file, and again: each open/read/EOF becomes an event. */
async function readDevice(): Promise<void> {
  const device = hwWatchdogFiles.device(labDir, server);
  const buf = Buffer.alloc(4096);
  for (;;) {
    // Blocks (in libuv's thread pool, off the timer's thread) until a writer opens the FIFO.
    const fh = await fs.promises.open(device, fs.constants.O_RDONLY);
    try {
      apply({ kind: "open", at: performance.now(), timeoutMs: hwWatchdogTimeoutMs(labDir) });
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        apply({ kind: "write", at: performance.now(), data: buf.toString("latin1", 0, bytesRead) });
      }
    } finally {
      await fh.close();
    }
    apply({ kind: "close", at: performance.now() });
  }
}

if (require.main === module) {
  if (!labDir || !server) {
    process.stderr.write("usage: hw-watchdog.js LABDIR SERVER\n");
    process.exit(2);
  }
  process.on("SIGTERM", () => process.exit(0));
  // The chip's timer must not be the one starved on a loaded host: highest nice priority (we run as root).
  try { require("os").setPriority(-20); } catch { /* not permitted: runs at normal priority */ }
  publish();
  log(`started (timeout ${state.timeoutMs} ms, device ${hwWatchdogFiles.device(labDir, server)})`);
  readDevice().catch((e) => {
    log(`reading the device failed: ${(e as Error).message}`);
    process.exit(1);
  });
}
