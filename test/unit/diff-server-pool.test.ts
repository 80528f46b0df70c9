// ServerPool diff table.
import { expect } from "chai";
import { UNKNOWN } from "../../provider/schemas/common";
import { checkServerPool } from "../../provider/schemas/server-pool";
import { diffServerPool } from "../../provider/diff/server-pool";
import { memberRepositoryDrift } from "../../provider/ops/server-pool/repository-drift";

const base = () =>
  checkServerPool({}, { name: "pool1", master: { name: "ovs1", address: "192.0.2.11" }, members: [{ name: "ovs2", address: "192.0.2.12" }], cluster: "ocfs2" })
    .inputs as Record<string, any>;

describe("diff: ServerPool", () => {
  it("no change", () => expect(diffServerPool("id", base(), base()).changes).to.equal(false));
  const table: [string, (n: Record<string, any>) => void, "update" | "replace"][] = [
    ["name", (n) => (n.name = "pool2"), "replace"],
    ["cluster", (n) => (n.cluster = "other"), "replace"],
    ["master", (n) => (n.master = { name: "ovs3", address: "192.0.2.13", port: 22 }), "update"],
    ["members", (n) => (n.members = []), "update"],
    ["ha", (n) => (n.ha = true), "update"],
    ["timing", (n) => (n.timing = { ...n.timing, heartbeatIntervalMs: 500 }), "update"],
    ["fence", (n) => (n.fence = { ovs1: { method: "power" } }), "update"],
    ["clusterRoot", (n) => (n.clusterRoot = "/OVS/OTHER"), "replace"],
  ];
  for (const [what, change, kind] of table) {
    it(`${what}: ${kind}`, () => {
      const news = base();
      change(news);
      const d = diffServerPool("id", base(), news);
      expect(d.changes).to.equal(true);
      expect(d.replaces).to.deep.equal(kind === "replace" ? [what] : []);
      expect(d.deleteBeforeReplace).to.equal(kind === "replace");
    });
  }
  it("unknowns", () => {
    expect(diffServerPool("id", base(), { ...base(), cluster: UNKNOWN }).replaces).to.deep.equal(["cluster"]);
    expect(diffServerPool("id", base(), { ...base(), ha: UNKNOWN })).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("the HA record or a drain hook found changed by read is an update", () => {
    expect(diffServerPool("id", { ...base(), recordInSync: false }, base()).changes).to.equal(true);
    expect(diffServerPool("id", { ...base(), hookDrift: ["ovs2"] }, base()).changes).to.equal(true);
    expect(diffServerPool("id", { ...base(), recordInSync: true, hookDrift: [] }, base()).changes).to.equal(false);
  });

  it("a new clusterSource replaces (another cluster root); giving it for the first time only records it", () => {
    expect(diffServerPool("id", { ...base(), clusterSource: "nfs:/a" }, { ...base(), clusterSource: "nfs:/b" }).replaces).to.deep.equal(["clusterSource"]);
    expect(diffServerPool("id", { ...base(), clusterSource: "nfs:/a" }, { ...base(), clusterSource: UNKNOWN }).replaces).to.deep.equal(["clusterSource"]);
    expect(diffServerPool("id", base(), { ...base(), clusterSource: "nfs:/a" })).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("a member's repositories found unlike the master's by read is an update", () => {
    expect(diffServerPool("id", { ...base(), repositoryDrift: ["ovs2"] }, base())).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
    expect(diffServerPool("id", { ...base(), repositoryDrift: [] }, base()).changes).to.equal(false);
  });
});

describe("read: a member's repositories against the master's", () => {
  const ROOT = "0A1B2C3D4E5F60718293A4B5C6D7E8F9";
  const repos = `# header\n${ROOT} /dev/sdb1\n`;
  const opts = `# header\n${ROOT} ocfs2 _netdev,datavolume,nointr C "cluster root"\n`;
  const master = new Map([["/etc/ovs/repositories", repos], ["/etc/ovs/repositories.options", opts]]);
  const mounted = `/dev/sdb1 /OVS/${ROOT} ocfs2 rw,_netdev 0 0\n`;
  const member = (r: string | undefined, o: string | undefined) => new Map<string, string | undefined>([["/etc/ovs/repositories", r], ["/etc/ovs/repositories.options", o]]);
  it("in sync: the same files and every repository mounted", () => {
    expect(memberRepositoryDrift(master, member(repos, opts), mounted)).to.deep.equal([]);
  });
  it("a file deleted or edited, or a repository not mounted, is drift (each named)", () => {
    expect(memberRepositoryDrift(master, member(undefined, opts), mounted)).to.deep.equal(["/etc/ovs/repositories differs from the master's"]);
    expect(memberRepositoryDrift(master, member(repos, opts.replace("cluster root", "edited")), mounted)).to.deep.equal(["/etc/ovs/repositories.options differs from the master's"]);
    expect(memberRepositoryDrift(master, member(repos, opts), "")).to.deep.equal([`repository ${ROOT} (/dev/sdb1) is not mounted at /OVS/${ROOT}`]);
  });
});
