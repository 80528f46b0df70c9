// The disk heartbeat as evidence (ha/disk-heartbeat.ts is the contract with the agent). Every heartbeat round the
// environment reads all slots through one server that answers; a read that fails says nothing (unreadable is not
// stale). Only the watchdog's clock is used: a slot is alive when its seq changed between two reads, stale when the
// same armed slot was read again and again. A stale armed slot proves the server off after the message wait: its
// agent stopped renewing, so it stopped feeding its watchdog device, which reset the server.
import { CLOCK_RATE_MARGIN, messageWaitMs, slotArmed, type Slot } from "../../ha/disk-heartbeat";
import type { Timing } from "../../ha/ha-record";
import type { ServerStatus } from "./server-state";
import type { StepContext } from "./step-context";
import type { SlotReading, SlotsObservation } from "./types";

export type DiskView =
  /** Never read, or no slot file: no agent to speak of. */
  | { kind: "none" }
  /** The agent wrote within the lease (after `wroteAfter`). */
  | { kind: "alive"; slot: SlotReading; wroteAfter: number }
  /** The same armed slot at every read since `since` (or `self-fencing`, its agent's last word). */
  | { kind: "stale"; slot: SlotReading; since: number }
  /** Its agent stopped cleanly and disarmed the device: the slot proves nothing. */
  | { kind: "stopped"; slot: SlotReading; since: number }
  /** Read once, or not changed yet within the lease but not read again: no evidence either way. */
  | { kind: "unknown"; slot: SlotReading };

/** The contract's rule (slotArmed reads only the state) on what the watchdog keeps of a slot. */
export function armed(slot: SlotReading): boolean {
  return slotArmed(slot as Slot);
}

const withMargin = (ms: number) => Math.ceil(ms * (1 + CLOCK_RATE_MARGIN) - 1e-6);

function sameSlot(a: SlotReading | null, b: SlotReading | null): boolean {
  if (a === null || b === null) return a === b;
  return a.bootId === b.bootId && a.seq === b.seq && a.state === b.state;
}

/** One read of all slots: each server's record moves on (a new slot) or is confirmed (the same one again). */
export function slotsRead(c: StepContext, o: SlotsObservation): void {
  if (!o.ok) return; // no evidence: never turned into staleness
  if (c.s.slotsSentAt !== undefined && o.sentAt <= c.s.slotsSentAt) return; // overtaken by a newer read
  c.s.slotsSentAt = o.sentAt;
  for (const name of c.order) {
    const st = c.s.servers[name];
    if (!st || st.state === "removed" || !(name in o.slots)) continue; // its slot was unreadable this time
    const slot = o.slots[name];
    const prev = st.disk;
    if (prev && sameSlot(prev.slot, slot)) {
      prev.lastReadSentAt = o.sentAt;
      continue;
    }
    st.disk = { slot, firstReadAt: o.answeredAt, lastReadSentAt: o.sentAt };
    // The agent wrote after the previous read was sent (that read, executed after it was sent, did not show it).
    if (prev && slot) st.disk.wroteAfter = prev.lastReadSentAt;
    if (prev?.slot && slot && prev.slot.bootId !== slot.bootId) {
      c.say("server-rebooted", `its agent's slot shows a new boot (${short(prev.slot.bootId)} -> ${short(slot.bootId)}): the guests of the old boot died with it`, { server: name });
    }
  }
}

export function diskView(st: ServerStatus, timing: Timing, now: number): DiskView {
  const d = st.disk;
  if (!d || !d.slot) return { kind: "none" };
  const slot = d.slot;
  if (!armed(slot)) return { kind: "stopped", slot, since: d.firstReadAt };
  if (slot.state === "self-fencing") return { kind: "stale", slot, since: d.firstReadAt };
  if (d.wroteAfter !== undefined && now - d.wroteAfter <= withMargin(timing.agent.leaseMs)) return { kind: "alive", slot, wroteAfter: d.wroteAfter };
  // Stale only once a read sent after the first one answered showed the same slot again.
  if (d.lastReadSentAt >= d.firstReadAt) return { kind: "stale", slot, since: d.firstReadAt };
  return { kind: "unknown", slot };
}

