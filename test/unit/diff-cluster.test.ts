// Cluster diff table; node numbering changes for joiners are updates, renumbering a member replaces.
import { expect } from "chai";
import { UNKNOWN } from "../../provider/schemas/common";
import { checkCluster } from "../../provider/schemas/cluster";
import { diffCluster } from "../../provider/diff/cluster";

const servers = [
  { name: "ovs1", address: "192.0.2.11" },
  { name: "ovs2", address: "192.0.2.12" },
];
const base = () => checkCluster({}, { kind: "ocfs2", master: "ovs1", source: "/dev/sdb1", servers }).inputs as Record<string, any>;

describe("diff: Cluster", () => {
  it("no change", () => {
    expect(diffCluster("id", { ...base(), __provider: "x" }, base())).to.deep.equal({ changes: false, replaces: [], deleteBeforeReplace: false });
  });

  const table: [string, (n: Record<string, any>) => void, string[], string[]][] = [
    ["cluster name", (n) => (n.name = "other"), ["name"], []],
    ["kind", (n) => (n.kind = "nfs"), ["kind"], []],
    ["source", (n) => (n.source = "/dev/sdc1"), ["source"], []],
    ["master", (n) => (n.master = "ovs2"), [], ["master"]],
    ["description", (n) => (n.description = "root"), [], ["description"]],
    ["o2net port", (n) => (n.port = 7778), [], ["port"]],
    ["o2cb timing", (n) => (n.o2cb.heartbeatThreshold = 61), [], ["o2cb"]],
    ["renumbering a member", (n) => (n.nodeNumbers = { ovs1: 1, ovs2: 0 }), ["nodeNumbers"], []],
  ];
  for (const [what, change, replaces, _updates] of table) {
    it(`${what}: ${replaces.length ? "replace" : "update"}`, () => {
      const news = base();
      change(news);
      const d = diffCluster("id", base(), news);
      expect(d.changes).to.equal(true);
      expect(d.replaces).to.deep.equal(replaces);
      // Delete only forgets: the new Cluster is created first, so the pool and guests are not taken along.
      expect(d.deleteBeforeReplace).to.equal(false);
    });
  }

  it("a server joining (checked with the old numbers) is an update that keeps the numbers", () => {
    const olds = base();
    const news = checkCluster(olds, { kind: "ocfs2", master: "ovs2", source: "/dev/sdb1", servers: [servers[1], { name: "ovs3", address: "192.0.2.13" }] }).inputs as Record<string, any>;
    expect(news.nodeNumbers).to.deep.equal({ ovs2: 1, ovs3: 0 });
    expect(diffCluster("id", olds, news)).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("sourceDisk is never compared (a hint for preview only)", () => {
    expect(diffCluster("id", { ...base(), sourceDisk: "san:/dev/sdb@/OVS/remote" }, { ...base(), sourceDisk: "other" }).changes).to.equal(false);
    expect(diffCluster("id", base(), { ...base(), sourceDisk: UNKNOWN }).changes).to.equal(false);
  });

  it("unknowns: replace in name/source, update in servers and numbering", () => {
    expect(diffCluster("id", base(), { ...base(), source: UNKNOWN }).replaces).to.deep.equal(["source"]);
    const d = diffCluster("id", base(), { ...base(), servers: UNKNOWN, nodeNumbers: UNKNOWN });
    expect(d.changes).to.equal(true);
    // nodeNumbers' rule may replace, so an unknown numbering is answered conservatively.
    expect(d.replaces).to.deep.equal(["nodeNumbers"]);
  });
});
