// cluster.conf and /etc/sysconfig/o2cb against golden files; every rendered cluster.conf is also read by the
// real o2cb parser (`o2cb --config-file=FILE list-cluster NAME`), which must list exactly the expected nodes.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkCluster, parseClusterInputs } from "../../provider/schemas/cluster";
import { clusterConfModel, ClusterConfModel, renderClusterConf } from "../../provider/render/cluster-conf";
import { o2cbSysconfigModel, renderO2cbSysconfig } from "../../provider/render/o2cb-sysconfig";
import { packageRoot } from "../../provider/render/template";

const golden = (name: string) => fs.readFileSync(path.join(packageRoot(), "test/fixtures/golden", name), "utf8");

function findO2cb(): string {
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin"])) {
    const p = path.join(dir, "o2cb");
    if (fs.existsSync(p)) return p;
  }
  throw new Error("o2cb not found (install ocfs2-tools): rendered cluster.conf files cannot be checked with the real parser");
}

/** Parses o2cb's list-cluster output (the same stanza format) into node stanzas and the cluster stanza. */
function parseListing(text: string): { nodes: Record<string, string>[]; cluster?: Record<string, string> } {
  const nodes: Record<string, string>[] = [];
  let cluster: Record<string, string> | undefined;
  let cur: Record<string, string> | undefined;
  for (const line of text.split("\n")) {
    if (line === "node:") nodes.push((cur = {}));
    else if (line === "cluster:") cluster = cur = {};
    else if (/^\s+\S+ = /.test(line) && cur) {
      const [k, v] = line.trim().split(" = ");
      cur[k] = v;
    }
  }
  return { nodes, cluster };
}

