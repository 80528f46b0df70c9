// Cluster check: o2cb's limits, master among the servers, IPv4 for ocfs2, and stable node numbers carried
// from the previous inputs (assignNodeNumbers).
import { expect } from "chai";
import { UNKNOWN } from "../../provider/schemas/common";
import { checkCluster, parseClusterInputs } from "../../provider/schemas/cluster";
import { assignNodeNumbers } from "../../provider/schemas/node-numbers";

const server = (name: string, address: string) => ({ name, address });
const cluster = (over: Record<string, unknown> = {}) => ({
  kind: "ocfs2",
  master: "ovs1",
  source: "/dev/sdb1",
  servers: [server("ovs1", "192.0.2.11"), server("ovs2", "192.0.2.12"), server("ovs3", "192.0.2.13")],
  ...over,
});

describe("schemas: Cluster", () => {
  it("fills o2cb's defaults and numbers the servers 0..n-1", () => {
    const r = checkCluster({}, cluster());
    expect(r.failures).to.deep.equal([]);
    const i = r.inputs as any;
    expect(i).to.include({ name: "ocfs2", description: "cluster root", port: 7777 });
    expect(i.o2cb).to.deep.equal({ heartbeatThreshold: 31, idleTimeoutMs: 30000, keepaliveDelayMs: 2000, reconnectDelayMs: 2000 });
    expect(i.nodeNumbers).to.deep.equal({ ovs1: 0, ovs2: 1, ovs3: 2 });
  });

  it("keeps remembered numbers when a server leaves and another joins", () => {
    const first = checkCluster({}, cluster()).inputs as any;
    const servers = [server("ovs4", "192.0.2.14"), server("ovs3", "192.0.2.13"), server("ovs1", "192.0.2.11")];
    const second = checkCluster(first, cluster({ servers })).inputs as any;
    expect(second.nodeNumbers).to.deep.equal({ ovs1: 0, ovs3: 2, ovs4: 1 });
  });

  it("lets given numbers win over remembered ones (adopting an existing cluster)", () => {
    const r = checkCluster({ nodeNumbers: { ovs1: 0, ovs2: 1, ovs3: 2 } }, cluster({ nodeNumbers: { ovs3: 0 } }));
    expect(r.failures).to.deep.equal([]);
    // ovs1 loses 0 to the pin and takes the lowest free number, which ovs3 gave up.
    expect((r.inputs as any).nodeNumbers).to.deep.equal({ ovs3: 0, ovs2: 1, ovs1: 2 });
  });

  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ["a cluster name of 17 characters", cluster({ name: "a".repeat(17) }), "name", /1\.\.16 characters of \[0-9A-Za-z\].*got "a{17}"/],
    ["a cluster name with '-'", cluster({ name: "my-cluster" }), "name", /got "my-cluster"/],
    ["an unknown kind", cluster({ kind: "gfs2" }), "kind", /nfs or ocfs2; got "gfs2"/],
    ["a master outside the servers", cluster({ master: "ovs9" }), "master", /one of the servers \(ovs1, ovs2, ovs3\); got "ovs9"/],
    ["IPv6 in an ocfs2 cluster", cluster({ servers: [server("ovs1", "2001:db8::1")] }), "servers[0].address", /IPv4.*o2net.*got "2001:db8::1"/],
    ["a source that is not a device", cluster({ source: "fileserver:/OVS" }), "source", /block device under \/dev\/.*got "fileserver:\/OVS"/],
    ["an nfs source that is a device", cluster({ kind: "nfs", source: "/dev/sdb1" }), "source", /host:\/path.*got "\/dev\/sdb1"/],
    ["a description with a quote", cluster({ description: 'x" ; rm -rf / "' }), "description", /\[A-Za-z0-9 \._-\]/],
    ["heartbeat threshold 6", cluster({ o2cb: { heartbeatThreshold: 6 } }), "o2cb.heartbeatThreshold", />= 7.*got 6/],
    ["idle timeout 4999", cluster({ o2cb: { idleTimeoutMs: 4999 } }), "o2cb.idleTimeoutMs", />= 5000.*got 4999/],
    ["keepalive 999", cluster({ o2cb: { keepaliveDelayMs: 999 } }), "o2cb.keepaliveDelayMs", />= 1000.*got 999/],
    ["reconnect 1999", cluster({ o2cb: { reconnectDelayMs: 1999 } }), "o2cb.reconnectDelayMs", />= 2000.*got 1999/],
    ["keepalive not below idle timeout", cluster({ o2cb: { idleTimeoutMs: 5000, keepaliveDelayMs: 5000 } }), "o2cb.keepaliveDelayMs", /less than idleTimeoutMs \(5000\); got 5000/],
    ["o2net port 0", cluster({ port: 0 }), "port", /1\.\.65535; got 0/],
    ["node number 255", cluster({ nodeNumbers: { ovs1: 255 } }), "nodeNumbers.ovs1", /0\.\.254; got 255/],
    ["a node number given twice", cluster({ nodeNumbers: { ovs1: 3, ovs2: 3 } }), "nodeNumbers.ovs2", /already given to ovs1/],
    ["a number for a stranger", cluster({ nodeNumbers: { ovs9: 3 } }), "nodeNumbers.ovs9", /one of the servers/],
    ["duplicate server address", cluster({ servers: [server("ovs1", "192.0.2.11"), server("ovs2", "192.0.2.11")] }), "servers[1].address", /unique/],
    ["256 servers", cluster({ servers: Array.from({ length: 256 }, (_, i) => server(`s${i}`, `10.0.${i >> 8}.${i & 255}`)) }), "servers", /at most 255 servers/],
  ];
  for (const [what, input, property, reason] of bad) {
    it(`refuses ${what}`, () => {
      const r = checkCluster({}, input);
      const f = r.failures.find((x) => x.property === property);
      expect(f, `failures were ${JSON.stringify(r.failures)}`).to.not.equal(undefined);
      expect(f!.reason).to.match(reason);
    });
  }

  it("accepts unknowns (preview) and makes the numbering unknown when names are", () => {
    const r1 = checkCluster({}, cluster({ servers: [server(UNKNOWN, UNKNOWN)], master: UNKNOWN, source: UNKNOWN, o2cb: { heartbeatThreshold: UNKNOWN } }));
    expect(r1.failures).to.deep.equal([]);
    expect((r1.inputs as any).nodeNumbers).to.equal(UNKNOWN);
    const r2 = checkCluster({}, cluster({ servers: UNKNOWN, name: UNKNOWN, port: UNKNOWN }));
    expect(r2.failures).to.deep.equal([]);
    expect((r2.inputs as any).nodeNumbers).to.equal(UNKNOWN);
    const r3 = checkCluster({ nodeNumbers: { ovs1: 5 } }, cluster({ servers: [server("ovs1", UNKNOWN)] }));
    expect(r3.failures).to.deep.equal([]);
    expect((r3.inputs as any).nodeNumbers).to.deep.equal({ ovs1: 5 });
  });

  it("parseClusterInputs gives a full, known numbering", () => {
    const p = parseClusterInputs(checkCluster({}, cluster()).inputs as Record<string, unknown>);
    expect(p.nodeNumbers).to.deep.equal({ ovs1: 0, ovs2: 1, ovs3: 2 });
    expect(() => parseClusterInputs(cluster({ master: UNKNOWN }))).to.throw(/master: is still unknown/);
  });
});