/**
 * When the disk heartbeat alone proves the server off (undefined: it does not). A self-fencing slot is its agent's
 * last write: off one message wait after it was first read. Any other armed slot must have been read unchanged by
 * a read sent a whole lease (with the clock margin) after it first showed: then its agent missed its lease for
 * sure, stopped feeding the device, and the server is off one message wait after the slot was first read.
 */
export function diskKnownOffAt(st: ServerStatus, timing: Timing): number | undefined {
  const d = st.disk;
  if (!d || !d.slot || !armed(d.slot)) return undefined;
  const wait = messageWaitMs(timing.agent);
  if (d.slot.state === "self-fencing") return d.firstReadAt + wait;
  if (d.lastReadSentAt >= d.firstReadAt + withMargin(timing.agent.leaseMs)) return d.firstReadAt + wait;
  return undefined;
}

export function diskKnownOff(st: ServerStatus, timing: Timing, now: number): boolean {
  const at = diskKnownOffAt(st, timing);
  return at !== undefined && now >= at;
}

/**
 * Network silent, disk heartbeat alive with a write after the silence began: the server is alive and cut off from
 * the watchdog, not dead. Its guests are running; fencing it or restarting them elsewhere would be wrong.
 */
export function aliveAfterSilence(st: ServerStatus, timing: Timing, now: number): boolean {
  const v = diskView(st, timing, now);
  if (v.kind !== "alive") return false;
  const silent = st.silentSince ?? st.firstMissAt;
  return silent !== undefined && v.wroteAfter >= silent;
}

/**
 * A guest that vanished from a server whose agent then turned out to be self-fencing (its slot says so, or stopped
 * being renewed) within a message wait was destroyed by that agent (a pill, or its lease lost with the storage),
 * not shut down by a human: it is lost, so restarted. It was listed absent there, and it is not listed elsewhere.
 */
export function lostToSelfFence(c: StepContext): void {
  const wait = messageWaitMs(c.timing.agent);
  for (const name of Object.keys(c.s.guests).sort()) {
    const e = c.s.guests[name];
    const st = e.status;
    if (st.state !== "stopped" || st.from === undefined || c.now - st.since > wait) continue;
    const server = c.s.servers[st.from];
    if (!server) continue;
    const v = diskView(server, c.timing, c.now);
    if (v.kind !== "stale") continue;
    // A lost lease: the slot stopped changing before the guest vanished (the agent kills at the end of its lease).
    // A slot that went stale only later (a hang after a human's `xm destroy`) says nothing about that guest.
    if (v.slot.state !== "self-fencing" && v.since > st.since) continue;
    const elsewhere = c.order.some((n) => n !== st.from && c.s.servers[n]?.guests?.some((g) => g.name === name));
    if (elsewhere) continue;
    c.say("guest-lost", `vanished from ${st.from}, whose agent is self-fencing (disk heartbeat ${v.slot.state === "self-fencing" ? "says self-fencing" : "no longer renewed"}): destroyed by it, so restarted`, { guest: name, server: st.from });
    e.status = { state: "powered-off", since: c.now, announced: false, reason: `${st.from} self-fenced` };
  }
}

/** What status shows: `alive`, `stale for N s`, `unknown`, `stopped`, `no slot`, with the slot's state. */
export function describeDisk(st: ServerStatus, timing: Timing, now: number): string {
  const v = diskView(st, timing, now);
  switch (v.kind) {
    case "none":
      return st.disk ? "no slot" : "not read yet";
    case "alive":
      return `alive (${v.slot.state})`;
    case "stale":
      return `stale for ${Math.max(0, Math.round((now - v.since) / 1000))} s (${v.slot.state})`;
    case "stopped":
      return "stopped (agent stopped, device disarmed)";
    case "unknown":
      return `unknown (${v.slot.state})`;
  }
}

export function short(bootId: string): string {
  // Linux boot ids are UUIDs: the first 8 hex digits tell them apart in a log.
  return /^[0-9a-f]{8}-[0-9a-f-]{27}$/i.test(bootId) ? bootId.slice(0, 8) : bootId;
}

export { withMargin };