/** Runs the real parser on the text and checks it sees exactly the model's nodes and count. */
function validateWithO2cb(text: string, model: ClusterConfModel): void {
  const o2cb = findO2cb();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-cluster-conf-"));
  try {
    const file = path.join(dir, "cluster.conf");
    fs.writeFileSync(file, text);
    const r = spawnSync(o2cb, [`--config-file=${file}`, "list-cluster", model.clusterName], { encoding: "utf8" });
    // o2cb exits 0 even for an unknown cluster: its complaints go to stderr.
    expect(r.status, `o2cb exit code; stderr: ${r.stderr}`).to.equal(0);
    expect(r.stderr, "o2cb stderr").to.equal("");
    const listing = parseListing(r.stdout);
    expect(listing.cluster, `o2cb listed no cluster stanza:\n${r.stdout}`).to.not.equal(undefined);
    expect(listing.cluster!.name).to.equal(model.clusterName);
    // o2cb does not check node_count itself: compare it with the node stanzas it read.
    expect(Number(listing.cluster!.node_count)).to.equal(listing.nodes.length);
    const seen = listing.nodes.map((n) => ({ name: n.name, address: n.ip_address, number: Number(n.number), port: Number(n.ip_port), cluster: n.cluster }));
    const expected = model.nodes.map((n) => ({ ...n, cluster: model.clusterName }));
    expect(seen).to.have.deep.members(expected);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const servers = [
  { name: "ovs1", address: "192.0.2.11" },
  { name: "ovs2", address: "192.0.2.12" },
  { name: "ovs3", address: "192.0.2.13" },
];

describe("render: cluster.conf and o2cb sysconfig", () => {
  it("renders the three-node cluster exactly as the golden file and o2cb reads it", () => {
    const inputs = parseClusterInputs(checkCluster({}, { kind: "ocfs2", master: "ovs1", source: "/dev/sdb1", servers }).inputs as Record<string, unknown>);
    const model = clusterConfModel(inputs);
    const text = renderClusterConf(model);
    expect(text).to.equal(golden("cluster.conf.three-nodes"));
    expect(text).to.match(/^node:\n\tip_port = 7777\n/);
    validateWithO2cb(text, model);
  });

  it("keeps numbers and orders stanzas by number after a server leaves and another joins", () => {
    const first = checkCluster({}, { kind: "ocfs2", master: "ovs1", source: "/dev/sdb1", servers }).inputs as Record<string, unknown>;
    const later = checkCluster(first, {
      name: "pool1",
      kind: "ocfs2",
      master: "ovs3",
      source: "/dev/sdb1",
      port: 7778,
      servers: [servers[2], { name: "ovs4", address: "192.0.2.14" }],
    }).inputs as Record<string, unknown>;
    const model = clusterConfModel(parseClusterInputs(later));
    const text = renderClusterConf(model);
    expect(text).to.equal(golden("cluster.conf.rejoin"));
    validateWithO2cb(text, model);
  });

  it("renders a single node and the largest node number; o2cb reads both", () => {
    for (const model of [
      { clusterName: "c1", nodes: [{ name: "solo", address: "10.0.0.1", number: 0, port: 7777 }] },
      { clusterName: "C0123456789abcde", nodes: [{ name: "a", address: "10.0.0.1", number: 254, port: 1 }, { name: "b-2", address: "10.0.0.2", number: 3, port: 65535 }] },
    ]) {
      validateWithO2cb(renderClusterConf(model), model);
    }
  });

  const refused: [string, ClusterConfModel, RegExp][] = [
    ["a name that would start a stanza", { clusterName: "ocfs2", nodes: [{ name: "x:\nnode", address: "10.0.0.1", number: 0, port: 7777 }] }, /node name/],
    ["an IPv6 address", { clusterName: "ocfs2", nodes: [{ name: "a", address: "::1", number: 0, port: 7777 }] }, /not IPv4/],
    ["a duplicate number", { clusterName: "ocfs2", nodes: [{ name: "a", address: "10.0.0.1", number: 0, port: 7777 }, { name: "b", address: "10.0.0.2", number: 0, port: 7777 }] }, /number 0 appears twice/],
    ["number 255", { clusterName: "ocfs2", nodes: [{ name: "a", address: "10.0.0.1", number: 255, port: 7777 }] }, /0\.\.254/],
    ["a long cluster name", { clusterName: "a".repeat(17), nodes: [{ name: "a", address: "10.0.0.1", number: 0, port: 7777 }] }, /cluster name/],
    ["no nodes", { clusterName: "ocfs2", nodes: [] }, /at least one node/],
  ];
  for (const [what, model, message] of refused) {
    it(`refuses ${what}`, () => expect(() => renderClusterConf(model)).to.throw(message));
  }

  it("renders /etc/sysconfig/o2cb with the o2cb keys (defaults and custom timing)", () => {
    const inputs = parseClusterInputs(
      checkCluster({}, { name: "pool1", kind: "ocfs2", master: "ovs1", source: "/dev/sdb1", servers, o2cb: { heartbeatThreshold: 61, idleTimeoutMs: 60000 } })
        .inputs as Record<string, unknown>,
    );
    const text = renderO2cbSysconfig(o2cbSysconfigModel(inputs));
    expect(text).to.equal(golden("o2cb.sysconfig.custom"));
    const keys = Object.fromEntries(text.split("\n").filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => l.split("=")));
    expect(keys).to.deep.equal({
      O2CB_ENABLED: "true",
      O2CB_STACK: "o2cb",
      O2CB_BOOTCLUSTER: "pool1",
      O2CB_HEARTBEAT_THRESHOLD: "61",
      O2CB_IDLE_TIMEOUT_MS: "60000",
      O2CB_KEEPALIVE_DELAY_MS: "2000",
      O2CB_RECONNECT_DELAY_MS: "2000",
    });
  });

  it("sysconfig: a shell can source it and sees the values; hostile values are refused", () => {
    const text = renderO2cbSysconfig({ clusterName: "ocfs2", heartbeatThreshold: 31, idleTimeoutMs: 30000, keepaliveDelayMs: 2000, reconnectDelayMs: 2000 });
    const r = spawnSync("sh", ["-c", 'eval "$1"; echo "$O2CB_BOOTCLUSTER $O2CB_HEARTBEAT_THRESHOLD"', "sh", text], { encoding: "utf8" });
    expect(r.stdout.trim()).to.equal("ocfs2 31");
    expect(() => renderO2cbSysconfig({ clusterName: "x;reboot", heartbeatThreshold: 31, idleTimeoutMs: 30000, keepaliveDelayMs: 2000, reconnectDelayMs: 2000 })).to.throw(/cluster name/);
    expect(() => renderO2cbSysconfig({ clusterName: "ocfs2", heartbeatThreshold: 6, idleTimeoutMs: 30000, keepaliveDelayMs: 2000, reconnectDelayMs: 2000 })).to.throw(/>= 7/);
  });
});
