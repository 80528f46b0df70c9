// SharedDisk never writes to a disk that holds data without `overwrite`, and adopts a volume only by its identity
// (issue 9, points 1, 2, 8). Each case puts real data on the lab's SAN disk with the real tools (sfdisk, mkfs.ext4,
// mkfs.ocfs2, pvcreate's label), runs `up` through the engine harness, and then reads the disk itself: the
// partition table's disk identifier, the ext4 superblock byte for byte, the OCFS2 volume's UUID.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { Stack } from "../engine";
import { startTestLab, TestLab } from "../support/lab";
import { SharedDisk, SharedDiskArgs } from "../../provider/resources/shared-disk";
import { rescanLun } from "../../lab/devices";
import { ok } from "../support/engine-ok";

const projectDir = path.resolve(__dirname, "../../..");
const FORMAT = { label: "labroot", nodeSlots: 4, journalSize: "4M" };
/** The real sfdisk kept beside the lab's wrapper: writes a table without the kernel re-reading it (no sdX1 node). */
const REAL_SFDISK = "/usr/libexec/ovm-lab/real/sfdisk";

describe("SharedDisk keeps data (lab)", function () {
  this.timeout(180000);
  let lab: TestLab;

  const sh = async (server: string, script: string) => lab.inServer(server, ["sh", "-c", script]);
  const shOk = async (server: string, script: string) => {
    const r = await sh(server, script);
    expect(r.code, `${script}\n${r.stdout}${r.stderr}`).to.equal(0);
    return r.stdout;
  };
  const servers = () => lab.info.servers.map((s) => ({ name: s.name, address: s.address, port: s.port, hostKeyFingerprint: s.hostKeyFingerprint }));
  const dev = () => lab.info.storage.san[0].device;
  const newStack = () => {
    const stack = new Stack({ project: "shared-disk-data", projectDir });
    stack.setConfig("sshPrivateKey", fs.readFileSync(lab.info.privateKeyPath, "utf8"), { secret: true });
    stack.setConfig("sshKnownHosts", lab.info.knownHostsPath);
    stack.setConfig("sshConnectTimeoutMs", "3000");
    return stack;
  };
  const san = (extra: Partial<SharedDiskArgs> = {}): SharedDiskArgs => ({ kind: "san", device: dev(), servers: servers(), format: FORMAT, mount: false, ...extra });
  const program = (args: SharedDiskArgs) => () => {
    new SharedDisk("disk", args);
  };

  /** Zeroes the start of the disk and lets every server re-read it (no table, no partition nodes). */
  const blank = async () => {
    await shOk("ovs1", `dd if=/dev/zero of=${dev()} bs=1M count=48 conv=fsync 2>/dev/null`);
    await rescanLun(lab.dir, lab.info.storage.san[0].lun);
  };
  /** A DOS table with one Linux partition, written as another host would (`visible`: the kernel re-read it here). */
  const dosTable = async (startSector: number, visible: boolean) =>
    shOk("ovs1", `printf 'label: dos\\nstart=${startSector}, size=65536, type=83\\n' | ${visible ? "sfdisk" : REAL_SFDISK} -q ${dev()}`);
  const tableDump = async () => shOk("ovs1", `${REAL_SFDISK} -d ${dev()}`);
  const ext4At = async (startSector: number) => shOk("ovs1", `mkfs.ext4 -q -F -L userdata -E offset=${startSector * 512} ${dev()} 16M && sync`);
  /** The ext4 superblock (1 KiB at 1 KiB into the file system), hashed, and the UUID blkid finds there. */
  const ext4Fingerprint = async (startSector: number) => ({
    superblock: await shOk("ovs1", `dd if=${dev()} bs=512 skip=${startSector + 2} count=2 2>/dev/null | sha256sum`),
    uuid: (await shOk("ovs1", `blkid -p -O ${startSector * 512} -o value -s UUID ${dev()}`)).trim(),
  });
  const nodeVisible = async (server: string, node: string) => (await sh(server, `[ -b ${node} ]`)).code === 0;

  before(async () => {
    lab = await startTestLab({ servers: 2 });
    for (const s of ["ovs1", "ovs2"]) await shOk(s, "/usr/lib/ovs/ovs-cluster-configure");
  });
  after(async () => {
    await lab?.down();
  });

  it("the issue's case: a DOS table whose partition 1 (sector 4096, no node here) holds ext4 is refused; table and ext4 untouched", async () => {
    await blank();
    await dosTable(4096, false);
    await ext4At(4096);
    expect(await nodeVisible("ovs1", `${dev()}1`)).to.equal(false);
    const table = await tableDump();
    expect(table).to.match(/label-id: 0x[0-9a-f]{8}/);
    const fp = await ext4Fingerprint(4096);
    expect(fp.uuid).to.match(/^[0-9a-f-]{36}$/);
    const stack = newStack();
    const up = await stack.up(program(san()));
    expect(up.errors).to.have.length(1);
    const msg = up.errors[0].message;
    expect(msg).to.contain(dev()).and.to.contain("ovs1").and.to.contain("ext4").and.to.contain(fp.uuid).and.to.contain("4096").and.to.contain("overwrite");
    expect(msg.split("\n").length, msg).to.be.lessThan(8);
    expect(stack.resource("disk")).to.equal(undefined);
    expect(await tableDump()).to.equal(table);
    expect(await ext4Fingerprint(4096)).to.deep.equal(fp);
  });

  it("a visible partition at sector 2048 holding ext4: refused before anything is written (same disk identifier)", async () => {
    await blank();
    await dosTable(2048, true);
    await ext4At(2048);
    expect(await nodeVisible("ovs1", `${dev()}1`)).to.equal(true);
    const table = await tableDump();
    const fp = await ext4Fingerprint(2048);
    const up = await newStack().up(program(san()));
    expect(up.errors).to.have.length(1);
    expect(up.errors[0].message).to.contain(`${dev()}`).and.to.contain("ext4").and.to.contain("overwrite");
    expect(await tableDump()).to.equal(table);
    expect(await ext4Fingerprint(2048)).to.deep.equal(fp);
  });

  it("a partition table with an entry and no file system in it is data too: refused, table untouched", async () => {
    await blank();
    await dosTable(2048, true);
    const table = await tableDump();
    const up = await newStack().up(program(san()));
    expect(up.errors).to.have.length(1);
    expect(up.errors[0].message).to.contain("partition table").and.to.contain("overwrite");
    expect(await tableDump()).to.equal(table);
    expect((await sh("ovs1", `blkid -p ${dev()}1`)).code, "partition 1 still holds nothing").to.equal(2);
  });

  it("an empty DOS table (no entries) gets one partition appended under the same disk identifier, then the volume", async () => {
    await blank();
    await shOk("ovs1", `printf 'label: dos\\n' | sfdisk -q ${dev()}`);
    const id = /label-id: (\S+)/.exec(await tableDump())![1];
    const stack = newStack();
    ok(await stack.up(program(san())));
    const outs = stack.resource("disk")!.outputs;
    expect(outs.formatted).to.equal(true);
    expect(outs.devicePath).to.equal(`${dev()}1`);
    const after = await tableDump();
    expect(/label-id: (\S+)/.exec(after)![1]).to.equal(id);
    expect(after).to.match(/1 : start= *2048, /);
    ok(await stack.destroy());
  });

  it("an LVM physical volume on the whole disk is refused, its label untouched", async () => {
    await blank();
    // The first 8 KiB pvcreate (LVM 2.03.16) wrote on a scratch device: label, PV header, metadata area header.
    const head = path.join(projectDir, "test", "fixtures", "samples", "lvm2-pv-head-2.03.16.bin");
    fs.copyFileSync(head, path.join(lab.dir, "pv-head.bin"));
    await shOk("ovs1", `dd if=${path.join(lab.dir, "pv-head.bin")} of=${dev()} conv=notrunc,fsync 2>/dev/null`);
    expect((await shOk("ovs1", `blkid -p -o value -s TYPE ${dev()}`)).trim()).to.equal("LVM2_member");
    const before = await shOk("ovs1", `dd if=${dev()} bs=512 count=16 2>/dev/null | sha256sum`);
    const up = await newStack().up(program(san()));
    expect(up.errors).to.have.length(1);
    expect(up.errors[0].message).to.contain("LVM2_member").and.to.contain(dev()).and.to.contain("overwrite");
    expect(await shOk("ovs1", `dd if=${dev()} bs=512 count=16 2>/dev/null | sha256sum`)).to.equal(before);
    expect(await nodeVisible("ovs1", `${dev()}1`), "no partition written").to.equal(false);
  });

  it("someone else's OCFS2 volume labelled ovsroot is not adopted by its label; adoptVolume with its UUID adopts it", async () => {
    await blank();
    await shOk("ovs1", `echo ',,83' | sfdisk -q ${dev()} && mkfs.ocfs2 -q -L ovsroot -N 4 -J size=4M ${dev()}1 </dev/null`);
    const dashed = (await shOk("ovs1", `blkid -p -o value -s UUID ${dev()}1`)).trim();
    const uuid = dashed.replace(/-/g, "").toUpperCase();
    const table = await tableDump();
    const stack = newStack();
    const refused = await stack.up(program(san({ format: { ...FORMAT, label: "ovsroot" } })));
    expect(refused.errors).to.have.length(1);
    const msg = refused.errors[0].message;
    expect(msg).to.contain('"ovsroot"').and.to.contain(uuid).and.to.contain("adoptVolume").and.to.contain(dev());
    expect(stack.resource("disk")).to.equal(undefined);
    const adopt = san({ format: { ...FORMAT, label: "ovsroot" }, adoptVolume: dashed, mount: true, mountPoint: "/OVS/adopted" });
    ok(await stack.up(program(adopt)));
    const outs = stack.resource("disk")!.outputs;
    expect(outs.formatted).to.equal(false);
    expect(outs.volumeUuid).to.equal(uuid);
    expect((await shOk("ovs1", `blkid -p -o value -s UUID ${dev()}1`)).trim()).to.equal(dashed);
    expect(await tableDump()).to.equal(table);
    // A UUID the disk does not hold: refused, nothing formatted.
    ok(await stack.destroy());
    const wrong = await newStack().up(program(san({ adoptVolume: "0123456789ABCDEF0123456789ABCDEF" })));
    expect(wrong.errors).to.have.length(1);
    expect(wrong.errors[0].message).to.contain("0123456789ABCDEF0123456789ABCDEF").and.to.contain(uuid);
    expect((await shOk("ovs1", `blkid -p -o value -s UUID ${dev()}1`)).trim()).to.equal(dashed);
  });

  it("overwrite formats partition 1 in place: the table (disk identifier, extents) is not rewritten", async () => {
    await blank();
    await dosTable(4096, true);
    await ext4At(4096);
    const table = await tableDump();
    const stack = newStack();
    ok(await stack.up(program(san({ overwrite: true }))));
    expect(await tableDump()).to.equal(table);
    expect((await shOk("ovs1", `blkid -p -o value -s TYPE ${dev()}1`)).trim()).to.equal("ocfs2");
    expect(stack.resource("disk")!.outputs.formatted).to.equal(true);
    ok(await stack.destroy());
  });

  it("overwrite over an OCFS2 volume with o2cb offline: mkfs.ocfs2's cluster check refuses; the error is the step, server, exit code and stderr's last lines", async () => {
    await blank();
    await shOk("ovs1", `echo ',,83' | sfdisk -q ${dev()} && mkfs.ocfs2 -q -L foreign -N 4 -J size=4M ${dev()}1 </dev/null`);
    const uuid = (await shOk("ovs1", `blkid -p -o value -s UUID ${dev()}1`)).trim();
    await shOk("ovs1", "service o2cb offline ocfs2 >/dev/null; service o2cb status | grep -q 'Offline'");
    try {
      const up = await newStack().up(program(san({ overwrite: true })));
      expect(up.errors).to.have.length(1);
      const msg = up.errors[0].message;
      expect(msg).to.contain(`formatting ${dev()}1 (mkfs.ocfs2) on ovs1 failed (exit 1): cluster-unavailable: mkfs.ocfs2: Unable to access cluster service while initializing the cluster`);
      expect(msg).to.contain("o2cb online");
      expect(msg).to.not.match(/sh -c|set -e|mkfs\.ocfs2 -x|BEGIN .*PRIVATE KEY/);
      expect(msg.split("\n").length, msg).to.be.lessThan(6);
    } finally {
      await shOk("ovs1", "service o2cb online ocfs2 >/dev/null; service o2cb status | grep -q 'Online'");
    }
    // mkfs.ocfs2 refused: the volume is the one that was there.
    expect((await shOk("ovs1", `blkid -p -o value -s UUID ${dev()}1`)).trim()).to.equal(uuid);
  });

  it("the table this stack wrote is recorded: with its partition found empty (a create cut before mkfs) up formats it, keeping the table", async () => {
    await blank();
    const stack = newStack();
    ok(await stack.up(program(san())));
    const first = stack.resource("disk")!.outputs;
    const id = /label-id: (\S+)/.exec(await tableDump())![1];
    expect(first.partitionTableId).to.equal(id);
    // What a create cut between sfdisk and mkfs.ocfs2 leaves: our table, partition 1 holding nothing.
    await shOk("ovs1", `dd if=/dev/zero of=${dev()}1 bs=1M count=8 conv=fsync 2>/dev/null`);
    expect((await sh("ovs1", `blkid -p ${dev()}1`)).code).to.equal(2);
    // refresh sees the volume gone (drift), so the next up converges.
    ok(await stack.refresh());
    expect(ok(await stack.preview(program(san()))).step("disk")!.op).to.equal("update");
    ok(await stack.up(program(san())));
    const outs = stack.resource("disk")!.outputs;
    expect(outs.formatted).to.equal(true);
    expect(outs.volumeUuid).to.match(/^[0-9A-F]{32}$/).and.to.not.equal(first.volumeUuid);
    expect(/label-id: (\S+)/.exec(await tableDump())![1]).to.equal(id);
    ok(await stack.destroy());
  });

  it("destroy removes the mount point it created (/OVS/data) and keeps one that was there before", async () => {
    await blank();
    for (const s of ["ovs1", "ovs2"]) await sh(s, "rmdir /OVS/data 2>/dev/null; mkdir -p /OVS/kept");
    const stack = newStack();
    ok(await stack.up(program(san({ mount: true, mountPoint: "/OVS/data" }))));
    for (const s of ["ovs1", "ovs2"]) expect(await shOk(s, "grep -c ' /OVS/data ' /etc/mtab"), s).to.equal("1\n");
    ok(await stack.destroy());
    for (const s of ["ovs1", "ovs2"]) {
      expect((await sh(s, "[ -e /OVS/data ]")).code, `${s}: /OVS/data removed`).to.equal(1);
      expect((await sh(s, "[ -d /OVS ]")).code, `${s}: /OVS kept (it was there)`).to.equal(0);
    }
    // Destroy kept the volume (data is never wiped): a new stack starts from a blank disk again.
    await blank();
    const kept = newStack();
    ok(await kept.up(program(san({ mount: true, mountPoint: "/OVS/kept" }))));
    ok(await kept.destroy());
    for (const s of ["ovs1", "ovs2"]) expect((await sh(s, "[ -d /OVS/kept ]")).code, `${s}: /OVS/kept was there before`).to.equal(0);
  });
});
