// Guest placement (seed 9.1 Preferred Server): the first preferred server up with room, or with auto the one
// with the most free memory (ties: pool order); the failure names every server's free memory.
import { expect } from "chai";
import { placeGuest } from "../../ha/placement";
import { generatedMac, renderGuestRecord } from "../../provider/ops/guest/guest-files";
import { parseGuestInputs } from "../../provider/schemas/guest";
import { GuestRecordSchema } from "../../ha/ha-record";

const up = [
  { name: "a", freeMemoryMb: 1000 },
  { name: "b", freeMemoryMb: 3000 },
  { name: "c", freeMemoryMb: 3000 },
];

describe("ops: guest placement", () => {
  it("auto picks the most free memory, ties by pool order", () => {
    expect(placeGuest(512, "auto", up)).to.deep.equal({ ok: true, server: "b" });
  });
  it("a list picks the first listed server with room, skipping full and unreachable ones", () => {
    expect(placeGuest(2000, ["a", "c", "b"], up)).to.deep.equal({ ok: true, server: "c" });
    expect(placeGuest(512, ["x", "a"], up, ["a", "b", "c", "x"])).to.deep.equal({ ok: true, server: "a" });
  });
  it("a list is strict: no fall back to other servers", () => {
    const r = placeGuest(2000, ["a"], up);
    expect(r).to.deep.equal({ ok: false, reason: "2000 MB fits on none of the preferred servers (a has 1000 MB free)" });
  });
  it("fits nowhere: every server named, unreachable ones too", () => {
    const r = placeGuest(4000, "auto", up, ["a", "b", "c", "d"]);
    expect(r).to.deep.equal({ ok: false, reason: "4000 MB fits on no server of the pool (a has 1000 MB free, b has 3000 MB free, c has 3000 MB free, d is not reachable)" });
  });
});

describe("ops: guest files", () => {
  const g = parseGuestInputs({ name: "db1", pool: { name: "p", master: { name: "ovs1", address: "192.0.2.1" } }, memory: 512, vcpus: 2, disk: { sizeMB: 10 }, ha: true, preferredServers: ["ovs1"], priority: 70 });
  it("the HA record validates against the watchdog's schema", () => {
    const rec = GuestRecordSchema.parse(JSON.parse(renderGuestRecord(g)));
    expect(rec).to.deep.equal({ schemaVersion: 1, name: "db1", ha: true, preferred: ["ovs1"], priority: 70, memoryMb: 512, vcpus: 2, vmCfgPath: "/OVS/running_pool/db1/vm.cfg" });
  });
  it("the generated MAC is stable, unicast, in Xen's OUI lower half", () => {
    const m = generatedMac("p", "db1");
    expect(m).to.equal(generatedMac("p", "db1"));
    expect(m).to.not.equal(generatedMac("p", "db2"));
    expect(m).to.match(/^00:16:3E:[0-7][0-9A-F]:[0-9A-F]{2}:[0-9A-F]{2}$/);
  });
});
