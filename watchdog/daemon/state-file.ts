// The durable state (the core's serialized state) and the status document, each written atomically
// (write-file-atomic: temp file, fsync, rename) so that a crash leaves the old or the new file, never half.
import * as fs from "fs";
import * as path from "path";
import writeFileAtomic from "write-file-atomic";
import { restoreState } from "../core/durable-state";
import type { ManagerState } from "../core/manager";
import type { WatchdogStatus } from "../status";

export function writeStateFile(file: string, json: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic.sync(file, json, { fsync: true });
}

/** The saved state, restored (answers in flight marked lost), or undefined when there is none. */
export function readStateFile(file: string, commandDeadlineMs = 0): ManagerState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  return restoreState(text, Date.now(), commandDeadlineMs);
}

export function writeStatusFile(file: string, status: WatchdogStatus): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // The status is a convenience copy: no fsync per turn.
  writeFileAtomic.sync(file, JSON.stringify(status), { fsync: false });
}

export function readStatusFile(file: string): WatchdogStatus {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`no watchdog status at ${file} (${(e as NodeJS.ErrnoException).code}): has the watchdog run with this config?`);
  }
  return JSON.parse(text) as WatchdogStatus;
}
