// What the demo prints: one line per step and per watchdog event that matters to a person watching failover
// (detection, fencing, restarts, migrations), with the time since the fault. Everything else goes to the log file.
import type { LogLine } from "../watchdog/core/types";

const SHOWN: Record<string, (l: LogLine) => string> = {
  "server-suspect": (l) => `${l.server} missed a heartbeat: ${l.reason}`,
  "server-failed": (l) => `${l.server} declared failed: ${l.reason}`,
  "fence-start": (l) => `fencing ${l.server}: ${l.reason}`,
  "server-fenced": (l) => `${l.server} fenced: ${l.reason}`,
  "fence-failed": (l) => `fencing ${l.server} failed: ${l.reason}`,
  "fence-unavailable": (l) => `cannot fence ${l.server}: ${l.reason}`,
  "guest-start": (l) => `starting ${l.guest} on ${l.server}`,
  "guest-start-failed": (l) => `starting ${l.guest} on ${l.server} failed: ${l.reason}`,
  "guest-running": (l) => `${l.guest} running on ${l.server}`,
  "guest-migrate": (l) => `migrating ${l.guest} live: ${l.reason}`,
  "guest-migrate-failed": (l) => `migrating ${l.guest} failed: ${l.reason}`,
  "request-read": (l) => `${l.server} asks to be drained: ${l.reason}`,
  "server-draining": (l) => `draining ${l.server}: ${l.reason}`,
  "server-drained": (l) => `${l.server} drained: ${l.reason}`,
  "guest-duplicate": (l) => `DUPLICATE ${l.guest}: ${l.reason}`,
};

export class DemoScreen {
  private since?: number;
  private readonly t0 = Date.now();
  private readonly color: boolean;

  constructor(private readonly out: NodeJS.WriteStream) {
    this.color = out.isTTY === true && !process.env.NO_COLOR;
  }

  private paint(code: string, s: string): string {
    return this.color ? `\x1b[${code}m${s}\x1b[0m` : s;
  }

  private clock(): string {
    return this.paint("2", `[${((Date.now() - this.t0) / 1000).toFixed(1).padStart(5)}s]`);
  }

  title(s: string): void {
    this.out.write(`\n${this.paint("1", s)}\n`);
  }

  step(s: string): void {
    this.out.write(`${this.clock()} ${s} ...\n`);
  }

  done(s: string): void {
    this.out.write(`${this.clock()} ${this.paint("32", "✔")} ${s}\n`);
  }

  note(s: string): void {
    this.out.write(`${this.clock()} ${this.paint("36", "ℹ")} ${s}\n`);
  }

  line(s: string): void {
    this.out.write(`${this.clock()} ${s}\n`);
  }

  /** Another program's output (the Pulumi CLI's), indented under the step. */
  output(text: string): void {
    for (const l of text.replace(/\s+$/, "").split("\n")) this.out.write(`        ${this.paint("2", "│")} ${l}\n`);
  }

  fail(s: string): void {
    this.out.write(`${this.clock()} ${this.paint("31", "✘")} ${s}\n`);
  }

  summary(s: string): void {
    this.out.write(`\n${this.paint("1", s)}\n`);
  }

  /** Watchdog events are shown while a fault is being watched, timed from its start. */
  watch(since: number | undefined): void {
    this.since = since;
  }

  event(l: LogLine): void {
    if (this.since === undefined) return;
    const show = SHOWN[l.event];
    if (!show && !l.loud) return;
    const dt = `+${((l.t - this.since) / 1000).toFixed(1)}s`.padStart(7);
    // The fence command line names node and the lab dir: show it as the user would type it.
    const shown = { ...l, reason: l.reason.replace(/[^\s(]*\/node \S*\/cli\/main\.js/g, "ovm-ha").replace(/ --dir \S+/g, "") };
    this.out.write(`${this.clock()}   ${this.paint(l.loud ? "31" : "33", dt)}  ${show ? show(shown) : `${l.event}: ${shown.reason}`}\n`);
  }
}
