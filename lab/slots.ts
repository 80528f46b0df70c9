// Several labs may run at once (tests run labs in parallel dirs): each takes a slot, which gives it its own
// address range 127.77.SLOT.0/24, its own cgroup and its own firewall table. A slot is a directory created
// atomically under /run; the lab dir names its slot in LABDIR/slot, which is how a stale slot is recognised.
import * as fs from "fs";
import * as path from "path";

const SLOTS_DIR = "/run/ovm-ha-lab";

function slotDir(slot: number, slotsDir: string): string {
  return path.join(slotsDir, `slot-${slot}`);
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** A slot is stale when the lab dir that took it no longer says it holds it. */
function isStale(slot: number, slotsDir: string): boolean {
  const owner = readText(path.join(slotDir(slot, slotsDir), "owner"));
  // Being taken right now: no owner file yet, or one created and not yet written (writeFileSync creates, then
  // writes: a reader in between sees it empty, and an empty owner once made a slot look stale under its new lab).
  if (!owner) return false;
  return readText(path.join(owner, "slot")) !== String(slot);
}

/**
 * Takes a stale slot over. Only the holder of SLOT.reap (a mkdir) may remove and retake it, and it looks again once
 * it holds it: two labs starting together (parallel test files) could otherwise both judge it stale, and the second's
 * remove would delete the slot the first had just retaken. Returns whether the slot is now ours.
 */
function reapStale(slot: number, slotsDir: string): boolean {
  const lock = `${slotDir(slot, slotsDir)}.reap`;
  try {
    fs.mkdirSync(lock);
  } catch {
    return false; // another lab is reaping it
  }
  try {
    if (!isStale(slot, slotsDir)) return false;
    fs.rmSync(slotDir(slot, slotsDir), { recursive: true, force: true });
    try {
      fs.mkdirSync(slotDir(slot, slotsDir));
      return true;
    } catch {
      return false;
    }
  } finally {
    fs.rmdirSync(lock);
  }
}

/** `slotsDir` is for tests: labs share the one under /run. */
export function allocateSlot(labDir: string, slotsDir = SLOTS_DIR): number {
  fs.mkdirSync(slotsDir, { recursive: true });
  for (let slot = 1; slot <= 250; slot++) {
    try {
      fs.mkdirSync(slotDir(slot, slotsDir));
    } catch {
      if (!reapStale(slot, slotsDir)) continue;
    }
    fs.writeFileSync(path.join(labDir, "slot"), String(slot));
    fs.writeFileSync(path.join(slotDir(slot, slotsDir), "owner"), labDir);
    return slot;
  }
  throw new Error("no free lab slot (250 labs running?): run `ovm-ha lab down --dir DIR` on labs you no longer use");
}

export function releaseSlot(slot: number, labDir: string, slotsDir = SLOTS_DIR): void {
  if (readText(path.join(slotDir(slot, slotsDir), "owner")) === labDir) fs.rmSync(slotDir(slot, slotsDir), { recursive: true, force: true });
  fs.rmSync(path.join(labDir, "slot"), { force: true });
}

/**
 * Hands a lab's slot to `holderDir` (which then holds it, as a lab dir would): the lab's own `lab down` then leaves
 * the slot taken. For a test that checks, after down, that the slot's cgroup and firewall table are gone: without
 * this, a lab starting meanwhile (another test file) could take the slot back at once and make them anew.
 */
export function holdSlot(slot: number, labDir: string, holderDir: string, slotsDir = SLOTS_DIR): void {
  const owner = path.join(slotDir(slot, slotsDir), "owner");
  if (readText(owner) !== labDir) throw new Error(`slot ${slot} is not held by ${labDir}`);
  fs.writeFileSync(path.join(holderDir, "slot"), String(slot));
  fs.writeFileSync(`${owner}.tmp`, holderDir);
  fs.renameSync(`${owner}.tmp`, owner);
}

export function slotAddress(slot: number, host: number): string {
  return `127.77.${slot}.${host}`;
}
