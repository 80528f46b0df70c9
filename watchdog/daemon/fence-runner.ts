// Runs a configured power fence command on the watchdog's host (IPMI, PDU, the lab's `lab power off`) under a
// deadline. Exit 0 means the server is off; anything else failed; no exit by the deadline is a timeout (the
// process group is killed). The password never appears in logs: every displayed form masks it.
import { spawn } from "child_process";
import * as fs from "fs";
import type { FenceOutcome } from "../core/types";
import { maskSecrets } from "../../provider/ssh";
import type { FenceCommandConfig } from "./config";

export interface FenceRun {
  outcome: FenceOutcome;
  detail: string;
  ms: number;
}

export function fencePassword(f: FenceCommandConfig): string | undefined {
  if (f.password !== undefined) return f.password;
  if (f.passwordFile !== undefined) return fs.readFileSync(f.passwordFile, "utf8").replace(/\r?\n$/, "");
  if (f.passwordEnv !== undefined) {
    const v = process.env[f.passwordEnv];
    if (v === undefined) throw new Error(`environment variable ${f.passwordEnv} (fence password) is not set`);
    return v;
  }
  return undefined;
}

/** The argv with {server}, {address} and {password} filled in, and its masked display form. */
export function fenceArgv(f: FenceCommandConfig, server: { name: string; address: string }, password: string | undefined): { argv: string[]; display: string } {
  const fill = (a: string, pw: string) => a.split("{server}").join(server.name).split("{address}").join(server.address).split("{password}").join(pw);
  return {
    argv: f.command.map((a) => fill(a, password ?? "")),
    display: f.command.map((a) => fill(a, "***")).join(" "),
  };
}

export function runFence(f: FenceCommandConfig, server: { name: string; address: string }, defaultTimeoutMs: number): Promise<FenceRun> {
  const t0 = Date.now();
  let password: string | undefined;
  try {
    password = fencePassword(f);
  } catch (e) {
    return Promise.resolve({ outcome: "failed", detail: (e as Error).message, ms: 0 });
  }
  const { argv, display } = fenceArgv(f, server, password);
  const secrets = password ? [password] : [];
  const timeoutMs = f.timeoutMs ?? defaultTimeoutMs;
  return new Promise<FenceRun>((resolve) => {
    let out = "";
    let done = false;
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], detached: true });
    const finish = (outcome: FenceOutcome, detail: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ outcome, detail: maskSecrets(detail, secrets), ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* already gone */
      }
      finish("timeout", `${display}: no answer within ${timeoutMs} ms`);
    }, timeoutMs);
    const keep = (d: Buffer) => {
      out = (out + d.toString()).slice(-2000);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    child.on("error", (e) => finish("failed", `${display}: ${e.message}`));
    child.on("close", (code, signal) => {
      const tail = out.trim().split("\n").slice(-3).join(" | ");
      if (code === 0) finish("off", `${display} (${Date.now() - t0} ms)`);
      else finish("failed", `${display} exited ${code ?? signal}${tail ? `: ${tail}` : ""}`);
    });
  });
}
