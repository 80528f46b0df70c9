// Loaded into each mocha worker by scripts/test (--require). A worker runs test files one after another, and after
// each it removes every uncaught-error listener (mocha's lib/nodejs/worker.js). An error a file leaves behind (a
// timer, a socket, a child's exit handler) that fires after that, while the worker waits or loads its next file,
// would kill the worker, and mocha then may end the run with no summary and exit 0. So between files this guard
// listens: it writes the error, naming the file that ran last in this worker, to the directory
// OVM_HA_TEST_ESCAPES, and scripts/test fails the run on it. While a file runs the guard is off (mocha reports
// such an error against the running test, as in a serial run), so tests that swap the process's listeners
// (test/engine/program-run.ts) see only mocha's.
import * as fs from "fs";
import * as path from "path";
import type * as Mocha from "mocha";

const escapes = process.env.OVM_HA_TEST_ESCAPES;
let lastFile = "(none yet)";

const guard = (kind: string) => (e: unknown) => {
  // mocha's runner of the next file may already listen (it registers before the file's root hook runs).
  if (process.listenerCount("uncaughtException") > 1) return;
  const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
  const report = `${kind} in a test worker after ${lastFile} had ended (pid ${process.pid}):\n${text}\n`;
  fs.appendFileSync(path.join(escapes!, `worker-${process.pid}.log`), report + "\n");
  process.stderr.write(report);
};
const guards = { uncaughtException: guard("uncaughtException"), unhandledRejection: guard("unhandledRejection") };
const active = escapes !== undefined && process.env.MOCHA_WORKER_ID !== undefined;

function guardOn(): void {
  const on = (l: unknown[]) => l.includes(guards.uncaughtException) || l.includes(guards.unhandledRejection);
  if (!on(process.listeners("uncaughtException"))) process.on("uncaughtException", guards.uncaughtException);
  if (!on(process.listeners("unhandledRejection"))) process.on("unhandledRejection", guards.unhandledRejection);
}

function guardOff(): void {
  process.off("uncaughtException", guards.uncaughtException);
  process.off("unhandledRejection", guards.unhandledRejection);
}

if (active) {
  guardOn();
  // The worker removes both kinds of listener, one call after the other, when a file ends: on again after that.
  const removeAll = process.removeAllListeners.bind(process);
  process.removeAllListeners = ((event?: string | symbol) => {
    const r = removeAll(event);
    if (event === "uncaughtException") process.nextTick(guardOn);
    return r;
  }) as typeof process.removeAllListeners;
}

export const mochaHooks = {
  beforeAll(this: Mocha.Context): void {
    if (active) guardOff();
    const file = this.test?.parent?.suites.find((s) => s.file)?.file;
    if (file) lastFile = path.relative(path.resolve(__dirname, "../../.."), file);
  },
};
