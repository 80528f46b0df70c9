// The watchdog as deployed (a child process, so it can be SIGKILLed between deciding and acting), on the world's
// config and state file, for the exactly-once cases 6 and 6b. withChildWatchdog puts it in place of the world's
// in-process watchdog on a restart budget of one start per guest (a start that never happened must not use it
// up), and puts the in-process watchdog and the world's timing back whatever the case did.
import { expect } from "chai";
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { ExactlyOnceWorld } from "./exactly-once-world";
import { PROJECT_ROOT } from "./lab-pool";
import { statusFilePath } from "../../watchdog/daemon/config";
import type { WatchdogStatus } from "../../watchdog/status";
import { waitFor } from "../support/wait-for";

/** A line of the child's JSON log. */
export type ChildLine = { time: string; event?: string; guest?: string; server?: string; msg?: string };

export class ChildWatchdog {
  private proc?: ChildProcess;

  constructor(private readonly w: ExactlyOnceWorld) {}

  /** The child's log file: the world's config sends its log there. */
  get logFile(): string {
    return path.join(this.w.stateDir, "child-watchdog.log");
  }

  status(): WatchdogStatus | undefined {
    try {
      return JSON.parse(fs.readFileSync(statusFilePath(this.w.config), "utf8")) as WatchdogStatus;
    } catch {
      return undefined;
    }
  }

  /** Guest states in the state file as written (before the restore that marks commands in flight lost). */
  rawStates(): Record<string, string> {
    try {
      const s = JSON.parse(fs.readFileSync(this.w.config.stateFile, "utf8")) as { guests: Record<string, { status: { state: string } }> };
      return Object.fromEntries(Object.entries(s.guests).map(([g, e]) => [g, e.status.state]));
    } catch {
      return {};
    }
  }

  lines(): ChildLine[] {
    return fs.readFileSync(this.logFile, "utf8").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as ChildLine);
  }

  /**
   * The first log line that matches, waiting for it: the child logs asynchronously (pino, sync: false) and writes
   * its status file synchronously, so a status that shows a change can be read before the line that says it.
   */
  async lineWhere(what: string, pred: (l: ChildLine) => boolean, timeoutMs = 5000): Promise<ChildLine> {
    return waitFor(`the child watchdog's log line: ${what}`, () => this.lines().find(pred), timeoutMs, 50);
  }

  /** Starts a child watchdog; returns when it started (the time its status must be newer than). */
  spawn(): number {
    this.proc = spawn(process.execPath, [path.join(PROJECT_ROOT, "dist", "cli", "watchdog-command.js"), "watchdog", "--config", this.w.configFile], { stdio: ["ignore", "ignore", "inherit"] });
    return Date.now();
  }

  /** SIGKILL: the watchdog dies wherever it is; returns once it has exited, with the time of the kill. */
  async kill(): Promise<number> {
    const p = this.proc!;
    p.kill("SIGKILL");
    const killedAt = Date.now();
    await new Promise((r) => p.once("exit", r));
    return killedAt;
  }

  /** The time of the `watchdog-resumed` line of a child started at `restartedAt`: it resumed from its state file. */
  resumedAt(restartedAt: number): number {
    const resumed = this.lines().find((l) => l.event === "watchdog-resumed" && Date.parse(l.time) >= restartedAt);
    expect(resumed, "the restarted watchdog resumed from its state file").to.not.equal(undefined);
    return Date.parse(resumed!.time);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      p.kill("SIGTERM");
      await new Promise((r) => p.once("exit", r));
    }
  }
}

/** Runs `body` with a child watchdog (started, its first status written) in place of the in-process one. */
export async function withChildWatchdog(w: ExactlyOnceWorld, body: (child: ChildWatchdog) => Promise<void>): Promise<void> {
  w.pool.writePool({ timing: { ...w.timing, restartBudget: { max: 1, windowMs: 600000 } } });
  await waitFor("budget of 1 in force", () => w.wd!.state!.pool.timing.restartBudget.max === 1, 10000);
  await w.stopWatchdog();
  const child = new ChildWatchdog(w);
  fs.writeFileSync(child.logFile, "");
  const started = child.spawn();
  try {
    await waitFor("the child watchdog running", () => (child.status()?.updatedAt ?? 0) > started, 30000);
    await body(child);
  } finally {
    await child.stop();
    w.pool.writePool({ timing: w.timing });
    await w.startWatchdog();
  }
}
