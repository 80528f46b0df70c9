// The lab's hardware watchdog as a pure state machine (the I/O is in lab/hw-watchdog.ts): the semantics of the
// Linux watchdog API (Documentation/watchdog/watchdog-api.rst) on /dev/watchdog:
// - opening the device starts the timer (and counts as a keepalive);
// - every write is a keepalive; a write containing 'V' allows the next close to stop the timer ("magic close"),
//   a later write without 'V' takes that back (as drivers/watchdog/watchdog_dev.c does on every write);
// - a close after a 'V' stops the timer; a close without it leaves the timer running and the kernel logs
//   "watchdog: watchdog0: watchdog did not stop!" (the device is then reset when the timeout expires, unless it is
//   opened and fed again);
// - when the timeout passes without a keepalive, the machine is reset (after which the timer is stopped until the
//   next open, as after a real reset).
// Times are the daemon's monotonic clock in milliseconds.

export interface HwWatchdogState {
  /** The timer runs: a reset follows `timeoutMs` after `lastKeepaliveAt` unless it is fed. */
  armed: boolean;
  /** A process has the device open. */
  open: boolean;
  /** The last write contained 'V': a close now stops the timer. */
  magicSeen: boolean;
  lastKeepaliveAt?: number;
  timeoutMs: number;
}

export type HwWatchdogEvent =
  | { kind: "open"; at: number; timeoutMs: number }
  | { kind: "write"; at: number; data: string }
  | { kind: "close"; at: number }
  /** The machine was reset (by the timer or a power cycle): the timer stops until the next open. */
  | { kind: "reset"; at: number };

export interface HwWatchdogStep {
  state: HwWatchdogState;
  /** A line for the server's console (what the kernel would print), if any. */
  console?: string;
}

export function initialHwWatchdog(timeoutMs: number): HwWatchdogState {
  return { armed: false, open: false, magicSeen: false, timeoutMs };
}

export function stepHwWatchdog(s: HwWatchdogState, e: HwWatchdogEvent): HwWatchdogStep {
  switch (e.kind) {
    case "open":
      // The timeout in force is read at open (softdog's soft_margin is a module parameter, fixed while open).
      return { state: { armed: true, open: true, magicSeen: false, lastKeepaliveAt: e.at, timeoutMs: e.timeoutMs } };
    case "write":
      if (!s.open) return { state: s };
      return { state: { ...s, armed: true, magicSeen: e.data.includes("V"), lastKeepaliveAt: e.at } };
    case "close":
      if (!s.open) return { state: s };
      if (s.armed && s.magicSeen) return { state: { ...s, armed: false, open: false, magicSeen: false, lastKeepaliveAt: undefined } };
      if (s.armed) return { state: { ...s, open: false, magicSeen: false }, console: "watchdog: watchdog0: watchdog did not stop!" };
      return { state: { ...s, open: false, magicSeen: false } };
    case "reset":
      return { state: { ...s, armed: false, open: false, magicSeen: false, lastKeepaliveAt: undefined } };
  }
}

/** When the timer resets the machine, or undefined when it is stopped. */
export function hwWatchdogExpiresAt(s: HwWatchdogState): number | undefined {
  return s.armed && s.lastKeepaliveAt !== undefined ? s.lastKeepaliveAt + s.timeoutMs : undefined;
}
