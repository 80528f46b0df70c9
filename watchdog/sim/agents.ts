// The simulated `ovm-ha agent` on each server, and its watchdog device, on the world's virtual clock. The agent
// writes its slot every interval (the first write of a boot says `starting`, then `ready`), reads its poison pill,
// and feeds the device only while it renews within its lease and holds no pill. A pill, or a lease lost (its storage
// gone), makes it destroy its guests, write `self-fencing` if it can, and stop feeding. The device runs outside the
// server's OS, as a watchdog chip does: a hung dom0 or a hung machine stops the agent, not the device, which resets
// the server (every process ends, guests included) when not fed in time; the server then boots again, new boot id.
import { pillAppliesTo, type Pill } from "../../ha/disk-heartbeat";
import type { AgentTiming } from "../../ha/disk-heartbeat";
import type { SlotReading } from "../core/types";

export interface SimAgent {
  bootId: string;
  seq: number;
  /** The agent process runs (false after it self-fenced, until the next boot). */
  running: boolean;
  /** Device armed (a clean stop disarms it). */
  armed: boolean;
  /** Last successful slot write, and last feed of the device (virtual clock). */
  renewedAt: number;
  fedAt: number;
  nextAt: number;
  /** Writes so far in this boot (the first says `starting`). */
  writes: number;
}

/** What the agents need from the world (kept narrow so the world stays the one owner of servers and processes). */
export interface AgentHost {
  t: number;
  timing(): AgentTiming;
  slots: Map<string, SlotReading>;
  pills: Map<string, Pick<Pill, "bootId" | "writer">>;
  /** Destroys the server's guests (the agent's `xm destroy` of each). */
  destroyGuests(server: string, why: string): void;
  /** The device fired: power off now, boot again later. */
  reset(server: string, why: string): void;
  note(reason: string): void;
  /** A new boot number (per world, so a schedule replays exactly). */
  nextBoot(): number;
}

export interface AgentServer {
  name: string;
  power: boolean;
  hung: boolean;
  /** Writes to (and reads from) the shared storage fail. */
  storageLost: boolean;
  /** Cut off from everything, storage included (its iSCSI or NFS path too). */
  partitioned: boolean;
  agent?: SimAgent;
}

export function newAgent(name: string, boot: number, t: number, offsetMs: number): SimAgent {
  return { bootId: `${name}-boot-${boot}`, seq: 0, running: true, armed: true, renewedAt: t, fedAt: t, nextAt: t + offsetMs, writes: 0 };
}

function storageOk(s: AgentServer): boolean {
  return !s.storageLost && !s.partitioned;
}

/** One instant for one server's agent and device. */
export function agentTick(host: AgentHost, s: AgentServer): void {
  const a = s.agent;
  if (!a || !s.power) return;
  const timing = host.timing();
  const t = host.t;
  if (a.running && !s.hung && t >= a.nextAt) {
    a.nextAt = t + timing.intervalMs;
    const pill = storageOk(s) ? host.pills.get(s.name) : undefined;
    if (pill && pillAppliesTo({ ...pill, server: s.name, schemaVersion: 1, reason: "", writtenAt: 0 }, s.name, a.bootId)) {
      selfFence(host, s, a, `poison pill from ${pill.writer}`);
    } else if (storageOk(s)) {
      a.writes++;
      a.seq++;
      a.renewedAt = t;
      host.slots.set(s.name, { bootId: a.bootId, seq: a.seq, state: a.writes === 1 ? "starting" : "ready" });
    }
    if (a.running && t - a.renewedAt > timing.leaseMs) selfFence(host, s, a, `lease lost (no slot write for ${t - a.renewedAt} ms)`);
    if (a.running) a.fedAt = t;
  }
  if (a.armed && t - a.fedAt >= timing.deviceTimeoutMs) host.reset(s.name, `watchdog device not fed for ${t - a.fedAt} ms`);
}

function selfFence(host: AgentHost, s: AgentServer, a: SimAgent, why: string): void {
  host.destroyGuests(s.name, `agent self-fencing: ${why}`);
  if (storageOk(s)) {
    a.seq++;
    host.slots.set(s.name, { bootId: a.bootId, seq: a.seq, state: "self-fencing" });
  }
  a.running = false;
  host.note(`${s.name}: agent self-fencing (${why}); device no longer fed`);
}

/** A clean stop: the last write says `stopped` and the device is disarmed (magic close). */
export function stopAgent(host: AgentHost, s: AgentServer): void {
  const a = s.agent;
  if (!a || !a.running) return;
  if (storageOk(s)) {
    a.seq++;
    host.slots.set(s.name, { bootId: a.bootId, seq: a.seq, state: "stopped" });
  }
  a.running = false;
  a.armed = false;
}

/** At boot: a new boot id; a pill aimed at an earlier boot already took effect, so it is removed. */
export function bootAgent(host: AgentHost, s: AgentServer, offsetMs: number): void {
  s.agent = newAgent(s.name, host.nextBoot(), host.t, offsetMs);
  const pill = host.pills.get(s.name);
  if (pill && pill.bootId !== null && pill.bootId !== s.agent.bootId) host.pills.delete(s.name);
}
