// Preview is exactly what up does (issue 9): for each kind of change of a Cluster -> ServerPool -> Guest stack on the
// lab, the steps preview plans (op and replaced properties, per resource) are the steps up performs. The engine's
// preview of a dynamic resource being updated knows only its checked inputs (every other output is unknown), so
// this is where a replace trigger fed by an output would show as a replace that up never does. Drift found by
// refresh must show in the preview and be repaired by the up.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { OperationResult, Stack } from "../engine";
import { startTestLab, TestLab } from "../support/lab";
import { Cluster } from "../../provider/resources/cluster";
import { ServerPool } from "../../provider/resources/server-pool";
import { Guest } from "../../provider/resources/guest";
import { ok } from "../support/engine-ok";

const projectDir = path.resolve(__dirname, "../../..");

interface Knobs {
  description?: string;
  pinned?: boolean;
  ha?: boolean;
  heartbeatMisses?: number;
  g1Memory?: number;
  g1DiskMB?: number;
  g2Name?: string;
}

describe("preview matches up (Cluster -> ServerPool -> Guest, lab)", function () {
  this.timeout(300000);
  let lab: TestLab;
  let stack: Stack;
  const sh = async (server: string, script: string) => lab.inServer(server, ["sh", "-c", script]);

  const program = (k: Knobs) => () => {
    const servers = lab.info.servers.map((s) => ({ name: s.name, address: s.address, ...(k.pinned ? { hostKeyFingerprint: s.hostKeyFingerprint } : {}) }));
    const cluster = new Cluster("cluster", {
      kind: "nfs",
      master: "ovs1",
      servers,
      source: lab.info.storage.nfs.export,
      description: k.description ?? "cluster root",
      o2cb: { heartbeatThreshold: 7 },
    });
    const pool = new ServerPool("pool", {
      name: "pool1",
      master: { name: "ovs1", address: lab.info.servers[0].address },
      members: lab.info.servers.slice(1).map((s) => ({ name: s.name, address: s.address })),
      cluster: cluster.name,
      clusterRoot: cluster.clusterRoot,
      clusterSource: cluster.source,
      ha: k.ha ?? true,
      timing: { heartbeatIntervalMs: 1000, heartbeatMisses: k.heartbeatMisses ?? 3, stabilityMs: 5000, restartBudget: { max: 3, windowMs: 600000 } },
    });
    new Guest("g1", { name: "g1", pool: pool.guestPool, memory: k.g1Memory ?? 256, vcpus: 1, disk: { sizeMB: k.g1DiskMB ?? 16 }, ha: true });
    new Guest("g2", { name: k.g2Name ?? "g2", pool: pool.guestPool, memory: 256, vcpus: 1, disk: { sizeMB: 16 }, ha: true, preferredServers: ["ovs2", "ovs3"] });
  };

  /** name -> "op" or "replace[props]" for every custom resource. */
  const plan = (r: OperationResult) =>
    Object.fromEntries(r.steps.filter((s) => s.type.startsWith("pulumi-nodejs:dynamic")).map((s) => [s.name, s.op === "replace" ? `replace[${[...(s.replaces ?? [])].sort().join(",")}]` : s.op]));

  /** Previews, then ups the same program: the plans must be equal; returns it. */
  const agree = async (k: Knobs, expected: Record<string, string>) => {
    const preview = plan(ok(await stack.preview(program(k))));
    const up = plan(ok(await stack.up(program(k))));
    expect(preview, "preview").to.deep.equal(expected);
    expect(up, "up did what preview showed").to.deep.equal(preview);
    return up;
  };

  before(async () => {
    lab = await startTestLab({ servers: 3, memoryMb: 4096 });
    stack = new Stack({ project: "preview-up", projectDir });
    stack.setConfig("sshPrivateKey", fs.readFileSync(lab.info.privateKeyPath, "utf8"), { secret: true });
    stack.setConfig("sshKnownHosts", lab.info.knownHostsPath);
  });
  after(async () => {
    await lab?.down();
  });

  it("create: preview plans every create, up does them", async () => {
    await agree({}, { cluster: "create", pool: "create", g1: "create", g2: "create" });
  });

  it("no change: all same", async () => {
    await agree({}, { cluster: "same", pool: "same", g1: "same", g2: "same" });
  });

  it("the Cluster's description: update cluster only (not the pool and its guests)", async () => {
    await agree({ description: "the pool root" }, { cluster: "update", pool: "same", g1: "same", g2: "same" });
  });

  it("pinning the servers' fingerprints: update cluster only", async () => {
    await agree({ description: "the pool root", pinned: true }, { cluster: "update", pool: "same", g1: "same", g2: "same" });
  });

  it("a Cluster drift repair (o2cb taken offline by hand): refresh shows it, preview and up update the cluster only", async () => {
    expect((await sh("ovs3", "service o2cb offline")).code).to.equal(0);
    ok(await stack.refresh());
    await agree({ description: "the pool root", pinned: true }, { cluster: "update", pool: "same", g1: "same", g2: "same" });
    expect((await sh("ovs3", "service o2cb status")).stdout).to.match(/online|Heartbeat: Active|Checking O2CB heartbeat: Active/i);
  });

  it("the pool's timing: update pool only", async () => {
    await agree({ description: "the pool root", pinned: true, heartbeatMisses: 2 }, { cluster: "same", pool: "update", g1: "same", g2: "same" });
  });

  it("the pool's HA flag: update pool and the guests that take it (their pool changed in place)", async () => {
    await agree({ description: "the pool root", pinned: true, heartbeatMisses: 2, ha: false }, { cluster: "same", pool: "update", g1: "update", g2: "update" });
  });

  const k: Knobs = { description: "the pool root", pinned: true, heartbeatMisses: 2, ha: false };

  it("a guest's memory: update that guest only", async () => {
    Object.assign(k, { g1Memory: 320 });
    await agree(k, { cluster: "same", pool: "same", g1: "update", g2: "same" });
  });

  it("a guest's new-image disk grows: update", async () => {
    Object.assign(k, { g1DiskMB: 32 });
    await agree(k, { cluster: "same", pool: "same", g1: "update", g2: "same" });
  });

  it("a guest's vm.cfg deleted by hand: refresh reports it, preview shows an update, up rewrites it", async () => {
    expect((await sh("ovs1", "rm /OVS/running_pool/g1/vm.cfg")).code).to.equal(0);
    ok(await stack.refresh());
    expect(stack.resource("g1")!.outputs.vmCfgMissing).to.equal(true);
    await agree(k, { cluster: "same", pool: "same", g1: "update", g2: "same" });
    expect((await sh("ovs1", "cat /OVS/running_pool/g1/vm.cfg")).stdout).to.contain("memory = 320");
    ok(await stack.refresh());
    await agree(k, { cluster: "same", pool: "same", g1: "same", g2: "same" });
  });

  it("a guest's HA record edited by hand: preview shows an update, up rewrites it", async () => {
    expect((await sh("ovs1", "sed -i 's/\"priority\": 50/\"priority\": 7/' /OVS/running_pool/g2/ha.json && grep -c '\"priority\": 7' /OVS/running_pool/g2/ha.json")).stdout.trim()).to.equal("1");
    ok(await stack.refresh());
    await agree(k, { cluster: "same", pool: "same", g1: "same", g2: "update" });
    expect((await sh("ovs1", "cat /OVS/running_pool/g2/ha.json")).stdout).to.contain('"priority": 50');
  });

  it("a guest not running: preview shows an update, up starts it", async () => {
    const on = stack.resource("g2")!.outputs.runningOn as string;
    expect((await sh(on, "xm destroy g2")).code).to.equal(0);
    ok(await stack.refresh());
    await agree(k, { cluster: "same", pool: "same", g1: "same", g2: "update" });
    expect(stack.resource("g2")!.outputs.running).to.equal(true);
  });

  it("a drain hook removed by hand: preview shows an update of the pool, up reinstalls it", async () => {
    const hook = stack.resource("pool")!.outputs.hookPath as string;
    expect((await sh("ovs2", `rm ${hook}`)).code).to.equal(0);
    ok(await stack.refresh());
    await agree(k, { cluster: "same", pool: "update", g1: "same", g2: "same" });
    expect((await sh("ovs2", `test -x ${hook}`)).code).to.equal(0);
  });

  it("the pool's HA record edited by hand: preview shows an update, up rewrites it", async () => {
    const record = stack.resource("pool")!.outputs.haRecordPath as string;
    expect((await sh("ovs1", `sed -i 's/"heartbeatMisses": 2/"heartbeatMisses": 3/' ${record} && grep -c '"heartbeatMisses": 3' ${record}`)).stdout.trim()).to.equal("1");
    ok(await stack.refresh());
    await agree(k, { cluster: "same", pool: "update", g1: "same", g2: "same" });
    expect((await sh("ovs1", `cat ${record}`)).stdout).to.contain('"heartbeatMisses": 2');
  });

  it("a guest's name: replace that guest (deleted first: one name per pool)", async () => {
    Object.assign(k, { g2Name: "g2b" });
    await agree(k, { cluster: "same", pool: "same", g1: "same", g2: "replace[name]" });
  });

  it("destroy removes the guests and the pool's traces", async () => {
    ok(await stack.destroy());
    expect(stack.resources).to.have.length(0);
    for (const s of ["ovs1", "ovs2", "ovs3"]) expect((await sh(s, "xm list | tail -n +3 | wc -l")).stdout.trim(), s).to.equal("0");
  });
});
