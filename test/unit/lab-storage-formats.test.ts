// Pure parts of the lab's storage stand-ins: the text they write and parse.
import { expect } from "chai";
import { clusterConfProblems, parseClusterConf, renderClusterConf } from "../../lab/storage/cluster-conf";
import { formatTarget, parsePortal } from "../../lab/storage/iscsi-state";
import { formatMountListing, hasOption, parseMountTable } from "../../lab/storage/mtab";
import { parseSysconfig, renderSysconfig, O2CB_DEFAULTS } from "../../lab/storage/o2cb-state";
import { nfsRepositoryUuid, parseRepositories, parseRepositoryOptions } from "../../lab/storage/repositories";
import { parseIscsiArgs } from "../../lab/standins/iscsiadm";
import { parseMountArgs } from "../../lab/standins/mount";

describe("lab storage stand-ins: formats", () => {
  const nodes = [
    { name: "ovs1", number: 0, ipAddress: "192.0.2.11", ipPort: 7777, cluster: "ocfs2" },
    { name: "ovs2", number: 1, ipAddress: "192.0.2.12", ipPort: 7777, cluster: "ocfs2" },
  ];

  it("renders cluster.conf with column-0 stanzas and TAB-indented keys, and reads it back", () => {
    const text = renderClusterConf("ocfs2", nodes.slice(0, 1));
    expect(text).to.equal(
      "node:\n\tip_port = 7777\n\tip_address = 192.0.2.11\n\tnumber = 0\n\tname = ovs1\n\tcluster = ocfs2\n\n" +
        "cluster:\n\tnode_count = 1\n\tname = ocfs2\n",
    );
    const conf = parseClusterConf(renderClusterConf("ocfs2", nodes));
    expect(conf.nodes).to.deep.equal(nodes);
    expect(conf.clusters).to.deep.equal([{ name: "ocfs2", nodeCount: 2, heartbeatMode: undefined }]);
  });

  it("finds cluster.conf problems: missing node, wrong node_count, duplicate numbers", () => {
    const conf = parseClusterConf(renderClusterConf("ocfs2", nodes));
    expect(clusterConfProblems(conf, "ocfs2", "ovs1")).to.deep.equal([]);
    expect(clusterConfProblems(conf, "ocfs2", "ovs9")).to.deep.equal(["node ovs9 is not in cluster ocfs2"]);
    expect(clusterConfProblems(conf, "other", "ovs1")[0]).to.contain("not defined");
    const bad = parseClusterConf(renderClusterConf("ocfs2", nodes).replace("node_count = 2", "node_count = 3").replace("number = 1", "number = 0"));
    const problems = clusterConfProblems(bad, "ocfs2", "ovs1");
    expect(problems).to.include("cluster ocfs2 has node_count = 3 but 2 node stanzas");
    expect(problems).to.include("node number 0 is used twice");
  });

  it("reads /etc/sysconfig/o2cb (quoted or not) and writes what it reads", () => {
    const c = parseSysconfig('O2CB_ENABLED=true\nO2CB_BOOTCLUSTER="pool1"\nO2CB_HEARTBEAT_THRESHOLD=61\n');
    expect(c.enabled).to.equal(true);
    expect(c.bootCluster).to.equal("pool1");
    expect(c.heartbeatThreshold).to.equal(61);
    expect(c.idleTimeoutMs).to.equal(30000);
    expect(parseSysconfig(undefined)).to.deep.equal(O2CB_DEFAULTS);
    const round = { ...O2CB_DEFAULTS, enabled: true, bootCluster: "c1", reconnectDelayMs: 4000 };
    expect(parseSysconfig(renderSysconfig(round))).to.deep.equal(round);
  });

  it("parses iscsiadm portals and arguments the way the seed writes them", () => {
    expect(parsePortal("10.2.0.250:3260,3")).to.deep.equal({ address: "10.2.0.250", port: 3260, tpgt: 3 });
    expect(parsePortal("10.1.1.1")).to.deep.equal({ address: "10.1.1.1", port: undefined, tpgt: undefined });
    expect(parsePortal("[fe80::1]:3260,1")).to.deep.equal({ address: "fe80::1", port: 3260, tpgt: 1 });
    expect(formatTarget({ iqn: "iqn.x:a", address: "fe80::1", port: 3260, tpgt: 1 })).to.equal("[fe80::1]:3260,1 iqn.x:a");
    expect(parseIscsiArgs(["-m", "node", "-p", "10.2.0.250:3260,3", "-T", "iqn.x", "-o", "delete"])).to.deep.equal({
      mode: "node", portal: "10.2.0.250:3260,3", targetname: "iqn.x", op: "delete",
    });
    expect(parseIscsiArgs(["--mode=session", "-u"])).to.deep.equal({ mode: "session", logout: true });
    expect(parseIscsiArgs(["-m", "node", "--bogus"])).to.equal("unrecognized option '--bogus'");
  });

  it("parses mtab/fstab lines and lists them like mount(8)", () => {
    const [e] = parseMountTable("# c\n\n/dev/sdb1 /OVS ocfs2 _netdev,datavolume,nointr 0 0\n");
    expect(formatMountListing(e)).to.equal("/dev/sdb1 on /OVS type ocfs2 (_netdev,datavolume,nointr)");
    expect(hasOption(e.options, "_netdev")).to.equal(true);
    expect(hasOption(e.options, "_net")).to.equal(false);
    expect(parseMountArgs(["-a", "-O", "_netdev"])).to.include({ all: true });
    expect(parseMountArgs(["--bind", "/a", "/b"]).passthrough).to.equal(true);
    expect(parseMountArgs(["-t", "ocfs2", "/dev/sdb1", "/OVS"]).positional).to.deep.equal(["/dev/sdb1", "/OVS"]);
  });

  it("reads the lab's repositories files and gives NFS sources a stable UUID", () => {
    expect(parseRepositories("# h\nABCDEF0123 /dev/sdb1\n")).to.deep.equal([{ uuid: "ABCDEF0123", source: "/dev/sdb1" }]);
    expect(parseRepositoryOptions('ABC ocfs2 _netdev C "cluster root"\n')).to.deep.equal([
      { uuid: "ABC", type: "ocfs2", options: "_netdev", role: "C", description: "cluster root" },
    ]);
    const u = nfsRepositoryUuid("example.com:/OVS");
    expect(u).to.match(/^[0-9A-F]{32}$/);
    expect(nfsRepositoryUuid("example.com:/OVS")).to.equal(u);
    expect(nfsRepositoryUuid("example.com:/OVS2")).to.not.equal(u);
  });
});
