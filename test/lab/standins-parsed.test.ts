// The lab's stand-ins and the provider's parsers were written apart, each from formats.md. Here the provider's own
// command builders run over the provider's own SSH layer against lab servers, and the provider's parsers read what
// the stand-ins (and the real ocfs2-tools) print: if either side got a format wrong, this fails.
import { expect } from "chai";
import * as fs from "fs";
import { startTestLab, TestLab } from "../support/lab";
import { SshPool, ServerEndpoint } from "../../provider/ssh";
import * as cmd from "../../provider/commands";
import * as parse from "../../provider/parsers";

describe("lab stand-ins, read by the provider's parsers", function () {
  this.timeout(180000);
  let lab: TestLab;
  let pool: SshPool;
  const ep = (i: number): ServerEndpoint => {
    const s = lab.info.servers[i];
    return { name: s.name, address: s.address, port: s.port, hostKeyFingerprint: s.hostKeyFingerprint };
  };
  const run = async (i: number, argv: string[], okCodes = [0], input?: string) => pool.exec(ep(i), argv, { okCodes, input });
  let disk = "";
  let part = "";
  let uuid = "";

  before(async () => {
    lab = await startTestLab({ servers: 2 });
    pool = new SshPool({ credentials: { user: "root", privateKey: fs.readFileSync(lab.info.privateKeyPath), knownHostsPath: lab.info.knownHostsPath } });
  });
  after(async () => {
    pool?.close();
    await lab?.down();
  });

  it("iscsiadm discovery, node delete and node listing", async () => {
    const { portal, targets } = lab.info.storage.iscsi;
    for (const i of [0, 1]) {
      const found = parse.parseIscsiDiscovery((await run(i, cmd.iscsiDiscovery(portal))).stdout);
      expect(found.map((t) => t.iqn)).to.deep.equal(targets.map((t) => t.iqn));
      expect(found.map((t) => t.tpgt)).to.deep.equal(targets.map((t) => t.tpgt));
      for (const t of found.slice(1)) await run(i, cmd.iscsiNodeDelete(t.portal, t.tpgt, t.iqn));
      const nodes = parse.parseIscsiNodes((await run(i, cmd.iscsiNodes())).stdout);
      expect(nodes.map((t) => t.iqn)).to.deep.equal([targets[0].iqn]);
    }
  });

  it("login output, sessions, and the new disk in /proc/partitions", async () => {
    const { portal, targets } = lab.info.storage.iscsi;
    const before = parse.parseProcPartitions((await run(0, cmd.readFile("/proc/partitions"))).stdout);
    const login = await run(0, cmd.iscsiLogin(portal, targets[0].iqn));
    const out = parse.parseIscsiLoginOutput(login.stdout + login.stderr);
    expect(out.succeeded.length).to.equal(1);
    const again = await run(0, cmd.iscsiLogin(portal, targets[0].iqn), [0, 15]);
    expect(parse.iscsiExitMeaning(again.code!, "login").satisfied).to.equal(true);
    const sessions = parse.parseIscsiSessions((await run(0, cmd.iscsiSessions())).stdout);
    expect(sessions.map((s) => s.iqn)).to.deep.equal([targets[0].iqn]);
    const after = parse.parseProcPartitions((await run(0, cmd.readFile("/proc/partitions"))).stdout);
    const added = parse.addedPartitions(before, after);
    expect(added.length).to.equal(1);
    disk = "/dev/" + added[0].name;
    expect(added[0].blocks).to.equal(256 * 1024);
    // The second server logs in too (shared LUN).
    await run(1, cmd.iscsiLogin(portal, targets[0].iqn));
  });

  it("sfdisk partitions once; the real mkfs.ocfs2 and blkid, mounted.ocfs2 on the other server", async () => {
    const spec = cmd.sfdiskOnePartition(disk);
    await run(0, spec.argv, [0], spec.stdin);
    part = cmd.partitionDevice(disk, 1);
    const rows = parse.parseProcPartitions((await run(1, cmd.readFile("/proc/partitions"))).stdout);
    expect(rows.map((r) => "/dev/" + r.name)).to.include(part);
    const probe = await run(0, cmd.blkidProbe(part), [0, 2]);
    expect(parse.parseBlkidType(probe.stdout, probe.code!)).to.equal(null);
    const mkfs = await run(0, cmd.mkfsOcfs2({ device: part, label: "ovsroot", nodeSlots: 4, journalSize: "4M" }), [0, 1]);
    const result = parse.parseMkfsOcfs2Output(mkfs.stdout + mkfs.stderr, mkfs.code!);
    expect(result.outcome).to.equal("success");
    expect(result.label).to.equal("ovsroot");
    expect(result.nodeSlots).to.equal(4);
    const full = parse.parseBlkid((await run(1, cmd.blkidFull(part))).stdout);
    expect(full[0].type).to.equal("ocfs2");
    expect(full[0].label).to.equal("ovsroot");
    uuid = full[0].uuid!;
    const volumes = parse.parseMountedOcfs2Detect((await run(1, cmd.mountedOcfs2Detect())).stdout);
    const v = volumes.find((x) => x.device === part);
    expect(v, JSON.stringify(volumes)).to.not.equal(undefined);
    expect(v!.uuid).to.equal(uuid.replace(/-/g, "").toUpperCase());
    expect(v!.label).to.equal("ovsroot");
    // A second format is refused by the real tool, and the parser says so.
    const again = await run(0, cmd.mkfsOcfs2({ device: part, label: "other", nodeSlots: 4, journalSize: "4M" }), [0, 1]);
    expect(parse.parseMkfsOcfs2Output(again.stdout + again.stderr, again.code!).outcome).to.not.equal("success");
  });

  it("service o2cb status offline, then online after ovs-cluster-configure; mount and /etc/mtab", async () => {
    const off = parse.parseO2cbStatus((await run(0, cmd.serviceO2cb("status"))).stdout);
    expect(off.online).to.equal(false);
    await run(0, cmd.ovsClusterConfigure());
    const on = parse.parseO2cbStatus((await run(0, cmd.serviceO2cb("status"))).stdout);
    expect(on.online).to.equal(true);
    expect(on.heartbeatDeadThreshold).to.equal(31);
    const conf = parse.parseClusterConf((await run(0, cmd.readFile("/etc/ocfs2/cluster.conf"))).stdout);
    expect(conf.nodes.map((n) => n.name)).to.include("ovs1");
    await run(0, ["mkdir", "-p", "/OVS/remote"]);
    await run(0, cmd.mountCmd({ source: part, mountPoint: "/OVS/remote", fsType: "ocfs2", options: ["_netdev"] }));
    const mtab = parse.parseMtab((await run(0, cmd.readFile("/etc/mtab"))).stdout, "/etc/mtab");
    const m = parse.findMount(mtab, "/OVS/remote");
    expect(m?.fsType).to.equal("ocfs2");
    expect(m?.source).to.equal(part);
  });

  it("xm create, list and info account for a running guest", async () => {
    const infoBefore = parse.parseXmInfo((await run(0, cmd.xmInfo())).stdout);
    expect(infoBefore.host).to.equal("ovs1");
    expect(infoBefore.totalMemoryMb).to.equal(lab.info.servers[0].totalMemoryMb);
    await run(0, ["mkdir", "-p", "/OVS/remote/running_pool/vm1"]);
    await run(0, ["truncate", "-s", "16M", "/OVS/remote/running_pool/vm1/System.img"]);
    const cfg = "name = 'vm1'\nmemory = 512\nvcpus = 2\ndisk = ['file:/OVS/remote/running_pool/vm1/System.img,xvda,w']\nvif = ['bridge=xenbr0']\n";
    await run(0, ["sh", "-c", 'cat > "$1"', "sh", "/OVS/remote/running_pool/vm1/vm.cfg"], [0], cfg);
    const created = await run(0, cmd.xmCreate("/OVS/remote/running_pool/vm1/vm.cfg"));
    expect(parse.parseXmCreate(created.stdout)?.name).to.equal("vm1");
    const list = parse.parseXmList((await run(0, cmd.xmList())).stdout);
    expect(list.map((d) => d.name)).to.deep.equal(["Domain-0", "vm1"]);
    const vm1 = list.find((d) => d.name === "vm1")!;
    expect(vm1.memoryMb).to.equal(512);
    expect(vm1.vcpus).to.equal(2);
    const infoAfter = parse.parseXmInfo((await run(0, cmd.xmInfo())).stdout);
    expect(infoBefore.freeMemoryMb - infoAfter.freeMemoryMb).to.equal(512);
    const gone = await run(0, cmd.xmDestroy("nosuch"), [3]);
    expect(parse.parseXmError(gone.stderr + gone.stdout)?.kind).to.equal("no-such-domain");
    await run(0, cmd.xmDestroy("vm1"));
  });
});