describe("assignNodeNumbers", () => {
  const table: [string, Record<string, number> | undefined, string[], Record<string, number>][] = [
    ["numbers new servers from 0", undefined, ["a", "b", "c"], { a: 0, b: 1, c: 2 }],
    ["keeps numbers when one leaves", { a: 0, b: 1, c: 2 }, ["a", "c"], { a: 0, c: 2 }],
    ["fills the lowest free number", { a: 0, c: 2 }, ["a", "c", "d", "e"], { a: 0, c: 2, d: 1, e: 3 }],
    ["keeps numbers whatever the order", { a: 0, b: 1 }, ["b", "x", "a"], { a: 0, b: 1, x: 2 }],
    ["ignores invalid remembered numbers", { a: 255, b: -1, c: 1.5 }, ["a", "b", "c"], { a: 0, b: 1, c: 2 }],
    ["first listed keeps a number claimed twice", { a: 4, b: 4 }, ["b", "a"], { b: 4, a: 0 }],
    ["releases numbers of departed servers", { gone: 0 }, ["new"], { new: 0 }],
  ];
  for (const [what, previous, servers, expected] of table) {
    it(what, () => expect(assignNodeNumbers(previous, servers)).to.deep.equal(expected));
  }
  it("accepts server objects and refuses 256 servers", () => {
    expect(assignNodeNumbers({}, [{ name: "a" }])).to.deep.equal({ a: 0 });
    expect(() => assignNodeNumbers({}, Array.from({ length: 256 }, (_, i) => `s${i}`))).to.throw(/at most 255/);
    const all = assignNodeNumbers({}, Array.from({ length: 255 }, (_, i) => `s${i}`));
    expect(Math.max(...Object.values(all))).to.equal(254);
  });
});
