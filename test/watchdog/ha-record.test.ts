// The HA record schemas: what a valid record looks like and what each mistake is called.
import { expect } from "chai";
import {
  DEFAULT_TIMING,
  GuestRecordSchema,
  PoolRecordSchema,
  checkGuestAgainstPool,
  describeIssues,
} from "../../ha/ha-record";

const pool = (over: Record<string, unknown> = {}) => ({
  schemaVersion: 1,
  name: "pool1",
  haEnabled: true,
  generation: 3,
  servers: [
    { name: "ovs1", address: "192.0.2.11", role: "master", fence: { method: "power", command: "ipmitool -H bmc1 chassis power off" } },
    { name: "ovs2", address: "192.0.2.12", role: "member" },
  ],
  ...over,
});
const guest = (over: Record<string, unknown> = {}) => ({
  schemaVersion: 1,
  name: "vm1",
  ha: true,
  preferred: ["ovs2", "ovs1"],
  priority: 5,
  memoryMb: 1024,
  vcpus: 2,
  vmCfgPath: "/OVS/running_pool/vm1/vm.cfg",
  ...over,
});

function messages(schema: typeof PoolRecordSchema | typeof GuestRecordSchema, input: unknown): string[] {
  const r = schema.safeParse(input);
  expect(r.success, "should be rejected").to.equal(false);
  return describeIssues(r.error!);
}

describe("HA record: pool", () => {
  it("accepts a full record and fills defaults", () => {
    const p = PoolRecordSchema.parse(pool());
    expect(p.servers[1].sshPort).to.equal(22);
    expect(p.servers[1].fence).to.deep.equal({ method: "none" });
    expect(p.timing).to.deep.equal(DEFAULT_TIMING);
  });
  const bad: [string, Record<string, unknown>, string][] = [
    ["schema version", { schemaVersion: 2 }, "schemaVersion: schemaVersion must be 1"],
    ["ha flag type", { haEnabled: "yes" }, "haEnabled: haEnabled must be true or false"],
    ["empty servers", { servers: [] }, "servers: servers must list at least one server"],
    ["bad role", { servers: [{ name: "a", address: "x", role: "boss" }] }, "servers.0.role: server role must be 'master' or 'member'"],
    ["bad fence", { servers: [{ name: "a", address: "x", role: "master", fence: { method: "stonith" } }] }, "servers.0.fence.method: fence.method must be one of 'power', 'storage', 'levels', 'none'"],
    ["duplicate server", { servers: [{ name: "a", address: "x", role: "master" }, { name: "a", address: "y", role: "member" }] }, "servers.1.name: server name 'a' is listed twice"],
    ["two masters", { servers: [{ name: "a", address: "x", role: "master" }, { name: "b", address: "y", role: "master" }] }, "servers: at most one server may have role 'master'"],
    ["lease (unsafe: storage is its safe form)", { servers: [{ name: "a", address: "x", role: "master", fence: { method: "lease" } }] }, "servers.0.fence.method: fence.method 'lease' is not supported: use 'storage' (a poison pill read by the ovm-ha agent on every server, which feeds a watchdog device), 'power' (with a fence command in the watchdog's config), 'levels' (power, then storage) or 'none'"],
    ["levels listing a method twice", { servers: [{ name: "a", address: "x", role: "master", fence: { method: "levels", levels: [{ method: "storage" }, { method: "storage" }] } }] }, "servers.0.fence.levels: fence.levels must not list a method twice"],
    ["agent lease shorter than two intervals", { servers: [{ name: "a", address: "x", role: "master" }], timing: { heartbeatIntervalMs: 1000, heartbeatMisses: 3, stabilityMs: 0, restartBudget: { max: 3, windowMs: 60000 }, agent: { intervalMs: 1000, leaseMs: 1500, deviceTimeoutMs: 4000 } } }, "timing.agent.leaseMs: timing.agent.leaseMs (1500) must be at least twice timing.agent.intervalMs (1000): one slow write must not reset a server"],
    ["slow heartbeat", { timing: { ...DEFAULT_TIMING, heartbeatIntervalMs: 5000 } }, "timing.heartbeatIntervalMs: timing.heartbeatIntervalMs must be at most 1000 ms (failover within seconds)"],
    ["too many misses", { timing: { ...DEFAULT_TIMING, heartbeatMisses: 10 } }, "timing.heartbeatMisses: timing.heartbeatMisses must be 1..3 (detection within 3 intervals)"],
    ["ssh port", { servers: [{ name: "a", address: "x", role: "master", sshPort: 70000 }] }, "servers.0.sshPort: server sshPort must be 1..65535"],
    ["bad server name", { servers: [{ name: "a b", address: "x", role: "master" }] }, "servers.0.name: server name must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit"],
    ["negative generation", { generation: -1 }, "generation: generation must not be negative"],
  ];
  for (const [what, over, msg] of bad) {
    it(`rejects ${what}`, () => expect(messages(PoolRecordSchema, pool(over))).to.include(msg));
  }
});

describe("HA record: guest", () => {
  it("accepts a full record, and auto", () => {
    expect(GuestRecordSchema.parse(guest()).preferred).to.deep.equal(["ovs2", "ovs1"]);
    expect(GuestRecordSchema.parse(guest({ preferred: "auto", priority: undefined, vcpus: undefined })).priority).to.equal(0);
  });
  const bad: [string, Record<string, unknown>, string][] = [
    ["preferred as a string", { preferred: "ovs1" }, "preferred: preferred must be \"auto\" or a list of server names"],
    ["empty preferred", { preferred: [] }, "preferred: preferred must list at least one server, or be \"auto\""],
    ["memory", { memoryMb: 0 }, "memoryMb: memoryMb must be at least 1"],
    ["fractional memory", { memoryMb: 1.5 }, "memoryMb: memoryMb must be a whole number of MB"],
    ["priority range", { priority: 5000 }, "priority: priority must be 0..1000"],
    ["relative vm.cfg", { vmCfgPath: "vm.cfg" }, "vmCfgPath: vmCfgPath must be an absolute path"],
    ["ha flag missing", { ha: undefined }, "ha: ha must be true or false"],
  ];
  for (const [what, over, msg] of bad) {
    it(`rejects ${what}`, () => expect(messages(GuestRecordSchema, guest(over))).to.include(msg));
  }
  it("checks preferred servers against the pool", () => {
    const p = PoolRecordSchema.parse(pool());
    expect(checkGuestAgainstPool(GuestRecordSchema.parse(guest()), p)).to.deep.equal([]);
    expect(checkGuestAgainstPool(GuestRecordSchema.parse(guest({ preferred: ["ovs9"] })), p)).to.deep.equal([
      "guest 'vm1': preferred server 'ovs9' is not in pool 'pool1'",
    ]);
  });
});
