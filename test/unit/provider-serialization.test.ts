// Programs under pulumi.runtime.setMocks: each resource's serialized provider (`__provider`, the code Pulumi keeps
// in state and runs on destroy) serializes, stays small and holds no secret; and state written by this release
// (a fixture captured from a real `up` of examples/ocfs2-san on the lab, __provider removed) keeps working:
// check accepts its inputs and diff finds no change, so a later release must keep accepting it.
import { expect } from "chai";
import { runProgram } from "../engine/program-run";
import { ocfs2SanPool } from "../../examples/ocfs2-san/program";
import { nfsPool } from "../../examples/nfs/program";
import * as sharedDiskOps from "../../provider/ops/shared-disk";
import * as clusterOps from "../../provider/ops/cluster";
import * as serverPoolOps from "../../provider/ops/server-pool";
import * as guestOps from "../../provider/ops/guest";

// A fake key: what matters is that none of its text reaches a blob or an input.
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOSECRETSECRET\n-----END OPENSSH PRIVATE KEY-----\n";
const PASSPHRASE = "correct-horse-battery-staple-42";
const MAX_BLOB_BYTES = 20 * 1024;

const SERVERS = [
  { name: "ovs1", address: "192.0.2.1", port: 22, hostKeyFingerprint: "SHA256:Zm9vYmFyYmF6Zm9vYmFyYmF6Zm9vYmFyYmF6Zm9vYmE" },
  { name: "ovs2", address: "192.0.2.2", port: 22 },
];

async function capture(project: string, program: () => unknown, extra: Record<string, string>) {
  const config: Record<string, string> = {
    [`${project}:servers`]: JSON.stringify(SERVERS),
    [`${project}:sshPrivateKey`]: KEY,
    [`${project}:sshPassphrase`]: PASSPHRASE,
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [`${project}:${k}`, v])),
  };
  const run = await runProgram(program, {
    project,
    stack: "dev",
    preview: false,
    config,
    secretConfigKeys: [`${project}:sshPrivateKey`, `${project}:sshPassphrase`],
    // Outputs a real create would give, enough for the dependent resources to register.
    register: async (reg) => ({
      id: `${reg.name}-id`,
      outputs: { ...reg.inputs, devicePath: "/dev/sdb1", devices: { ovs1: "/dev/sdb1", ovs2: "/dev/sdb1" }, clusterRoot: "/OVS/0123456789ABCDEF0123456789ABCDEF", guestPool: { name: "pool1", master: SERVERS[0], members: [SERVERS[1]], ha: true, clusterRoot: "/OVS/0123456789ABCDEF0123456789ABCDEF" } },
    }),
  });
  expect(run.errors.map((e) => e.message)).to.deep.equal([]);
  return run.registrations;
}

describe("serialized providers (programs under setMocks)", () => {
  for (const [project, program, extra] of [
    ["ovm-ha-ocfs2-san", ocfs2SanPool, { sanDevice: "/dev/sdb" }],
    ["ovm-ha-nfs", nfsPool, { nfsExport: "192.0.2.250:/export/ovs" }],
  ] as const) {
    it(`${project}: every resource's __provider serializes, is small and holds no secret; no input holds one`, async () => {
      const regs = await capture(project, program, extra);
      const types = new Set(regs.map((r) => r.type.split(":").pop()));
      expect([...types].sort()).to.deep.equal(project.includes("nfs") ? ["Cluster", "Guest", "ServerPool"] : ["Cluster", "Guest", "ServerPool", "SharedDisk"]);
      const sizes: string[] = [];
      for (const r of regs) {
        const blob = r.inputs.__provider;
        expect(blob, `${r.name}: __provider`).to.be.a("string");
        const bytes = Buffer.byteLength(blob as string);
        sizes.push(`${r.type.split(":").pop()} ${r.name} ${bytes} B`);
        expect(bytes, `${r.name}: serialized provider size`).to.be.below(MAX_BLOB_BYTES);
        // The blob requires the ops modules at call time instead of carrying them (and any schema or template).
        expect(blob as string).to.include("require").and.not.to.include("zod");
        const text = JSON.stringify(r.inputs);
        for (const secret of [KEY.split("\n")[1], PASSPHRASE]) expect(text, `${r.name}: inputs and __provider`).to.not.include(secret);
      }
      console.log(`      ${sizes.join("; ")}`);
    });
  }
});

