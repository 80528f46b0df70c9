// What the provider reads back from the ovs-* scripts: ovs-makerepo's result line, /etc/ovs/repositories, and
// ovs-cluster-check's ERROR lines; and the per-server files a Cluster renders.
import { expect } from "chai";
import { clusterCheckProblems, parseMakerepoOutput, parseRepositoriesFile, repositoryMountPoint } from "../../provider/ops/cluster/repository-output";
import { nodeFiles } from "../../provider/ops/cluster";
import { parseClusterInputs } from "../../provider/schemas/cluster";
import { parseClusterConf } from "../../provider/parsers";

const UUID = "5E7A0C1F9B2D4E6F8A0B1C2D3E4F5A6B";

describe("ops: Cluster repository output", () => {
  it("reads ovs-makerepo's line for an NFS export and an OCFS2 device", () => {
    expect(parseMakerepoOutput(`Repository ${UUID} (example.com:/OVS) mounted at /OVS/${UUID}\n`)).to.deep.equal({ uuid: UUID, source: "example.com:/OVS", mountPoint: `/OVS/${UUID}` });
    expect(parseMakerepoOutput(`noise\nRepository ${UUID.toLowerCase()} (/dev/sdb1) mounted at /OVS/${UUID}\n`)!.uuid).to.equal(UUID);
    expect(parseMakerepoOutput("ovs-makerepo: /dev/sdb1: no file system found\n")).to.equal(undefined);
  });
  it("reads /etc/ovs/repositories, skipping comments", () => {
    const text = `# Oracle VM Server repositories (UUID SOURCE)\n${UUID} example.com:/OVS\n\nnot-a-uuid junk\n`;
    expect(parseRepositoriesFile(text)).to.deep.equal([{ uuid: UUID, source: "example.com:/OVS" }]);
    expect(repositoryMountPoint(UUID)).to.equal(`/OVS/${UUID}`);
  });
  it("collects ovs-cluster-check's ERROR lines", () => {
    const out = "ERROR: O2CB cluster ocfs2 is not online\nERROR: /OVS/running_pool is missing\n";
    expect(clusterCheckProblems(out)).to.deep.equal(["O2CB cluster ocfs2 is not online", "/OVS/running_pool is missing"]);
  });
});

describe("ops: Cluster node files", () => {
  it("every server gets the same cluster.conf listing all servers with their stable numbers", () => {
    const inputs = parseClusterInputs({
      kind: "nfs",
      master: "ovs1",
      source: "example.com:/OVS",
      servers: [{ name: "ovs3", address: "192.0.2.13" }, { name: "ovs1", address: "192.0.2.11" }],
      nodeNumbers: { ovs3: 2, ovs1: 0 },
    });
    const files = nodeFiles(inputs);
    const conf = parseClusterConf(files.clusterConf);
    expect(conf.nodes.map((n) => [n.name, n.number, n.ipAddress])).to.deep.equal([["ovs1", 0, "192.0.2.11"], ["ovs3", 2, "192.0.2.13"]]);
    expect(files.o2cbSysconfig).to.contain("O2CB_BOOTCLUSTER=ocfs2");
  });
});
