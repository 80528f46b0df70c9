// SharedDisk end to end: the program runs under the engine harness (the SDK's real dynamic-provider host over
// gRPC), the provider acts over SSH on a lab of simulated Oracle VM servers, and the tests look at the servers
// directly (lab.inServer) to see what really happened: SAN, iSCSI and NFS lifecycles, data never reformatted,
// a failure part-way resumed, drift seen by refresh, destroy keeping the data.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { Stack } from "../engine";
import { startTestLab, TestLab } from "../support/lab";
import { SharedDisk, SharedDiskArgs } from "../../provider/resources/shared-disk";
import { ok } from "../support/engine-ok";

const projectDir = path.resolve(__dirname, "../../..");
const FORMAT = { label: "labroot", nodeSlots: 4, journalSize: "4M" };

describe("SharedDisk on the lab (engine harness)", function () {
  this.timeout(180000);
  let lab: TestLab;

  const sh = async (server: string, script: string) => lab.inServer(server, ["sh", "-c", script]);
  const servers = () => lab.info.servers.map((s) => ({ name: s.name, address: s.address, port: s.port, hostKeyFingerprint: s.hostKeyFingerprint }));
  const names = () => lab.info.servers.map((s) => s.name);
  const newStack = () => {
    const stack = new Stack({ project: "shared-disk-lab", projectDir });
    stack.setConfig("sshPrivateKey", fs.readFileSync(lab.info.privateKeyPath, "utf8"), { secret: true });
    stack.setConfig("sshKnownHosts", lab.info.knownHostsPath);
    stack.setConfig("sshConnectTimeoutMs", "3000");
    return stack;
  };
  const program = (args: SharedDiskArgs) => () => {
    new SharedDisk("disk", args);
  };
  const mtabLine = async (server: string, mountPoint: string) =>
    (await sh(server, "cat /etc/mtab")).stdout.split("\n").find((l) => l.split(/\s+/)[1] === mountPoint);
  const fstab = async (server: string) => (await sh(server, "cat /etc/fstab")).stdout;
  /** The fstab line of a volume (32 hex digits in state): `UUID=` in blkid's dashed lower-case form. */
  const uuidLine = (volumeUuid: string, mountPoint: string) =>
    `UUID=${volumeUuid.toLowerCase().replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5")} ${mountPoint} ocfs2 _netdev,datavolume,nointr 0 0`;
  /** Rewrites a server's ovm-ha line for the mount point as an earlier release wrote it (the /dev path). */
  const oldReleaseLine = async (server: string, device: string, mountPoint: string) => {
    const r = await sh(server, `sed -i 's|^UUID=[0-9a-f-]* ${mountPoint} |${device} ${mountPoint} |' /etc/fstab && grep ' ${mountPoint} ' /etc/fstab`);
    expect(r.stdout, server).to.equal(`${device} ${mountPoint} ocfs2 _netdev,datavolume,nointr 0 0\n`);
  };
  const fstabStamp = async (server: string) => (await sh(server, "stat -c %Y.%i /etc/fstab")).stdout.trim();

  before(async () => {
    lab = await startTestLab({ servers: 2 });
    // OCFS2 mounts need o2cb online (the Cluster resource's job; here the seed's script, one node per server).
    for (const s of names()) {
      const r = await sh(s, "/usr/lib/ovs/ovs-cluster-configure");
      expect(r.code, r.stdout + r.stderr).to.equal(0);
    }
  });
  after(async () => {
    await lab?.down();
  });

  describe("san", () => {
    const stack = () => sanStack;
    let sanStack: Stack;
    const san = () => ({ kind: "san" as const, device: lab.info.storage.san[0].device, servers: servers(), format: FORMAT });
    let uuid = "";

    before(() => {
      sanStack = newStack();
    });

    it("preview plans a create and touches no server (an unreachable address is fine)", async () => {
      const t0 = Date.now();
      const plan = ok(await stack().preview(program({ ...san(), servers: [{ name: "ovs9", address: "192.0.2.99" }] })));
      expect(plan.steps.map((s) => [s.op, s.name])).to.deep.equal([["create", "disk"]]);
      expect(plan.calls.Create + plan.calls.Read + plan.calls.Update).to.equal(0);
      // A connection attempt to 192.0.2.99 would take the 3 s connect deadline and fail.
      expect(Date.now() - t0).to.be.lessThan(3000 + 5000);
      expect(plan.step("disk")!.inputs!.mountPoint).to.equal("/OVS/remote");
    });

    it("refuses a device holding another volume, naming it, and changes nothing", async () => {
      const dev = lab.info.storage.san[0].device;
      const mk = await sh("ovs1", `mkfs.ocfs2 -L precious -N 4 -J size=4M ${dev}`);
      expect(mk.code, mk.stderr).to.equal(0);
      const up = await stack().up(program(san()));
      expect(up.errors).to.have.length(1);
      expect(up.errors[0].message).to.contain(dev).and.to.contain('label "precious"').and.to.contain("overwrite");
      expect(stack().resource("disk")).to.equal(undefined);
      expect((await sh("ovs1", `blkid -o value -s LABEL ${dev}`)).stdout.trim()).to.equal("precious");
      expect((await sh("ovs2", `[ -b ${dev}1 ] && echo yes || echo no`)).stdout.trim()).to.equal("no");
      expect(await mtabLine("ovs1", "/OVS/remote")).to.equal(undefined);
      // Make the disk empty again for the lifecycle below.
      expect((await sh("ovs1", `dd if=/dev/zero of=${dev} bs=1M count=16 2>/dev/null`)).code).to.equal(0);
    });

    it("up partitions and formats once, mounts on every server with one fstab line each", async () => {
      const up = ok(await stack().up(program(san())));
      expect(up.ops("create").map((s) => s.name)).to.deep.equal(["disk"]);
      const outs = stack().resource("disk")!.outputs;
      const part = `${lab.info.storage.san[0].device}1`;
      expect(outs.devices).to.deep.equal({ ovs1: part, ovs2: part });
      expect(outs.devicePath).to.equal(part);
      expect(outs.formatted).to.equal(true);
      expect(outs.volumeLabel).to.equal("labroot");
      expect(outs.mountedOn).to.deep.equal(["ovs1", "ovs2"]);
      expect(outs.schemaVersion).to.equal(1);
      uuid = outs.volumeUuid as string;
      expect(uuid).to.match(/^[0-9A-F]{32}$/);
      for (const s of names()) {
        expect(await mtabLine(s, "/OVS/remote"), s).to.match(new RegExp(`^${part} /OVS/remote ocfs2 `));
        // The line names the volume by UUID (as blkid prints it on that server), not by the /dev path.
        const lines = (await fstab(s)).split("\n").filter((l) => l.includes("/OVS/remote"));
        expect(lines, s).to.deep.equal([uuidLine(uuid, "/OVS/remote")]);
        const dashed = (await sh(s, `blkid -o value -s UUID ${part}`)).stdout.trim();
        expect(lines[0].startsWith(`UUID=${dashed} `), s).to.equal(true);
        expect((await sh(s, "ls /etc/fstab.ovm-ha.bak")).code, "fstab backup").to.equal(0);
      }
      // The same volume on both servers: a file written on one is seen on the other.
      expect((await sh("ovs1", "echo precious-data > /OVS/remote/keep.txt")).code).to.equal(0);
      expect((await sh("ovs2", "cat /OVS/remote/keep.txt")).stdout).to.equal("precious-data\n");
    });

    it("a second up changes nothing: same step, fstab untouched, no second format", async () => {
      const before = await Promise.all(names().map(fstabStamp));
      const up = ok(await stack().up(program(san())));
      expect(up.steps.map((s) => s.op)).to.deep.equal(["same"]);
      expect(await Promise.all(names().map(fstabStamp))).to.deep.equal(before);
      expect(stack().resource("disk")!.outputs.volumeUuid).to.equal(uuid);
      expect((await sh("ovs2", "cat /OVS/remote/keep.txt")).stdout).to.equal("precious-data\n");
    });

    it("refresh shows a hand-made unmount as drift (an earlier release's /dev line is not); the next up mounts again and writes UUID=", async () => {
      const part = `${lab.info.storage.san[0].device}1`;
      await oldReleaseLine("ovs1", part, "/OVS/remote");
      expect((await sh("ovs2", "umount /OVS/remote")).code).to.equal(0);
      const refresh = ok(await stack().refresh());
      expect(refresh.step("disk")!.op).to.equal("update");
      const outs = stack().resource("disk")!.outputs;
      expect(outs.mountedOn).to.deep.equal(["ovs1"]);
      expect((outs.servers as { name: string }[]).map((s) => s.name)).to.deep.equal(["ovs1"]);
      const plan = ok(await stack().preview(program(san())));
      expect(plan.step("disk")!.op).to.equal("update");
      const up = ok(await stack().up(program(san())));
      expect(up.step("disk")!.op).to.equal("update");
      expect(await mtabLine("ovs2", "/OVS/remote")).to.match(/ocfs2/);
      expect(stack().resource("disk")!.outputs.volumeUuid).to.equal(uuid);
      for (const s of names()) expect((await fstab(s)).split("\n").filter((l) => l.includes("/OVS/remote")), s).to.deep.equal([uuidLine(uuid, "/OVS/remote")]);
      expect(ok(await stack().refresh()).step("disk")!.op).to.equal("same");
    });

    it("a server that does not answer is kept as it was at refresh (not drift); after power-on up converges", async () => {
      await lab.fault("crash", "ovs2");
      const refresh = ok(await stack().refresh());
      const outs = stack().resource("disk")!.outputs;
      expect(refresh.errors).to.deep.equal([]);
      expect(outs.unreachableServers).to.deep.equal(["ovs2"]);
      expect((outs.servers as { name: string }[]).map((s) => s.name)).to.deep.equal(["ovs1", "ovs2"]);
      expect(ok(await stack().preview(program(san()))).step("disk")!.op).to.equal("same");
      await lab.fault("power-on", "ovs2");
      // Boot mounted the UUID= line by itself (o2cb is enabled there); mtab names the device it found.
      expect(await mtabLine("ovs2", "/OVS/remote")).to.match(new RegExp(`^${lab.info.storage.san[0].device}1 /OVS/remote ocfs2 `));
      ok(await stack().up(program(san())));
      expect(await mtabLine("ovs2", "/OVS/remote")).to.match(/ocfs2/);
      ok(await stack().refresh());
      expect(stack().resource("disk")!.outputs.unreachableServers).to.deep.equal([]);
    });

    it("destroy unmounts and removes the fstab lines (an earlier release's /dev line too), and keeps the data", async () => {
      await oldReleaseLine("ovs2", `${lab.info.storage.san[0].device}1`, "/OVS/remote");
      ok(await stack().destroy());
      expect(stack().resources).to.have.length(0);
      for (const s of names()) {
        expect(await mtabLine(s, "/OVS/remote"), s).to.equal(undefined);
        expect(await fstab(s), s).to.not.contain("/OVS/remote");
      }
      expect(fs.readFileSync(path.join(lab.dir, "storage", "volumes", uuid, "keep.txt"), "utf8")).to.equal("precious-data\n");
      expect((await sh("ovs1", `blkid -o value -s LABEL ${lab.info.storage.san[0].device}1`)).stdout.trim()).to.equal("labroot");
    });

    it("a new SharedDisk on the same disk refuses the volume by its label alone, and adopts it by its UUID (adoptVolume)", async () => {
      const refused = await stack().up(program(san()));
      expect(refused.errors).to.have.length(1);
      expect(refused.errors[0].message).to.contain(`adoptVolume: "${uuid}"`).and.to.contain('label "labroot"');
      const up = ok(await stack().up(program({ ...san(), adoptVolume: uuid })));
      expect(up.ops("create")).to.have.length(1);
      const outs = stack().resource("disk")!.outputs;
      expect(outs.formatted).to.equal(false);
      expect(outs.volumeUuid).to.equal(uuid);
      expect((await sh("ovs2", "cat /OVS/remote/keep.txt")).stdout).to.equal("precious-data\n");
      ok(await stack().destroy());
    });
  });

  describe("iscsi", () => {
    let stack: Stack;
    const iscsi = () => ({
      kind: "iscsi" as const,
      portal: { address: lab.info.storage.iscsi.portalAddress, port: lab.info.storage.iscsi.port },
      targets: [lab.info.storage.iscsi.targets[0].iqn],
      mountPoint: "/OVS/iscsi",
      servers: servers(),
      format: FORMAT,
    });
    const sessions = async (s: string) => (await sh(s, "iscsiadm -m session")).stdout.trim().split("\n").filter(Boolean);

    before(() => {
      stack = newStack();
    });

    it("a server down mid-create: up fails, the resource stays in state with what was done", async () => {
      await lab.fault("crash", "ovs2");
      const up = await stack.up(program(iscsi()));
      expect(up.errors).to.have.length(1);
      expect(up.errors[0].message).to.contain("ovs2");
      const r = stack.resource("disk")!;
      expect(r, "kept in state").to.not.equal(undefined);
      expect(r.initErrors?.length).to.be.greaterThan(0);
      expect(Object.keys(r.outputs.disks as object)).to.deep.equal(["ovs1"]);
      expect(await sessions("ovs1")).to.have.length(1);
    });

    it("after power-on the next up resumes and converges without a second login on the first server", async () => {
      await lab.fault("power-on", "ovs2");
      const up = ok(await stack.up(program(iscsi())));
      expect(up.step("disk")!.op).to.equal("update");
      const outs = stack.resource("disk")!.outputs;
      expect(stack.resource("disk")!.initErrors).to.equal(undefined);
      expect(outs.mountedOn).to.deep.equal(["ovs1", "ovs2"]);
      // One session, still the first one (sid 1): the re-run found the disk without logging in again.
      expect(await sessions("ovs1")).to.deep.equal([`tcp: [1] ${lab.info.storage.iscsi.portal},${lab.info.storage.iscsi.targets[0].tpgt} ${lab.info.storage.iscsi.targets[0].iqn}`]);
      // Only the selected target keeps a node record (seed 9.2.1 step 4).
      for (const s of names()) {
        expect((await sh(s, "iscsiadm -m node")).stdout.trim(), s).to.equal(`${lab.info.storage.iscsi.portal},${lab.info.storage.iscsi.targets[0].tpgt} ${lab.info.storage.iscsi.targets[0].iqn}`);
        const dev = (outs.devices as Record<string, string>)[s];
        expect(await mtabLine(s, "/OVS/iscsi"), s).to.match(new RegExp(`^${dev} /OVS/iscsi ocfs2 `));
        expect((await fstab(s)).split("\n").filter((l) => l.includes("/OVS/iscsi")), s).to.deep.equal([uuidLine(outs.volumeUuid as string, "/OVS/iscsi")]);
      }
      expect((await sh("ovs1", "echo on-iscsi > /OVS/iscsi/file.txt")).code).to.equal(0);
      expect((await sh("ovs2", "cat /OVS/iscsi/file.txt")).stdout).to.equal("on-iscsi\n");
    });

    it("destroy logs out, removes the node records and fstab lines, keeps the data", async () => {
      const uuid = stack.resource("disk")!.outputs.volumeUuid as string;
      ok(await stack.destroy());
      for (const s of names()) {
        expect(await sessions(s), s).to.deep.equal([]);
        expect((await sh(s, "iscsiadm -m node")).code, s).to.equal(21);
        expect(await mtabLine(s, "/OVS/iscsi"), s).to.equal(undefined);
        expect(await fstab(s), s).to.not.contain("/OVS/iscsi");
      }
      expect(fs.readFileSync(path.join(lab.dir, "storage", "volumes", uuid, "file.txt"), "utf8")).to.equal("on-iscsi\n");
    });
  });

  describe("nfs", () => {
    let stack: Stack;
    const nfs = () => ({ kind: "nfs" as const, export: lab.info.storage.nfs.export, mountPoint: "/OVS/nfs", servers: servers() });

    before(() => {
      stack = newStack();
    });

    it("up mounts the export everywhere; a second up changes nothing; destroy unmounts and keeps the files", async () => {
      ok(await stack.up(program(nfs())));
      for (const s of names()) {
        expect(await mtabLine(s, "/OVS/nfs"), s).to.match(new RegExp(`^${lab.info.storage.nfs.export} /OVS/nfs nfs `));
        expect(await fstab(s), s).to.contain(`${lab.info.storage.nfs.export} /OVS/nfs nfs rw,hard,intr,tcp,nfsvers=3,timeo=600,retrans=2,_netdev 0 0`);
      }
      expect((await sh("ovs1", "echo shared > /OVS/nfs/hello.txt")).code).to.equal(0);
      const before = await Promise.all(names().map(fstabStamp));
      expect(ok(await stack.up(program(nfs()))).steps.map((s) => s.op)).to.deep.equal(["same"]);
      expect(await Promise.all(names().map(fstabStamp))).to.deep.equal(before);
      ok(await stack.destroy());
      for (const s of names()) {
        expect(await mtabLine(s, "/OVS/nfs"), s).to.equal(undefined);
        expect(await fstab(s), s).to.not.contain("/OVS/nfs");
      }
      expect(fs.readFileSync(path.join(lab.dir, "storage", "nfs", "export", "ovs", "hello.txt"), "utf8")).to.equal("shared\n");
    });
  });
});
