import { expect } from "chai";
import { hwWatchdogExpiresAt, initialHwWatchdog, stepHwWatchdog, HwWatchdogEvent, HwWatchdogState } from "../../lab/hw-watchdog-timer";

function run(events: HwWatchdogEvent[], s: HwWatchdogState = initialHwWatchdog(1000)): { state: HwWatchdogState; console: string[] } {
  const out: string[] = [];
  for (const e of events) {
    const r = stepHwWatchdog(s, e);
    s = r.state;
    if (r.console) out.push(r.console);
  }
  return { state: s, console: out };
}

describe("lab hardware watchdog timer (lab/hw-watchdog-timer.ts): the Linux watchdog API", () => {
  it("stopped until opened; opening arms it with the timeout in force at open", () => {
    expect(hwWatchdogExpiresAt(initialHwWatchdog(1000))).to.equal(undefined);
    const { state } = run([{ kind: "open", at: 100, timeoutMs: 2500 }]);
    expect(hwWatchdogExpiresAt(state)).to.equal(2600);
  });
  it("each write feeds it", () => {
    const { state } = run([{ kind: "open", at: 0, timeoutMs: 1000 }, { kind: "write", at: 700, data: "1" }, { kind: "write", at: 1500, data: "\0" }]);
    expect(hwWatchdogExpiresAt(state)).to.equal(2500);
  });
  it("magic close: 'V' then close stops it", () => {
    const { state, console } = run([{ kind: "open", at: 0, timeoutMs: 1000 }, { kind: "write", at: 10, data: "V" }, { kind: "close", at: 20 }]);
    expect(state.armed).to.equal(false);
    expect(hwWatchdogExpiresAt(state)).to.equal(undefined);
    expect(console).to.deep.equal([]);
  });
  it("a close without 'V' (or with a write after the 'V') leaves it counting, and says so as the kernel does", () => {
    for (const writes of [["1"], ["V", "1"]]) {
      const evs: HwWatchdogEvent[] = [{ kind: "open", at: 0, timeoutMs: 1000 }, ...writes.map((d, i) => ({ kind: "write" as const, at: 10 + i, data: d })), { kind: "close", at: 50 }];
      const { state, console } = run(evs);
      expect(state.armed, writes.join()).to.equal(true);
      expect(hwWatchdogExpiresAt(state)).to.equal(10 + writes.length - 1 + 1000);
      expect(console).to.deep.equal(["watchdog: watchdog0: watchdog did not stop!"]);
    }
  });
  it("a reset stops it until the next open; writes with no open are ignored", () => {
    const { state } = run([{ kind: "open", at: 0, timeoutMs: 1000 }, { kind: "reset", at: 1000 }, { kind: "write", at: 1100, data: "1" }]);
    expect(state.armed).to.equal(false);
    expect(hwWatchdogExpiresAt(state)).to.equal(undefined);
  });
});
