// Runs a power fence on the watchdog's host (IPMI, a PDU, a fence agent, the lab's `lab power`), confirmed:
// "off" is reported only when a status query, sent after the off command exited 0, says the server is off.
// The password goes to the command through its environment or its standard input (never its arguments) and
// never into a log line: every displayed form masks it. Contract: README "Fencing: the command contract".
// In etcd mode the caller passes an `off` step that runs the off command on a pool server behind the
// fencing-token guard (watchdog/replica/guarded-fence.ts); the status queries stay here.
import { spawn } from "child_process";
import type { FenceOutcome } from "../core/types";
import { maskSecrets } from "../../provider/ssh";
import type { FenceMethodConfig } from "./config";
import { readSecretFile } from "./secret-files";

export interface FenceRun {
  outcome: FenceOutcome;
  detail: string;
  ms: number;
}

export interface FenceTarget {
  name: string;
  address: string;
}

/** One process to run: argv, extra environment, standard input. */
export interface FenceInvocation {
  argv: string[];
  env: Record<string, string>;
  stdin?: string;
  /** For logs: argv, env names and stdin with the password masked. */
  display: string;
}

export function fencePassword(f: FenceMethodConfig): string | undefined {
  let pw: string | undefined;
  if (f.passwordFile !== undefined) pw = readSecretFile(f.passwordFile, "fence passwordFile");
  else if (f.passwordFromEnv !== undefined) {
    pw = process.env[f.passwordFromEnv];
    if (pw === undefined) throw new Error(`environment variable ${f.passwordFromEnv} (fence passwordFromEnv) is not set`);
  }
  // One line: it travels as an environment value or a key=value line of standard input.
  if (pw !== undefined && /[\0\r\n]/.test(pw)) throw new Error(`the fence password (${f.passwordFile ?? f.passwordFromEnv}) must be one line`);
  return pw;
}

function filler(f: FenceMethodConfig, server: FenceTarget, passwordFile = f.passwordFile ?? "") {
  return (text: string, password: string) =>
    text
      .split("{server}").join(server.name)
      .split("{address}").join(server.address)
      .split("{passwordFile}").join(passwordFile)
      .split("{password}").join(password);
}

/**
 * The process for one action ("off" or "status") of a method, and its masked display form. `passwordFile`: what
 * {passwordFile} stands for (default: the configured file; a marker when the command runs on another machine).
 */
export function fenceInvocation(f: FenceMethodConfig, action: "off" | "status", server: FenceTarget, password: string | undefined, passwordFile?: string): FenceInvocation {
  const fill = filler(f, server, passwordFile);
  const pw = password ?? "";
  const env = Object.fromEntries(Object.entries(f.env ?? {}).map(([k, v]) => [k, fill(v, pw)]));
  const envNames = Object.keys(env).length ? ` (env ${Object.keys(env).join(", ")})` : "";
  // Arguments never get the password: the config refuses {password} there, and it is filled with "" in case a
  // caller skipped the schema.
  if (f.agent) {
    // fence-agents: key=value lines on stdin; the agent's own argv carries no option.
    const lines = [`action=${action}`, ...Object.entries(f.options ?? {}).map(([k, v]) => `${k}=${fill(v, pw)}`)];
    const shown = [`action=${action}`, ...Object.entries(f.options ?? {}).map(([k, v]) => `${k}=${fill(v, "***")}`)];
    return { argv: f.agent.map((a) => fill(a, "")), env, stdin: lines.join("\n") + "\n", display: `${f.agent.join(" ")} <<< ${shown.join(" ")}${envNames}` };
  }
  const argv = (action === "off" ? f.off : f.status)!;
  const filled = argv.map((a) => fill(a, ""));
  return { argv: filled, env, display: filled.join(" ") + envNames };
}

/** The method as shown in the pool record and status: both actions, no secret. */
export function fenceDisplay(f: FenceMethodConfig, server: FenceTarget): string {
  if (f.agent) return fenceInvocation(f, "off", server, undefined).display.replace(/action=off/, "action=off|status");
  return `${fenceInvocation(f, "off", server, undefined).display}; confirmed by ${fenceInvocation(f, "status", server, undefined).display}`;
}

/** Kept for callers that show a method: the off argv (no secret in it) and the display of the whole method. */
export function fenceArgv(f: FenceMethodConfig, server: FenceTarget, _password?: string): { argv: string[]; display: string } {
  return { argv: fenceInvocation(f, "off", server, undefined).argv, display: fenceDisplay(f, server) };
}

/** What a status query says. ipmitool exits 0 either way and prints the state; a fence agent exits 2 for off. */
export type PowerState = "off" | "not-off";
export function parsePowerStatus(code: number, output: string): PowerState {
  if (code === 2) return "off";
  if (code !== 0) return "not-off";
  if (/^\s*Chassis Power is off\s*$/im.test(output) || /^\s*Status:\s*OFF\s*$/im.test(output)) return "off";
  return "not-off";
}

export interface StepResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
  error?: string;
}

/** How the "off" step runs: here (default), or elsewhere (etcd mode: on a pool server, behind the fencing-token guard). */
export type OffStep = (f: FenceMethodConfig, server: FenceTarget, password: string | undefined, timeoutMs: number) => Promise<StepResult & { display: string }>;

