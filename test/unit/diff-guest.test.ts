// Guest diff table. Where the guest runs is observed state: a failover never shows as a change.
import { expect } from "chai";
import { UNKNOWN } from "../../provider/schemas/common";
import { checkGuest } from "../../provider/schemas/guest";
import { diffGuest } from "../../provider/diff/guest";

const base = () =>
  checkGuest({}, {
    name: "vm1",
    pool: { name: "pool1", master: { name: "ovs1", address: "192.0.2.11" }, members: [{ name: "ovs2", address: "192.0.2.12" }] },
    memory: 1024,
    vcpus: 2,
    disk: { sizeMB: 10240 },
  }).inputs as Record<string, any>;

describe("diff: Guest", () => {
  it("where it runs (an output) never shows as a change", () => {
    expect(diffGuest("id", { ...base(), server: "ovs1", state: "running" }, base())).to.deep.equal({ changes: false, replaces: [], deleteBeforeReplace: false });
    expect(diffGuest("id", { ...base(), server: "ovs2" }, base()).changes).to.equal(false);
  });

  const table: [string, (n: Record<string, any>) => void, string[], boolean][] = [
    ["memory", (n) => (n.memory = 2048), [], false],
    ["vcpus", (n) => (n.vcpus = 4), [], false],
    ["network", (n) => (n.network.mac = "00:16:3E:00:00:01"), [], false],
    ["ha", (n) => (n.ha = true), [], false],
    ["preferred servers", (n) => (n.preferredServers = ["ovs2"]), [], false],
    ["priority", (n) => (n.priority = 90), [], false],
    ["on crash", (n) => (n.onCrash = "preserve"), [], false],
    ["pool addresses", (n) => (n.pool.master.address = "192.0.2.21"), [], false],
    ["disk grows", (n) => (n.disk.sizeMB = 20480), [], false],
    ["disk shrinks", (n) => (n.disk.sizeMB = 1024), ["disk"], true],
    ["disk becomes a path", (n) => (n.disk = { path: "/OVS/seed_pool/x/System.img" }), ["disk"], true],
    ["another pool", (n) => (n.pool.name = "pool2"), ["pool"], false],
    ["another name", (n) => (n.name = "vm2"), ["name"], false],
  ];
  for (const [what, change, replaces, deleteFirst] of table) {
    it(`${what}: ${replaces.length ? "replace" : "update"}${deleteFirst ? ", delete first" : ""}`, () => {
      const news = base();
      change(news);
      const d = diffGuest("id", base(), news);
      expect(d).to.deep.equal({ changes: true, replaces, deleteBeforeReplace: deleteFirst });
    });
  }

  it("a renamed guest sharing an explicit image is deleted first", () => {
    const olds = { ...base(), disk: { path: "/OVS/images/a.img" } };
    const d = diffGuest("id", olds, { ...olds, name: "vm2" });
    expect(d).to.deep.equal({ changes: true, replaces: ["name"], deleteBeforeReplace: true });
  });

  it("unknowns: replace in name/disk, update in memory, delete first when the identity may be the same", () => {
    expect(diffGuest("id", base(), { ...base(), name: UNKNOWN })).to.deep.equal({ changes: true, replaces: ["name"], deleteBeforeReplace: true });
    expect(diffGuest("id", base(), { ...base(), disk: UNKNOWN }).replaces).to.deep.equal(["disk"]);
    expect(diffGuest("id", base(), { ...base(), memory: UNKNOWN })).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
    expect(diffGuest("id", base(), { ...base(), pool: UNKNOWN })).to.deep.equal({ changes: true, replaces: ["pool"], deleteBeforeReplace: true });
  });

  it("a pool known by name and the same is an update even with other parts unknown (preview); an unknown name replaces", () => {
    const n = base();
    n.pool = { ...n.pool, ha: true, clusterRoot: UNKNOWN };
    expect(diffGuest("id", base(), n)).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
    const u = base();
    u.pool = { ...u.pool, name: UNKNOWN };
    expect(diffGuest("id", base(), u).replaces).to.deep.equal(["pool"]);
    const w = base();
    w.pool = UNKNOWN;
    expect(diffGuest("id", base(), w).replaces).to.deep.equal(["pool"]);
  });

  it("vm.cfg or the HA record found missing or changed by read is an update that rewrites them", () => {
    for (const flag of [{ vmCfgMissing: true }, { vmCfgInSync: false }, { haRecordMissing: true }, { haRecordInSync: false }]) {
      expect(diffGuest("id", { ...base(), ...flag }, base()), JSON.stringify(flag)).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
    }
    expect(diffGuest("id", { ...base(), vmCfgInSync: true, haRecordInSync: true }, base()).changes).to.equal(false);
  });
});
