// Several labs may run at once (tests run labs in parallel dirs): each takes a slot, which gives it its own
// address range 127.77.SLOT.0/24, its own cgroup and its own firewall table. A slot is a directory created
// atomically under /run; the lab dir names its slot in LABDIR/slot, which is how a stale slot is recognised.
import * as fs from "fs";
import * as path from "path";

const SLOTS_DIR = "/run/ovm-ha-lab";

function slotDir(slot: number): string {
  return path.join(SLOTS_DIR, `slot-${slot}`);
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** A slot is stale when the lab dir that took it no longer says it holds it. */
function isStale(slot: number): boolean {
  const owner = readText(path.join(slotDir(slot), "owner"));
  if (owner === undefined) return false; // being taken right now
  return readText(path.join(owner, "slot")) !== String(slot);
}

export function allocateSlot(labDir: string): number {
  fs.mkdirSync(SLOTS_DIR, { recursive: true });
  for (let slot = 1; slot <= 250; slot++) {
    try {
      fs.mkdirSync(slotDir(slot));
    } catch {
      if (!isStale(slot)) continue;
      fs.rmSync(slotDir(slot), { recursive: true, force: true });
      try { fs.mkdirSync(slotDir(slot)); } catch { continue; }
    }
    fs.writeFileSync(path.join(labDir, "slot"), String(slot));
    fs.writeFileSync(path.join(slotDir(slot), "owner"), labDir);
    return slot;
  }
  throw new Error("no free lab slot (250 labs running?): run `ovm-ha lab down --dir DIR` on labs you no longer use");
}

export function releaseSlot(slot: number, labDir: string): void {
  if (readText(path.join(slotDir(slot), "owner")) === labDir) fs.rmSync(slotDir(slot), { recursive: true, force: true });
  fs.rmSync(path.join(labDir, "slot"), { force: true });
}

export function slotAddress(slot: number, host: number): string {
  return `127.77.${slot}.${host}`;
}
