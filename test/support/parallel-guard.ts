// Loaded into each mocha worker by scripts/test (--require). A worker runs test files one after another, and after
// each it removes every uncaught-error listener (mocha's lib/nodejs/worker.js). An error a file leaves behind (a
// timer, a socket, a child's exit handler) that fires after that, while the worker waits or loads its next file,
// would kill the worker, and mocha then may end the run with no summary and exit 0. So here one listener stays for
// the worker's whole life: while a file runs it does nothing (mocha reports the error against the running test, as
// in a serial run); between files it writes the error, naming the file that ran last in this worker, to the
// directory OVM_HA_TEST_ESCAPES, and scripts/test fails the run on it.
import * as fs from "fs";
import * as path from "path";
import type * as Mocha from "mocha";

const escapes = process.env.OVM_HA_TEST_ESCAPES;
let lastFile = "(none yet)";

const KINDS = ["uncaughtException", "unhandledRejection"] as const;
const guards = new Set<(...args: unknown[]) => void>();

/** mocha's runner listens for uncaught exceptions while it runs a file, besides this guard. */
const fileRunning = () => process.listenerCount("uncaughtException") > 1;

if (escapes && process.env.MOCHA_WORKER_ID !== undefined) {
  for (const kind of KINDS) {
    const guard = (e: unknown) => {
      if (fileRunning()) return;
      const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
      const report = `${kind} in a test worker after ${lastFile} had ended (pid ${process.pid}):\n${text}\n`;
      fs.appendFileSync(path.join(escapes, `worker-${process.pid}.log`), report + "\n");
      process.stderr.write(report);
    };
    guards.add(guard);
    process.on(kind, guard);
  }
  const removeAll = process.removeAllListeners.bind(process);
  process.removeAllListeners = ((event?: string | symbol) => {
    if (!KINDS.includes(event as (typeof KINDS)[number])) return removeAll(event);
    const kind = event as (typeof KINDS)[number];
    for (const l of process.listeners(kind as "uncaughtException") as ((...args: unknown[]) => void)[]) {
      if (!guards.has(l)) process.removeListener(kind as "uncaughtException", l);
    }
    return process;
  }) as typeof process.removeAllListeners;
}

export const mochaHooks = {
  beforeAll(this: Mocha.Context): void {
    const file = this.test?.parent?.suites.find((s) => s.file)?.file;
    if (file) lastFile = path.relative(path.resolve(__dirname, "../../.."), file);
  },
};
