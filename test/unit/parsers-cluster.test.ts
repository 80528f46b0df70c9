import { expect } from "chai";
import { readFileSync } from "fs";
import { join } from "path";
import {
  ParseError, clusterConfProblems, formatClusterConf, parseClusterConf, parseO2cbClusterStatus, parseO2cbListCluster,
  parseO2cbServiceOutput, parseO2cbStatus,
} from "../../provider/parsers";

const sample = (name: string): string => readFileSync(join(__dirname, "../../../test/fixtures/samples", name), "utf8");

describe("parsers: service o2cb status", () => {
  it("reads the 1.4 online wording with timeouts and heartbeat", () => {
    const s = parseO2cbStatus(sample("o2cb-status-1.4-online.txt"));
    expect(s).to.deep.include({ cluster: "ocfs2", online: true, heartbeatDeadThreshold: 31, networkIdleTimeoutMs: 30000,
      networkKeepaliveDelayMs: 2000, networkReconnectDelayMs: 2000, heartbeatActive: true });
    expect(s.drivers).to.deep.equal({ configfs: true, ocfs2_dlmfs: true });
    expect(s.filesystems).to.deep.equal({ configfs: true, ocfs2_dlmfs: true });
  });

  it("reads the 1.4 offline wording", () => {
    const s = parseO2cbStatus(sample("o2cb-status-1.4-offline.txt"));
    expect(s.online).to.equal(false);
    expect(s.cluster).to.equal("ocfs2");
    expect(s.heartbeatActive).to.equal(undefined);
  });

  it("reads the newer quoted wording and ignores unknown lines", () => {
    const s = parseO2cbStatus(sample("o2cb-status-newer-online.txt"));
    expect(s).to.deep.include({ cluster: "ocfs2", online: true, heartbeatDeadThreshold: 31, heartbeatActive: false });
    expect(parseO2cbStatus('Checking O2CB cluster "pool1": Offline\n')).to.deep.include({ cluster: "pool1", online: false });
  });

  it("throws ParseError when the cluster line is missing or has an unknown state", () => {
    expect(() => parseO2cbStatus('Driver for "configfs": Not loaded\n')).to.throw(ParseError, /service o2cb status/);
    expect(() => parseO2cbStatus("Checking O2CB cluster ocfs2: Confused\n")).to.throw(ParseError, /Confused/);
  });

  it("reads o2cb cluster-status and rejects a contradicting exit code", () => {
    expect(parseO2cbClusterStatus("Cluster 'ocfs2' is online\n", 0)).to.deep.equal({ cluster: "ocfs2", online: true });
    expect(parseO2cbClusterStatus("Cluster 'ocfs2' is offline\n", 1)).to.deep.equal({ cluster: "ocfs2", online: false });
    expect(() => parseO2cbClusterStatus("Cluster 'ocfs2' is online\n", 1)).to.throw(ParseError);
    expect(() => parseO2cbClusterStatus("", 1)).to.throw(ParseError);
  });

  it("reads service o2cb online steps, already-online and failures", () => {
    const r = parseO2cbServiceOutput(sample("o2cb-online-1.4.txt"), 0);
    expect(r.ok).to.equal(true);
    expect(r.steps).to.have.length(5);
    expect(r.steps[4]).to.deep.equal({ step: "Starting O2CB cluster ocfs2", result: "OK" });
    expect(parseO2cbServiceOutput("Cluster ocfs2 already online\n", 0)).to.include({ ok: true, alreadyOnline: true });
    expect(parseO2cbServiceOutput("Starting O2CB cluster ocfs2: Failed\n", 1).ok).to.equal(false);
    expect(parseO2cbServiceOutput("Starting O2CB cluster ocfs2: Failed\n", 0).ok).to.equal(false);
  });
});

describe("parsers: cluster.conf", () => {
  const conf = [
    "# written by hand", "node:", "\tip_port = 7777", "\tip_address = 192.0.2.11", "\tnumber = 0", "\tname = ovs1", "\tcluster = ocfs2", "",
    "node:", "    name = ovs2", "    cluster = ocfs2", "    number = 1", "    ip_address = 192.0.2.12", "", // spaces, other order, no ip_port
    "node:", "\tip_address = 192.0.2.99", "\tnumber = 5", "\tname = stray", "\tcluster = other", "",
    "cluster:", "\tnode_count = 2", "\tname = ocfs2", "",
  ].join("\n");

  it("reads cluster and nodes, defaults ip_port and sets aside other clusters' nodes", () => {
    const c = parseClusterConf(conf);
    expect(c.cluster).to.deep.equal({ name: "ocfs2", nodeCount: 2, heartbeatMode: "local" });
    expect(c.nodes).to.deep.equal([
      { name: "ovs1", number: 0, ipAddress: "192.0.2.11", ipPort: 7777, cluster: "ocfs2" },
      { name: "ovs2", number: 1, ipAddress: "192.0.2.12", ipPort: 7777, cluster: "ocfs2" },
    ]);
    expect(c.otherNodes.map((n) => n.name)).to.deep.equal(["stray"]);
    expect(clusterConfProblems(c)).to.deep.equal([]);
  });

  it("reads the genuine o2cb list-cluster output", () => {
    const c = parseO2cbListCluster(sample("o2cb-list-cluster-1.8.txt"), "ocfs2");
    expect(c.cluster).to.deep.equal({ name: "ocfs2", nodeCount: 2, heartbeatMode: "local" });
    expect(c.nodes.map((n) => [n.name, n.number, n.ipAddress])).to.deep.equal([["ovs1", 0, "192.0.2.11"], ["ovs2", 1, "192.0.2.12"]]);
  });

  it("round-trips through formatClusterConf", () => {
    const c = parseClusterConf(conf);
    const again = parseClusterConf(formatClusterConf(c));
    expect(again.cluster).to.deep.equal(c.cluster);
    expect(again.nodes).to.deep.equal(c.nodes);
    expect(formatClusterConf(c)).to.match(/^node:\n\tip_port = 7777\n/);
    expect(() => formatClusterConf({ ...c, cluster: { ...c.cluster, name: "a\n\tnode_count = 9" } })).to.throw(RangeError);
  });

  it("reports rule violations", () => {
    const c = parseClusterConf(conf.replace("node_count = 2", "node_count = 3").replace("number = 1", "number = 0"));
    const problems = clusterConfProblems(c);
    expect(problems.some((p) => /node_count is 3/.test(p))).to.equal(true);
    expect(problems.some((p) => /number 0 is used twice/.test(p))).to.equal(true);
    const bad = parseClusterConf("cluster:\n\tnode_count = 0\n\tname = way-too-long-name-x\n");
    expect(clusterConfProblems(bad)[0]).to.match(/1-16 characters/);
  });

  it("throws ParseError on syntax errors and missing keys", () => {
    expect(() => parseClusterConf("\tname = x\n")).to.throw(ParseError, /before any stanza/);
    expect(() => parseClusterConf("cluster:\n\tnode_count 2\n")).to.throw(ParseError, /node_count 2/);
    expect(() => parseClusterConf("cluster:\n\tname = a\n")).to.throw(ParseError, /node_count/);
    expect(() => parseClusterConf(conf + "\nnode:\n\tname = n\n")).to.throw(ParseError, /lacks number/);
    expect(() => parseClusterConf("cluster:\n\tname = a\n\tnode_count = 0\n\theartbeat_mode = both\n")).to.throw(ParseError, /heartbeat_mode/);
  });
});