/** Runs one process in its own process group; kills the group when `timeoutMs` passes. */
function runStep(inv: FenceInvocation, timeoutMs: number, scrubEnv: string | undefined): Promise<StepResult> {
  return new Promise((resolve) => {
    let output = "";
    let done = false;
    const env: NodeJS.ProcessEnv = { ...process.env, ...inv.env };
    // The watchdog's own copy of the password stays with the watchdog unless `env` hands it on by name.
    if (scrubEnv !== undefined && !(scrubEnv in inv.env)) delete env[scrubEnv];
    const child = spawn(inv.argv[0], inv.argv.slice(1), { stdio: [inv.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"], detached: true, env });
    const finish = (r: Omit<StepResult, "output">) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...r, output });
    };
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* already gone */
      }
      finish({ code: null, signal: "SIGKILL", timedOut: true });
    }, Math.max(1, timeoutMs));
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    if (inv.stdin !== undefined) {
      child.stdin!.on("error", () => undefined); // an agent that exits without reading: its exit code tells
      child.stdin!.end(inv.stdin);
    }
    child.on("error", (e) => finish({ code: null, signal: null, timedOut: false, error: e.message }));
    child.on("close", (code, signal) => finish({ code, signal, timedOut: false }));
  });
}

/** Default pause between two status queries (fence_ipmilan waits 2 s after off, then polls; IPMI answers in ~0.1 s). */
export const DEFAULT_STATUS_INTERVAL_MS = 500;

const tail = (out: string) => out.trim().split("\n").slice(-3).join(" | ");

/**
 * Off, then status until it says off, all within the method's timeout (at most `defaultTimeoutMs`, the core's).
 * Outcomes: "off" (confirmed), "failed" (off failed, or status still not off at the deadline: a fence that
 * lies), "timeout" (the off command, or the last status query, did not answer in time).
 */
export async function runFence(f: FenceMethodConfig, server: FenceTarget, defaultTimeoutMs: number, opts: { off?: OffStep } = {}): Promise<FenceRun> {
  const t0 = Date.now();
  // Never beyond the core's own fence deadline (timing.fenceTimeoutMs): an answer after it would be ignored.
  const timeoutMs = Math.min(f.timeoutMs ?? defaultTimeoutMs, defaultTimeoutMs);
  const deadline = t0 + timeoutMs;
  let password: string | undefined;
  try {
    password = fencePassword(f);
  } catch (e) {
    return { outcome: "failed", detail: (e as Error).message, ms: 0 };
  }
  const secrets = password ? [password] : [];
  const done = (outcome: FenceOutcome, detail: string): FenceRun => ({ outcome, detail: maskSecrets(detail, secrets), ms: Date.now() - t0 });
  const scrub = f.passwordFromEnv;

  const runOff: OffStep = opts.off ?? (async (m, t, pw, ms) => {
    const inv = fenceInvocation(m, "off", t, pw);
    return { ...(await runStep(inv, ms, scrub)), display: inv.display };
  });
  const off = await runOff(f, server, password, deadline - Date.now());
  const o = off;
  if (o.error) return done("failed", `${off.display}: ${o.error}`);
  if (o.timedOut) return done("timeout", `${off.display}: no answer within ${timeoutMs} ms`);
  if (o.code !== 0) return done("failed", `${off.display} exited ${o.code ?? o.signal}${tail(o.output) ? `: ${tail(o.output)}` : ""}`);

  const status = fenceInvocation(f, "status", server, password);
  let queries = 0;
  let last: StepResult | undefined;
  let answered: StepResult | undefined; // the last query that answered: what the device said before the deadline
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    last = await runStep(status, left, scrub);
    queries++;
    if (!last.timedOut) answered = last;
    if (!last.error && !last.timedOut && last.code !== null && parsePowerStatus(last.code, last.output) === "off") {
      return done("off", `${off.display}, confirmed by status: ${tail(last.output) || `exit ${last.code}`} (${Date.now() - t0} ms)`);
    }
    if (last.error) break; // the status command cannot run at all: waiting does not help
    const pause = f.statusIntervalMs ?? DEFAULT_STATUS_INTERVAL_MS;
    if (deadline - Date.now() <= pause) break;
    await new Promise((r) => setTimeout(r, pause));
  }
  const elapsed = Date.now() - t0;
  if (!last) return done("timeout", `${off.display} exited 0 but no time was left for a status query within ${timeoutMs} ms`);
  if (last.error) return done("failed", `${off.display} exited 0, but its status query cannot run: ${status.display}: ${last.error}`);
  // A query cut by the deadline after earlier ones answered: those answers are the evidence.
  if (last.timedOut && answered) last = answered;
  if (last.timedOut) return done("timeout", `${off.display} exited 0, but the status query did not answer within the fence's ${timeoutMs} ms`);
  const said = tail(last.output) || `exit ${last.code}`;
  if (last.code === 0) {
    return done("failed", `not confirmed: ${off.display} exited 0 but the server is still on after ${queries} status ${queries === 1 ? "query" : "queries"} over ${elapsed} ms (status: ${said}): the fence device may be lying`);
  }
  return done("failed", `not confirmed: ${off.display} exited 0 but ${status.display} failed (exit ${last.code ?? last.signal}: ${said}) after ${queries} ${queries === 1 ? "query" : "queries"} over ${elapsed} ms`);
}
