// SharedDisk diff table: what re-creates the disk and what is applied in place.
import { expect } from "chai";
import { UNKNOWN } from "../../provider/schemas/common";
import { checkSharedDisk } from "../../provider/schemas/shared-disk";
import { diffSharedDisk } from "../../provider/diff/shared-disk";

const base = () =>
  checkSharedDisk({}, {
    kind: "iscsi",
    portal: { address: "10.1.1.1" },
    targets: ["iqn.1992-04.com.emc:cx.apm00070202838.a2"],
    servers: [{ name: "ovs1", address: "192.0.2.11" }],
  }).inputs as Record<string, unknown>;

describe("diff: SharedDisk", () => {
  it("no change, and state outputs or __provider do not count", () => {
    const olds = { ...base(), devicePath: "/dev/sdb1", uuid: "ABC", __provider: "old" };
    expect(diffSharedDisk("id", olds, { ...base(), __provider: "new" })).to.deep.equal({ changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it("state of an older release without defaulted fields compares equal", () => {
    const olds = base();
    delete olds.partition;
    delete (olds.format as Record<string, unknown>).label;
    expect(diffSharedDisk("id", olds, base()).changes).to.equal(false);
  });

  const table: [string, (n: Record<string, any>) => void, "update" | "replace"][] = [
    ["mount point", (n) => (n.mountPoint = "/OVS/other"), "update"],
    ["servers", (n) => n.servers.push({ name: "ovs2", address: "192.0.2.12", port: 22 }), "update"],
    ["portal", (n) => (n.portal.address = "10.1.1.2"), "replace"],
    ["targets", (n) => (n.targets = ["iqn.1992-04.com.emc:cx.apm00070202838.a3"]), "replace"],
    ["block size", (n) => (n.format.blockSize = 2048), "replace"],
    ["node slots", (n) => (n.format.nodeSlots = 32), "replace"],
    ["label", (n) => (n.format.label = "other"), "replace"],
    ["partition", (n) => (n.partition = false), "replace"],
    ["overwrite turned on", (n) => (n.overwrite = true), "replace"],
    // Checked by up against the disk: the recorded volume is kept, another one the disk does not hold is refused.
    ["adoptVolume", (n) => (n.adoptVolume = "D9C10F2575FA4B71B3BCC2037EB7D87E"), "update"],
    ["kind", (n) => (n.kind = "san"), "replace"],
  ];
  for (const [what, change, kind] of table) {
    it(`${what}: ${kind}`, () => {
      const news = base() as Record<string, any>;
      change(news);
      const d = diffSharedDisk("id", base(), news);
      expect(d.changes).to.equal(true);
      if (kind === "replace") {
        expect(d.replaces).to.have.length(1);
        expect(d.deleteBeforeReplace).to.equal(true);
      } else {
        expect(d.replaces).to.deep.equal([]);
        expect(d.deleteBeforeReplace).to.equal(false);
      }
    });
  }

  it("overwrite turned off is an update", () => {
    const olds = { ...base(), overwrite: true };
    expect(diffSharedDisk("id", olds, base())).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("unknowns: replace in a replace trigger, update elsewhere", () => {
    expect(diffSharedDisk("id", base(), { ...base(), targets: UNKNOWN }).replaces).to.deep.equal(["targets"]);
    expect(diffSharedDisk("id", base(), { ...base(), overwrite: UNKNOWN }).replaces).to.deep.equal(["overwrite"]);
    expect(diffSharedDisk("id", base(), { ...base(), kind: UNKNOWN }).replaces).to.deep.equal(["kind"]);
    const d = diffSharedDisk("id", base(), { ...base(), servers: [{ name: "ovs1", address: UNKNOWN, port: 22 }] });
    expect(d).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("nfs: the export replaces, a san device is not compared", () => {
    const nfs = (exp: string) => checkSharedDisk({}, { kind: "nfs", export: exp, servers: [{ name: "ovs1", address: "192.0.2.11" }] }).inputs as Record<string, unknown>;
    expect(diffSharedDisk("id", nfs("fs:/OVS"), nfs("fs:/OVS2")).replaces).to.deep.equal(["export"]);
    expect(diffSharedDisk("id", { ...nfs("fs:/OVS"), device: "x" }, nfs("fs:/OVS")).changes).to.equal(false);
  });
});
