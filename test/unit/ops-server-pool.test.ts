// ServerPool pieces without servers: the HA record built from inputs (valid per the watchdog's schema, fencing,
// roles), the evacuation plan of leaving servers, and cluster.conf membership problems.
import { expect } from "chai";
import { buildPoolRecord, renderPoolRecord } from "../../provider/ops/server-pool/pool-record";
import { planEvacuation } from "../../provider/ops/server-pool/evacuate";
import { clusterConfProblems } from "../../provider/ops/server-pool/verify-servers";
import { ServerProbe } from "../../provider/ops/server-pool/server-probe";
import { parseServerPoolInputs } from "../../provider/schemas/server-pool";
import { check } from "../../provider/ops/server-pool";
import { formatClusterConf, parseXmStateFlags } from "../../provider/parsers";
import { PoolRecordSchema, GuestRecord } from "../../ha/ha-record";

const inputs = (over: Record<string, unknown> = {}) =>
  parseServerPoolInputs({
    name: "pool1",
    master: { name: "ovs1", address: "192.0.2.11" },
    members: [{ name: "ovs2", address: "192.0.2.12", port: 2222 }],
    cluster: "ocfs2",
    clusterRoot: "/OVS/ABC",
    ha: true,
    ...over,
  });

const probe = (server: string, free: number, guests: [string, number][]): ServerProbe => ({
  server,
  info: { host: server, nrCpus: 4, totalMemoryMb: 8192, freeMemoryMb: free, fields: {} },
  domains: [
    { name: "Domain-0", id: 0, memoryMb: 1024, vcpus: 4, state: "r-----", flags: parseXmStateFlags("r-----"), cpuTimeSeconds: 1 },
    ...guests.map(([name, mem], i) => ({ name, id: i + 1, memoryMb: mem, vcpus: 1, state: "-b----", flags: parseXmStateFlags("-b----"), cpuTimeSeconds: 1 })),
  ],
});

describe("ops: ServerPool HA record", () => {
  it("is valid per the watchdog's schema: master first, ports, fencing defaulting to none", () => {
    const rec = buildPoolRecord(inputs({ fence: { ovs2: { method: "power", command: "ipmitool power off" } } }) as never, 4);
    expect(PoolRecordSchema.parse(JSON.parse(renderPoolRecord(rec)))).to.deep.equal(rec);
    expect(rec.servers.map((s) => [s.name, s.role, s.sshPort, s.fence.method])).to.deep.equal([
      ["ovs1", "master", 22, "none"],
      ["ovs2", "member", 2222, "power"],
    ]);
    expect([rec.haEnabled, rec.generation, rec.timing.heartbeatIntervalMs]).to.deep.equal([true, 4, 1000]);
  });
  it("check requires clusterRoot (where the record goes)", async () => {
    const r = await check({}, { name: "p", master: { name: "ovs1", address: "192.0.2.11" }, cluster: "ocfs2" });
    expect(r.failures?.map((f) => f.property)).to.deep.equal(["clusterRoot"]);
  });
});

describe("ops: evacuation plan", () => {
  const records = new Map<string, GuestRecord | undefined>([
    ["db", { schemaVersion: 1, name: "db", ha: true, preferred: ["ovs3", "ovs2"], priority: 90, memoryMb: 2048, vcpus: 1, vmCfgPath: "/x" }],
  ]);
  it("moves every running guest of the leaving server, preferred servers first, memory accounted", () => {
    const plan = planEvacuation([probe("ovs1", 0, [["web", 1024], ["db", 2048]])], [probe("ovs2", 3000, []), probe("ovs3", 2500, [])], records);
    expect(plan.stranded).to.deep.equal([]);
    expect(plan.moves).to.deep.equal([
      { guest: "db", memoryMb: 2048, from: "ovs1", to: "ovs3" },
      { guest: "web", memoryMb: 1024, from: "ovs1", to: "ovs2" },
    ]);
  });
  it("a guest with nowhere to go is stranded, named with its server", () => {
    const plan = planEvacuation([probe("ovs1", 0, [["web", 1024], ["db", 2048]])], [probe("ovs2", 2100, [])], records);
    expect(plan.moves.map((m) => m.guest)).to.deep.equal(["db"]);
    expect(plan.stranded).to.deep.equal([{ guest: "web", from: "ovs1", reason: "1024 MB fits on no server of the pool (ovs2 has 52 MB free)" }]);
  });
});

describe("ops: cluster.conf membership", () => {
  it("names the pool servers the master's cluster.conf lacks", () => {
    const conf = formatClusterConf({ cluster: { name: "ocfs2", nodeCount: 1, heartbeatMode: "local" }, nodes: [{ name: "ovs1", number: 0, ipAddress: "192.0.2.11", ipPort: 7777, cluster: "ocfs2" }] });
    expect(clusterConfProblems(conf, "ocfs2", ["ovs1", "ovs2"])).to.deep.equal([{ server: "ovs2", problem: "is not a node of cluster ocfs2 in the master's /etc/ocfs2/cluster.conf" }]);
  });
});
