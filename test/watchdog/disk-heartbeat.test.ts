import { expect } from "chai";
import { DEFAULT_AGENT_TIMING, messageWaitMs, parsePill, parseSlot, pillAppliesTo, pillFile, renderPill, renderSlot, slotFile } from "../../ha/disk-heartbeat";
import { fenceLevels, PoolRecordSchema } from "../../ha/ha-record";

describe("disk heartbeat contract (ha/disk-heartbeat.ts)", () => {
  it("slots and pills live under the cluster root, one file per writer", () => {
    expect(slotFile("/OVS/", "ovs1")).to.equal("/OVS/.ovm-ha/slots/ovs1.json");
    expect(pillFile("/OVS", "ovs1")).to.equal("/OVS/.ovm-ha/slots/ovs1.pill");
  });
  it("message wait = (lease + device timeout) plus the clock-rate margin", () => {
    expect(messageWaitMs(DEFAULT_AGENT_TIMING)).to.equal(7700);
    expect(messageWaitMs({ intervalMs: 1000, leaseMs: 2000, deviceTimeoutMs: 1000 })).to.equal(3300);
  });
  it("a pill applies to its server's current boot, or to any boot when aimed at none; not to an earlier boot", () => {
    const pill = { schemaVersion: 1 as const, server: "ovs1", bootId: "b1", writer: "watchdog", reason: "failed", writtenAt: 1 };
    expect(pillAppliesTo(pill, "ovs1", "b1")).to.equal(true);
    expect(pillAppliesTo(pill, "ovs1", "b2")).to.equal(false);
    expect(pillAppliesTo(pill, "ovs2", "b1")).to.equal(false);
    expect(pillAppliesTo({ ...pill, bootId: null }, "ovs1", "b9")).to.equal(true);
  });
  it("render and parse round-trip; a torn or foreign file is an error naming what is wrong", () => {
    const slot = { schemaVersion: 1 as const, server: "ovs1", bootId: "b1", seq: 7, writtenAt: 5, state: "ready" as const };
    expect(parseSlot(renderSlot(slot))).to.deep.equal({ ok: true, value: slot });
    const torn = parseSlot('{"schemaVersion":1,"ser');
    expect(torn.ok).to.equal(false);
    expect(!torn.ok && torn.error).to.match(/^slot is not JSON/);
    const bad = parsePill(renderPill({ schemaVersion: 1, server: "ovs1", bootId: null, writer: "w", reason: "r", writtenAt: 1 }).replace('"ovs1"', "3"));
    expect(!bad.ok && bad.error).to.match(/server/);
  });
  it("fence levels: power then storage, storage alone, none", () => {
    const pool = PoolRecordSchema.parse({
      schemaVersion: 1, name: "p", haEnabled: true, generation: 0,
      servers: [
        { name: "a", address: "x", role: "master", fence: { method: "levels", levels: [{ method: "power" }, { method: "storage" }] } },
        { name: "b", address: "y", role: "member", fence: { method: "storage" } },
        { name: "c", address: "z", role: "member" },
      ],
    });
    expect(pool.servers.map((s) => fenceLevels(s.fence))).to.deep.equal([["power", "storage"], ["storage"], []]);
    expect(pool.timing.agent).to.deep.equal(DEFAULT_AGENT_TIMING);
  });
});
