// What a storage stand-in knows about where it runs: the server's identity, the lab's description, and the root
// of the server's files. Root is "/" inside a server; unit tests point OVM_LAB_ROOT at a scratch directory.
import * as fs from "fs";
import * as path from "path";
import { LabInfo, layout, SERVER_IDENTITY, ServerIdentity } from "../layout";

export interface StandinContext {
  root: string;
  identity: ServerIdentity;
  lab: LabInfo;
  labDir: string;
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** An Io that collects output, for composing stand-ins (boot) and for tests. */
export function bufferIo(): Io & { stdout: string; stderr: string } {
  const io = { stdout: "", stderr: "", out: (t: string) => { io.stdout += t; }, err: (t: string) => { io.stderr += t; } };
  return io;
}

export function loadContext(root = process.env.OVM_LAB_ROOT || "/"): StandinContext {
  const identity: ServerIdentity = JSON.parse(fs.readFileSync(path.join(root, SERVER_IDENTITY), "utf8"));
  const lab: LabInfo = JSON.parse(fs.readFileSync(layout.labJson(identity.labDir), "utf8"));
  return { root, identity, lab, labDir: identity.labDir };
}

/** A path of the server's file system. */
export function serverPath(ctx: { root: string }, p: string): string {
  return path.join(ctx.root, p);
}

export function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** Whether the lab has cut this server off the network (`lab partition`). */
export function isPartitioned(ctx: StandinContext): boolean {
  const text = readIfExists(layout.serverState(ctx.labDir, ctx.identity.name));
  try {
    return Boolean(text && JSON.parse(text).partitioned);
  } catch {
    return false;
  }
}

/** Run a stand-in's entry point as the process: print, then exit with its code. */
export function runStandin(fn: (argv: string[], ctx: StandinContext, io: Io) => Promise<number> | number): void {
  Promise.resolve()
    .then(() => fn(process.argv.slice(2), loadContext(), processIo))
    .then(
      (code) => { process.exitCode = code; },
      (e) => { process.stderr.write(`${(e as Error).message}\n`); process.exitCode = 1; },
    );
}