/** Captured from this release (schemaVersion/stateVersion 1): a real `up` of examples/ocfs2-san on a 2-server lab. */
const STATE_V1: Record<string, { type: string; id: string; inputs: Record<string, unknown>; outputs: Record<string, unknown> }> = {"cluster-root-disk":{"type":"pulumi-nodejs:dynamic/ovm-ha:SharedDisk","id":"san:/dev/sdb@/OVS/remote","inputs":{"device":"/dev/sdb","format":{"blockSize":4096,"clusterSize":4096,"journalSize":4194304,"label":"ovsroot","nodeSlots":4},"kind":"san","mount":false,"mountPoint":"/OVS/remote","overwrite":false,"partition":true,"servers":[{"address":"127.77.1.1","hostKeyFingerprint":"SHA256:TOIrkQf63QP3mxdpDbkjiOqnmLIu1LleJBFD3b66jVw","name":"ovs1","port":22},{"address":"127.77.1.2","hostKeyFingerprint":"SHA256:rFTE1jC6udnvZbLc6zr58dM5wTfr8XHZwz3dbB6EknE","name":"ovs2","port":22}]},"outputs":{"device":"/dev/sdb","devicePath":"/dev/sdb1","devices":{"ovs1":"/dev/sdb1","ovs2":"/dev/sdb1"},"disks":{"ovs1":"/dev/sdb","ovs2":"/dev/sdb"},"format":{"blockSize":4096,"clusterSize":4096,"journalSize":4194304,"label":"ovsroot","nodeSlots":4},"formatted":true,"kind":"san","mount":false,"mountPoint":"/OVS/remote","mountedOn":[],"overwrite":false,"partition":true,"schemaVersion":1,"servers":[{"address":"127.77.1.1","hostKeyFingerprint":"SHA256:TOIrkQf63QP3mxdpDbkjiOqnmLIu1LleJBFD3b66jVw","name":"ovs1","port":22},{"address":"127.77.1.2","hostKeyFingerprint":"SHA256:rFTE1jC6udnvZbLc6zr58dM5wTfr8XHZwz3dbB6EknE","name":"ovs2","port":22}],"serversRecorded":[{"address":"127.77.1.1","hostKeyFingerprint":"SHA256:TOIrkQf63QP3mxdpDbkjiOqnmLIu1LleJBFD3b66jVw","name":"ovs1","port":22},{"address":"127.77.1.2","hostKeyFingerprint":"SHA256:rFTE1jC6udnvZbLc6zr58dM5wTfr8XHZwz3dbB6EknE","name":"ovs2","port":22}],"volumeLabel":"ovsroot","volumeUuid":"95A93FA720F546C0804290BBA4641ADB"}},"cluster":{"type":"pulumi-nodejs:dynamic/ovm-ha:Cluster","id":"cluster:ocfs2:ocfs2:/dev/sdb1","inputs":{"description":"cluster root","kind":"ocfs2","master":"ovs1","name":"ocfs2","nodeNumbers":{"ovs1":0,"ovs2":1},"o2cb":{"heartbeatThreshold":31,"idleTimeoutMs":30000,"keepaliveDelayMs":2000,"reconnectDelayMs":2000},"port":7777,"servers":[{"address":"127.77.1.1","hostKeyFingerprint":"SHA256:TOIrkQf63QP3mxdpDbkjiOqnmLIu1LleJBFD3b66jVw","name":"ovs1","port":22},{"address":"127.77.1.2","hostKeyFingerprint":"SHA256:rFTE1jC6udnvZbLc6zr58dM5wTfr8XHZwz3dbB6EknE","name":"ovs2","port":22}],"source":"/dev/sdb1"},"outputs":{"clusterRoot":"/OVS/95A93FA720F546C0804290BBA4641ADB","description":"cluster root","kind":"ocfs2","master":"ovs1","name":"ocfs2","nodeNumbers":{"ovs1":0,"ovs2":1},"o2cb":{"heartbeatThreshold":31,"idleTimeoutMs":30000,"keepaliveDelayMs":2000,"reconnectDelayMs":2000},"onlineOn":["ovs1","ovs2"],"port":7777,"repositoryUuid":"95A93FA720F546C0804290BBA4641ADB","schemaVersion":1,"servers":[{"address":"127.77.1.1","hostKeyFingerprint":"SHA256:TOIrkQf63QP3mxdpDbkjiOqnmLIu1LleJBFD3b66jVw","name":"ovs1","port":22},{"address":"127.77.1.2","hostKeyFingerprint":"SHA256:rFTE1jC6udnvZbLc6zr58dM5wTfr8XHZwz3dbB6EknE","name":"ovs2","port":22}],"serversRecorded":[{"address":"127.77.1.1","hostKeyFingerprint":"SHA256:TOIrkQf63QP3mxdpDbkjiOqnmLIu1LleJBFD3b66jVw","name":"ovs1","port":22},{"address":"127.77.1.2","hostKeyFingerprint":"SHA256:rFTE1jC6udnvZbLc6zr58dM5wTfr8XHZwz3dbB6EknE","name":"ovs2","port":22}],"source":"/dev/sdb1"}},"cluster-root-ovs2":{"type":"pulumi-nodejs:dynamic/ovm-ha:Cluster","id":"cluster:ocfs2:ocfs2:/dev/sdb1","inputs":{"description":"cluster root","kind":"ocfs2","master":"ovs2","name":"ocfs2","nodeNumbers":{"ovs1":0,"ovs2":1},"o2cb":{"heartbeatThreshold":31,"idleTimeoutMs":30000,"keepaliveDelayMs":2000,"reconnectDelayMs":2000},"port":7777,"servers":[{"address":"127.77.1.1","hostKeyFingerprint":"SHA256:TOIrkQf63QP3mxdpDbkjiOqnmLIu1LleJBFD3b66jVw","name":"ovs1","port":22},{"address":"127.77.1.2","hostKeyFingerprint":"SHA256:rFTE1jC6udnvZbLc6zr58dM5wTfr8XHZwz3dbB6EknE","name":"ovs2","port":22}],"source":"/dev/sdb1"},"outputs":{"clusterRoot":"/OVS/95A93FA720F546C0804290BBA4641ADB","description":"cluster root","kind":"ocfs2","master":"ovs2","name":"ocfs2","nodeNumbers":{"ovs1":0,"ovs2":1},"o2cb":{"heartbeatThreshold":31,"idleTimeoutMs":30000,"keepaliveDelayMs":2000,"reconnectDelayMs":2000},"onlineOn":["ovs1","ovs2"],"port":7777,"repositoryUuid":"95A93FA720F546C0804290BBA4641ADB","schemaVersion":1,"servers":[{"address":"127.77.1.1","hostKeyFingerprint":"SHA256:TOIrkQf63QP3mxdpDbkjiOqnmLIu1LleJBFD3b66jVw","name":"ovs1","port":22},{"address":"127.77.1.2","hostKeyFingerprint":"SHA256:rFTE1jC6udnvZbLc6zr58dM5wTfr8XHZwz3dbB6EknE","name":"ovs2","port":22}],"serversRecorded":[{"address":"127.77.1.1","hostKeyFingerprint":"SHA256:TOIrkQf63QP3mxdpDbkjiOqnmLIu1LleJBFD3b66jVw","name":"ovs1","port":22},{"address":"127.77.1.2","hostKeyFingerprint":"SHA256:rFTE1jC6udnvZbLc6zr58dM5wTfr8XHZwz3dbB6EknE","name":"ovs2","port":22}],"source":"/dev/sdb1"}},"pool":{"type":"pulumi-nodejs:dynamic/ovm-ha:ServerPool","id":"pool1","inputs":{"cluster":"ocfs2","clusterRoot":"/OVS/95A93FA720F546C0804290BBA4641ADB","fence":{"ovs1":{"method":"power"},"ovs2":{"method":"power"}},"ha":true,"master":{"address":"127.77.1.1","hostKeyFingerprint":"SHA256:TOIrkQf63QP3mxdpDbkjiOqnmLIu1LleJBFD3b66jVw","name":"ovs1","port":22},"members":[{"address":"127.77.1.2","hostKeyFingerprint":"SHA256:rFTE1jC6udnvZbLc6zr58dM5wTfr8XHZwz3dbB6EknE","name":"ovs2","port":22}],"name":"pool1","timing":{"fenceRetryMs":5000,"fenceTimeoutMs":5000,"heartbeatIntervalMs":1000,"heartbeatMisses":3,"restartBudget":{"max":3,"windowMs":600000},"stabilityMs":10000}},"outputs":{"cluster":"ocfs2","clusterRoot":"/OVS/95A93FA720F546C0804290BBA4641ADB","complete":true,"fence":{"ovs1":{"method":"power"},"ovs2":{"method":"power"}},"guestPool":{"clusterRoot":"/OVS/95A93FA720F546C0804290BBA4641ADB","ha":true,"master":{"address":"127.77.1.1","hostKeyFingerprint":"SHA256:TOIrkQf63QP3mxdpDbkjiOqnmLIu1LleJBFD3b66jVw","name":"ovs1","port":22},"members":[{"address":"127.77.1.2","hostKeyFingerprint":"SHA256:rFTE1jC6udnvZbLc6zr58dM5wTfr8XHZwz3dbB6EknE","name":"ovs2","port":22}],"name":"pool1"},"ha":true,"haRecordGeneration":1,"haRecordPath":"/OVS/95A93FA720F546C0804290BBA4641ADB/.ovm-ha/pool.json","hookPath":"/etc/rc.d/init.d/ovm-ha-drain","master":{"address":"127.77.1.1","hostKeyFingerprint":"SHA256:TOIrkQf63QP3mxdpDbkjiOqnmLIu1LleJBFD3b66jVw","name":"ovs1","port":22},"members":[{"address":"127.77.1.2","hostKeyFingerprint":"SHA256:rFTE1jC6udnvZbLc6zr58dM5wTfr8XHZwz3dbB6EknE","name":"ovs2","port":22}],"name":"pool1","recordInSync":true,"servers":[{"name":"ovs1","nrCpus":4,"totalMemoryMb":2048},{"name":"ovs2","nrCpus":4,"totalMemoryMb":2048}],"stateVersion":1,"timing":{"fenceRetryMs":5000,"fenceTimeoutMs":5000,"heartbeatIntervalMs":1000,"heartbeatMisses":3,"restartBudget":{"max":3,"windowMs":600000},"stabilityMs":10000},"unreachableServers":[]}},"web1":{"type":"pulumi-nodejs:dynamic/ovm-ha:Guest","id":"pool1/web1","inputs":{"disk":{"sizeMB":16},"ha":true,"memory":256,"name":"web1","network":{"bridge":"xenbr0"},"onCrash":"restart","pool":{"clusterRoot":"/OVS/95A93FA720F546C0804290BBA4641ADB","ha":true,"master":{"address":"127.77.1.1","hostKeyFingerprint":"SHA256:TOIrkQf63QP3mxdpDbkjiOqnmLIu1LleJBFD3b66jVw","name":"ovs1","port":22},"members":[{"address":"127.77.1.2","hostKeyFingerprint":"SHA256:rFTE1jC6udnvZbLc6zr58dM5wTfr8XHZwz3dbB6EknE","name":"ovs2","port":22}],"name":"pool1"},"preferredServers":"auto","priority":50,"vcpus":1},"outputs":{"disk":{"sizeMB":16},"diskCreated":true,"diskPath":"/OVS/running_pool/web1/System.img","domainId":1,"ha":true,"haEffective":true,"haRecordPath":"/OVS/running_pool/web1/ha.json","mac":"00:16:3E:5E:3D:08","memory":256,"name":"web1","network":{"bridge":"xenbr0"},"onCrash":"restart","pool":{"clusterRoot":"/OVS/95A93FA720F546C0804290BBA4641ADB","ha":true,"master":{"address":"127.77.1.1","hostKeyFingerprint":"SHA256:TOIrkQf63QP3mxdpDbkjiOqnmLIu1LleJBFD3b66jVw","name":"ovs1","port":22},"members":[{"address":"127.77.1.2","hostKeyFingerprint":"SHA256:rFTE1jC6udnvZbLc6zr58dM5wTfr8XHZwz3dbB6EknE","name":"ovs2","port":22}],"name":"pool1"},"preferredServers":"auto","priority":50,"running":true,"runningOn":"ovs1","stateVersion":1,"unreachableServers":[],"vcpus":1,"vmCfgPath":"/OVS/running_pool/web1/vm.cfg"}}};

describe("state written by this release keeps working", () => {
  const opsOf = (type: string) => ({ SharedDisk: sharedDiskOps, Cluster: clusterOps, ServerPool: serverPoolOps, Guest: guestOps })[type.split(":").pop() as string]!;

  it("carries its schema/state versions", () => {
    const versions = Object.values(STATE_V1).map((r) => `${r.type.split(":").pop()}:${r.outputs.schemaVersion ?? r.outputs.stateVersion}`);
    expect(versions.sort()).to.deep.equal(["Cluster:1", "Cluster:1", "Guest:1", "ServerPool:1", "SharedDisk:1"]);
  });

  for (const [name, r] of Object.entries(STATE_V1)) {
    it(`${name} (${r.type.split(":").pop()}): check accepts the recorded inputs and diff against the recorded outputs finds no change`, async () => {
      const ops = opsOf(r.type);
      const chk = await ops.check(r.inputs, r.inputs);
      expect(chk.failures ?? []).to.deep.equal([]);
      const d = await ops.diff(r.id, r.outputs, chk.inputs as Record<string, unknown>);
      expect([d.changes, d.replaces ?? []]).to.deep.equal([false, []]);
    });
  }
});
