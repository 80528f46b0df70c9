// What a dependent takes from a resource being updated must be known in preview (the engine knows only the
// checked inputs of a dynamic resource then): the ServerPool computes guestPool in check, and carries its
// cluster root across an in-place Cluster update. Also the harness's parallel deletes (dependents first).
import { expect } from "chai";
import { UNKNOWN } from "../../provider/schemas/common";
import { carriedClusterRoot, check } from "../../provider/ops/server-pool";
import { carriedSource, checkCluster } from "../../provider/schemas/cluster";
import { commonDevicePath } from "../../provider/ops/shared-disk/state";
import { deleteInParallel } from "../engine/dependency-order";

const pool = (over: Record<string, unknown> = {}) => ({
  name: "pool1",
  master: { name: "ovs1", address: "192.0.2.11" },
  members: [{ name: "ovs2", address: "192.0.2.12" }],
  cluster: "ocfs2",
  clusterRoot: "/OVS/0A1B",
  clusterSource: "nfs.example:/OVS",
  ha: true,
  ...over,
});

describe("preview: values a dependent takes are known from inputs", () => {
  it("carries the cluster root when the Cluster (same name, same source) is updated in place", () => {
    expect(carriedClusterRoot(pool(), pool({ clusterRoot: UNKNOWN }))).to.equal("/OVS/0A1B");
  });
  it("does not carry it to another source, an unknown source, another cluster, or without a source", () => {
    expect(carriedClusterRoot(pool(), pool({ clusterRoot: UNKNOWN, clusterSource: "other:/OVS" }))).to.equal(UNKNOWN);
    expect(carriedClusterRoot(pool(), pool({ clusterRoot: UNKNOWN, clusterSource: UNKNOWN }))).to.equal(UNKNOWN);
    expect(carriedClusterRoot(pool(), pool({ clusterRoot: UNKNOWN, cluster: "other" }))).to.equal(UNKNOWN);
    expect(carriedClusterRoot(pool({ clusterSource: undefined }), pool({ clusterRoot: UNKNOWN, clusterSource: undefined }))).to.equal(UNKNOWN);
    expect(carriedClusterRoot({}, pool({ clusterRoot: UNKNOWN }))).to.equal(UNKNOWN);
  });
  it("check computes guestPool from the inputs, known when they are", async () => {
    const r = await check(pool(), pool({ clusterRoot: UNKNOWN }));
    expect(r.failures).to.deep.equal([]);
    expect((r.inputs as Record<string, unknown>).guestPool).to.deep.equal({
      name: "pool1",
      master: { name: "ovs1", address: "192.0.2.11", port: 22 },
      members: [{ name: "ovs2", address: "192.0.2.12", port: 22 }],
      ha: true,
      clusterRoot: "/OVS/0A1B",
    });
  });
});

describe("preview: a Cluster's source from a SharedDisk updated in place", () => {
  const cluster = (over: Record<string, unknown> = {}) => ({
    kind: "ocfs2",
    master: "ovs1",
    servers: [{ name: "ovs1", address: "192.0.2.11" }],
    source: "/dev/sdb1",
    sourceDisk: "san:/dev/sdb@/OVS/remote",
    ...over,
  });
  it("carries the source when the disk (its id) and the master are the same", () => {
    expect(carriedSource(cluster(), cluster({ source: UNKNOWN }))).to.equal("/dev/sdb1");
    const r = checkCluster(cluster(), cluster({ source: UNKNOWN }));
    expect(r.failures).to.deep.equal([]);
    expect((r.inputs as Record<string, unknown>).source).to.equal("/dev/sdb1");
  });
  it("does not carry it for a replaced disk (id unknown), another disk, another master, or without sourceDisk", () => {
    expect(carriedSource(cluster(), cluster({ source: UNKNOWN, sourceDisk: UNKNOWN }))).to.equal(UNKNOWN);
    expect(carriedSource(cluster(), cluster({ source: UNKNOWN, sourceDisk: "san:/dev/sdc@/OVS/remote" }))).to.equal(UNKNOWN);
    expect(carriedSource(cluster(), cluster({ source: UNKNOWN, master: "ovs2" }))).to.equal(UNKNOWN);
    expect(carriedSource(cluster({ sourceDisk: undefined }), cluster({ source: UNKNOWN, sourceDisk: undefined }))).to.equal(UNKNOWN);
    expect(carriedSource({}, cluster({ source: UNKNOWN }))).to.equal(UNKNOWN);
  });
  it("a known source is never replaced by the old one", () => {
    expect(carriedSource(cluster(), cluster({ source: "/dev/sdc1" }))).to.equal("/dev/sdc1");
  });
  it("the SharedDisk keeps its devicePath across in-place updates while a listed server has it", () => {
    expect(commonDevicePath({ ovs1: "/dev/sdb1", ovs2: "/dev/sdc1" }, ["ovs1", "ovs2"])).to.equal("/dev/sdb1");
    expect(commonDevicePath({ ovs1: "/dev/sdb1", ovs2: "/dev/sdc1" }, ["ovs2", "ovs1"], "/dev/sdb1")).to.equal("/dev/sdb1");
    expect(commonDevicePath({ ovs2: "/dev/sdc1" }, ["ovs2"], "/dev/sdb1")).to.equal("/dev/sdc1");
  });
});

describe("engine harness: parallel deletes", () => {
  const items = [
    { urn: "pool", dependencies: [] as string[] },
    { urn: "g1", dependencies: ["pool"] },
    { urn: "g2", dependencies: ["pool"] },
    { urn: "g3", dependencies: ["pool"] },
  ];
  it("deletes independent resources at once and a resource only after its dependents", async () => {
    const log: string[] = [];
    let inFlight = 0;
    let most = 0;
    const err = await deleteInParallel(items, async (it) => {
      inFlight++;
      most = Math.max(most, inFlight);
      log.push(`start ${it.urn}`);
      await new Promise((r) => setTimeout(r, 20));
      log.push(`end ${it.urn}`);
      inFlight--;
    });
    expect(err).to.equal(undefined);
    expect(most).to.equal(3);
    expect(log.indexOf("start pool")).to.be.greaterThan(Math.max(log.indexOf("end g1"), log.indexOf("end g2"), log.indexOf("end g3")));
  });
  it("starts nothing after a failure and keeps what depends on nothing left", async () => {
    const started: string[] = [];
    const err = await deleteInParallel(items, async (it) => {
      started.push(it.urn);
      if (it.urn === "g2") throw new Error("g2 will not go");
    });
    expect((err as Error).message).to.equal("g2 will not go");
    expect(started).to.not.include("pool");
  });
});
