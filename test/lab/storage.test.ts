// Shared storage in the lab, driven the way the seed chapter does it: iSCSI discovery and login, partitioning,
// the real mkfs.ocfs2, o2cb, mounts seen by every server, the ovs-* scripts, and what survives a crash.
import { expect } from "chai";
import * as fs from "fs";
import { startTestLab, TestLab } from "../support/lab";
import { renderClusterConf } from "../../lab/storage/cluster-conf";
import { attachDisk, detachDisk } from "../../lab/devices";

describe("lab: storage and cluster stand-ins", function () {
  this.timeout(180000);
  let lab: TestLab;
  let disk = "";
  let uuid = "";
  /** The volume UUID as blkid prints it (dashed, lower case): what `UUID=` in fstab names. */
  let blkidUuid = "";

  const sh = async (server: string, cmd: string) => lab.inServer(server, ["sh", "-c", cmd]);
  const partitions = async (server: string) => (await sh(server, "cat /proc/partitions")).stdout;

  before(async () => {
    lab = await startTestLab({ servers: 3 });
  });
  after(async () => {
    await lab?.down();
  });

  it("boots with the local rows and the SAN disk in /proc/partitions", async () => {
    const text = await partitions("ovs1");
    expect(text.startsWith("major minor  #blocks  name\n\n")).to.equal(true);
    expect(text).to.match(/^ {3}8 {8}0 +71687372 sda$/m);
    const san = lab.info.storage.san[0].device.replace("/dev/", "");
    expect(text).to.match(new RegExp(`^ +\\d+ +\\d+ +262144 ${san}$`, "m"));
  });

  it("a reader of /proc/partitions sees one whole version or the next, never half a change", async () => {
    // The kernel generates the file at each read; the lab's must not be read between a truncate and a write.
    // ovs2 reads it whole in a loop until told to stop, while its disks change 40 times.
    await sh("ovs2", "rm -f /tmp/stop-reading");
    // A tight reader (perl, thousands of reads a second) prints each distinct content it read, one line each.
    const reader = 'my %n; until (-e "/tmp/stop-reading") { open(my $f, "<", "/proc/partitions") or die $!; ' +
      'local $/; my $t = <$f>; close $f; $t =~ s/\\n/|/g; $n{$t}++ } print "read:$_\\n" for keys %n';
    const reads = lab.inServer("ovs2", ["perl", "-e", reader]);
    for (let i = 0; i < 20; i++) {
      await attachDisk(lab.info.dir, "ovs2", "iscsi3");
      await detachDisk(lab.info.dir, "ovs2", "iscsi3");
    }
    await sh("ovs2", "touch /tmp/stop-reading");
    const r = await reads;
    expect(r.code, r.stderr).to.equal(0);
    const seen = r.stdout.split("\n").filter((l) => l !== "").map((l) => l.replace(/^read:/, ""));
    const versions = new Set(seen);
    // Both versions were read, so the reads overlapped the changes.
    expect(versions.size, [...versions].join("\n")).to.equal(2);
    for (const v of versions) expect(v, "a read").to.match(/^major minor {2}#blocks {2}name\|\|/);
    expect(await partitions("ovs2")).to.not.match(/ sd[c-z]$/m);
  });

  it("discovers the lab's targets, refuses another portal, and delete leaves the chosen one", async () => {
    const iscsi = lab.info.storage.iscsi;
    for (const s of ["ovs1", "ovs2"]) {
      const r = await sh(s, `iscsiadm -m discovery -t sendtargets -p ${iscsi.portalAddress}`);
      expect(r.code).to.equal(0);
      expect(r.stdout.trim().split("\n")).to.deep.equal(iscsi.targets.map((t) => `${iscsi.portal},${t.tpgt} ${t.iqn}`));
      for (const t of iscsi.targets.slice(1)) {
        expect((await sh(s, `iscsiadm -m node -p ${iscsi.portal},${t.tpgt} -T ${t.iqn} -o delete`)).code).to.equal(0);
      }
      const nodes = await sh(s, "iscsiadm -m node");
      expect(nodes.stdout).to.equal(`${iscsi.portal},${iscsi.targets[0].tpgt} ${iscsi.targets[0].iqn}\n`);
    }
    const wrong = await sh("ovs1", "iscsiadm -m discovery -t sendtargets -p 10.1.1.1");
    expect(wrong.code).to.equal(4);
    expect(wrong.stderr).to.contain("Could not perform SendTargets discovery");
    const none = await sh("ovs1", "iscsiadm -m session");
    expect(none.code).to.equal(21);
    expect(none.stderr).to.contain("iscsiadm: No active sessions.");
  });

  it("service iscsi restart logs in and a new sdX appears; a second login says the session exists", async () => {
    const before = await partitions("ovs1");
    const r = await sh("ovs1", "service iscsi restart");
    expect(r.code).to.equal(0);
    const t = lab.info.storage.iscsi.targets[0];
    expect(r.stdout).to.contain(`Login to [iface: default, target: ${t.iqn}, portal: ${lab.info.storage.iscsi.portalAddress},${lab.info.storage.iscsi.port}]: successful`);
    const after = await partitions("ovs1");
    const added = after.split("\n").filter((l) => l && !before.includes(l));
    expect(added).to.have.length(1);
    disk = added[0].trim().split(/\s+/)[3];
    expect(disk).to.match(/^sd[a-z]+$/);
    expect((await sh("ovs2", "service iscsi start")).code).to.equal(0);
    expect(await partitions("ovs2")).to.contain(` ${disk}\n`);
    const again = await sh("ovs1", `iscsiadm -m node -T ${t.iqn} -p ${lab.info.storage.iscsi.portal} --login`);
    expect(again.code).to.equal(15);
    const sessions = await sh("ovs1", "iscsiadm -m session");
    expect(sessions.stdout).to.equal(`tcp: [1] ${lab.info.storage.iscsi.portal},${t.tpgt} ${t.iqn}\n`);
  });

  it("logout of a session detaches its disk; logout with no session exits 21", async () => {
    const iscsi = lab.info.storage.iscsi;
    const t = iscsi.targets[1];
    await sh("ovs3", `iscsiadm -m discovery -t st -p ${iscsi.portal}`);
    const before = await partitions("ovs3");
    const login = await sh("ovs3", `iscsiadm -m node -T ${t.iqn} -p ${iscsi.portal} -l`);
    expect(login.code, login.stderr).to.equal(0);
    expect((await partitions("ovs3")).length).to.be.greaterThan(before.length);
    const out = await sh("ovs3", `iscsiadm -m node -T ${t.iqn} -p ${iscsi.portal} -u`);
    expect(out.code).to.equal(0);
    expect(out.stdout).to.contain(`Logout of [sid: 1, target: ${t.iqn}, portal: ${iscsi.portalAddress},${iscsi.port}]: successful`);
    expect(await partitions("ovs3")).to.equal(before);
    const again = await sh("ovs3", `iscsiadm -m node -T ${t.iqn} -p ${iscsi.portal} -u`);
    expect(again.code).to.equal(21);
  });

  it("iscsiadm -o update really changes the record: -o show prints it, --loginall=automatic skips a manual one", async () => {
    const iscsi = lab.info.storage.iscsi;
    const t = iscsi.targets[1];
    const sel = `-T ${t.iqn} -p ${iscsi.portal}`;
    const show = async () => (await sh("ovs3", `iscsiadm -m node ${sel}`)).stdout;
    expect(await show()).to.match(/^node\.startup = automatic$/m);
    const up = await sh("ovs3", `iscsiadm -m node ${sel} -o update -n node.startup -v manual`);
    expect(up.code, up.stderr).to.equal(0);
    expect(up.stdout + up.stderr).to.equal("");
    expect(await show()).to.match(/^node\.startup = manual$/m);
    const added = await sh("ovs3", `iscsiadm -m node ${sel} -o update -n node.session.timeo.replacement_timeout -v 15`);
    expect(added.code, added.stderr).to.equal(0);
    expect(await show()).to.match(/^node\.session\.timeo\.replacement_timeout = 15$/m);
    // Only this target's record changed.
    expect((await sh("ovs3", `iscsiadm -m node -T ${iscsi.targets[0].iqn} -p ${iscsi.portal}`)).stdout).to.match(/^node\.startup = automatic$/m);
    const noValue = await sh("ovs3", `iscsiadm -m node ${sel} -o update -n node.startup`);
    expect(noValue.code).to.equal(7);
    expect(noValue.stderr).to.equal("iscsiadm: update requires name and value\n");
    const iface = await sh("ovs3", `iscsiadm -m node ${sel} -o update -n iface.hwaddress -v 00:11:22:33:44:55`);
    expect(iface.code).to.equal(7);
    expect(iface.stderr).to.contain("Cannot modify iface.hwaddress. Use iface mode to update this value.");
    const key = await sh("ovs3", `iscsiadm -m node ${sel} -o update -n node.name -v iqn.2001-01.com.example:other`);
    expect(key.code).to.equal(7);
    expect(await show()).to.contain(`node.name = ${t.iqn}`);
    // Boot logs in to automatic records only: the manual one stays logged out.
    const before = await partitions("ovs3");
    const all = await sh("ovs3", "iscsiadm -m node --loginall=automatic");
    expect(all.code, all.stderr).to.equal(0);
    expect(all.stdout).to.contain(iscsi.targets[0].iqn).and.to.not.contain(t.iqn);
    expect((await sh("ovs3", "iscsiadm -m session")).stdout).to.not.contain(t.iqn);
    expect((await sh("ovs3", "iscsiadm -m node --logoutall=all")).code).to.equal(0);
    expect(await partitions("ovs3")).to.equal(before);
    expect((await sh("ovs3", `iscsiadm -m node ${sel} -o update -n node.startup -v automatic`)).code).to.equal(0);
  });

  it("sfdisk on one server makes the partition appear on every server logged in", async () => {
    const r = await sh("ovs1", `echo ',' | sfdisk -q /dev/${disk}`);
    expect(r.code, r.stderr).to.equal(0);
    for (const s of ["ovs1", "ovs2"]) expect(await partitions(s)).to.match(new RegExp(` ${disk}1\\n`));
    expect(await partitions("ovs3")).to.not.contain(`${disk}1`);
  });

  it("the real mkfs.ocfs2 formats it from one server and blkid on another sees the same UUID", async () => {
    const mk = await sh("ovs1", `mkfs.ocfs2 -N 4 -J size=4M -L ovsroot /dev/${disk}1 </dev/null`);
    expect(mk.code, mk.stdout + mk.stderr).to.equal(0);
    expect(mk.stdout).to.contain("mkfs.ocfs2 successful");
    const a = (await sh("ovs1", `blkid -o value -s UUID /dev/${disk}1`)).stdout.trim();
    const b = (await sh("ovs2", `blkid -o value -s UUID /dev/${disk}1`)).stdout.trim();
    expect(a).to.match(/^[0-9a-f-]{36}$/);
    expect(b).to.equal(a);
    blkidUuid = a;
    uuid = a.replace(/-/g, "").toUpperCase();
    const d = await sh("ovs2", "mounted.ocfs2 -d");
    expect(d.stdout).to.contain(`/dev/${disk}1`);
    const again = await sh("ovs2", `mkfs.ocfs2 -N 4 -J size=4M /dev/${disk}1 </dev/null`);
    expect(again.code).to.equal(1);
    expect(again.stdout + again.stderr).to.contain("Overwriting existing ocfs2 partition.");
  });

  it("o2cb is offline until configured; mounting is refused while it is", async () => {
    const st = await sh("ovs1", "service o2cb status");
    expect(st.code).to.equal(0);
    expect(st.stdout).to.contain("Checking O2CB cluster ocfs2: Offline");
    await sh("ovs1", "mkdir -p /OVS/remote");
    const m = await sh("ovs1", `mount -t ocfs2 /dev/${disk}1 /OVS/remote`);
    expect(m.code).to.equal(1);
    expect(m.stderr).to.contain("Unable to access cluster service");
  });

  it("ovs-cluster-configure creates cluster.conf and sysconfig and brings o2cb online; idempotent", async () => {
    const r = await sh("ovs1", "/usr/lib/ovs/ovs-cluster-configure");
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.contain("Starting O2CB cluster ocfs2: OK");
    const conf = (await sh("ovs1", "cat /etc/ocfs2/cluster.conf")).stdout;
    expect(conf).to.contain("\tname = ovs1\n");
    expect(conf).to.contain("\tnode_count = 1\n");
    expect((await sh("ovs1", "cat /etc/sysconfig/o2cb")).stdout).to.match(/^O2CB_ENABLED=true$/m);
    const again = await sh("ovs1", "/usr/lib/ovs/ovs-cluster-configure");
    expect(again.code).to.equal(0);
    expect(again.stdout).to.contain("Cluster ocfs2 already online");
    const st = await sh("ovs1", "service o2cb status");
    expect(st.stdout).to.contain("Checking O2CB cluster ocfs2: Online");
    expect(st.stdout).to.contain("Checking O2CB heartbeat: Not active");
  });

  it("a node missing from cluster.conf cannot go online; with it, it can", async () => {
    const nodes = ["ovs1", "ovs2"].map((name, i) => ({
      name, number: i, ipAddress: lab.info.servers[i].address, ipPort: 7777, cluster: "ocfs2",
    }));
    const oneNode = renderClusterConf("ocfs2", [nodes[0]]);
    await sh("ovs2", `mkdir -p /etc/ocfs2 && printf '%s' '${oneNode}' > /etc/ocfs2/cluster.conf`);
    const bad = await sh("ovs2", "service o2cb online ocfs2");
    expect(bad.code).to.equal(1);
    expect(bad.stdout).to.contain("Starting O2CB cluster ocfs2: Failed");
    const both = renderClusterConf("ocfs2", nodes);
    for (const s of ["ovs1", "ovs2"]) await sh(s, `printf '%s' '${both}' > /etc/ocfs2/cluster.conf`);
    const ok = await sh("ovs2", "/usr/lib/ovs/ovs-cluster-configure");
    expect(ok.code, ok.stdout).to.equal(0);
  });

  it("mounting on every server gives the same shared directory", async () => {
    for (const s of ["ovs1", "ovs2"]) {
      const r = await sh(s, `mkdir -p /OVS/remote && mount -t ocfs2 /dev/${disk}1 /OVS/remote`);
      expect(r.code, r.stderr).to.equal(0);
      const list = await sh(s, "mount -t ocfs2");
      expect(list.stdout).to.equal(`/dev/${disk}1 on /OVS/remote type ocfs2 (rw,_netdev,heartbeat=local)\n`);
    }
    await sh("ovs1", "echo written-on-ovs1 > /OVS/remote/hello");
    expect((await sh("ovs2", "cat /OVS/remote/hello")).stdout).to.equal("written-on-ovs1\n");
    expect(fs.existsSync(`${lab.dir}/storage/volumes/${uuid}/hello`)).to.equal(true);
    expect((await sh("ovs2", "service o2cb status")).stdout).to.contain("Checking O2CB heartbeat: Active");
    const off = await sh("ovs2", "service o2cb offline");
    expect(off.code).to.equal(1);
    const refuse = await sh("ovs1", `mkfs.ocfs2 -N 4 -J size=4M /dev/${disk}1 </dev/null`);
    expect(refuse.code).to.equal(1);
    expect(refuse.stderr).to.contain("is mounted; will not make a ocfs2 volume here!");
  });

  it("mkfs.ocfs2 without -F: a volume mounted on another node fails the cluster lock; -F asks before overwriting; ext4 is formatted without a word", async () => {
    // ovs1 and ovs2 have the volume mounted and o2cb online (the test above).
    expect((await sh("ovs1", "umount /OVS/remote")).code).to.equal(0);
    const busy = await sh("ovs1", `mkfs.ocfs2 -N 4 -J size=4M -L other /dev/${disk}1 </dev/null`);
    expect(busy.code).to.equal(1);
    expect(busy.stdout).to.contain("Overwriting existing ocfs2 partition.");
    expect(busy.stderr).to.contain("mkfs.ocfs2: Trylock failed while locking the cluster\nThis volume appears to be in use in the cluster.\n");
    const forced = await sh("ovs1", `mkfs.ocfs2 -F -N 4 -J size=4M -L other /dev/${disk}1 </dev/null`);
    expect(forced.code).to.equal(1);
    expect(forced.stdout).to.contain("Proceed (y/N): Aborting operation.");
    expect(forced.stderr).to.contain("WARNING: Cluster check disabled.");
    expect((await sh("ovs1", `blkid -p -o value -s UUID /dev/${disk}1`)).stdout.trim()).to.equal(blkidUuid);
    expect((await sh("ovs1", `mount -t ocfs2 /dev/${disk}1 /OVS/remote`)).code).to.equal(0);
    // The real tool protects only OCFS2: an ext4 on the SAN disk is formatted over, no prompt, no -F (ocfs2-tools 1.8.7).
    const san = lab.info.storage.san[0].device;
    expect((await sh("ovs3", `mkfs.ext4 -q -F ${san}`)).code).to.equal(0);
    const over = await sh("ovs3", `mkfs.ocfs2 -N 2 -J size=4M -L scratch ${san} </dev/null`);
    expect(over.code, over.stderr).to.equal(0);
    expect(over.stdout).to.not.contain("Proceed");
    expect((await sh("ovs3", `blkid -p -o value -s TYPE ${san}`)).stdout.trim()).to.equal("ocfs2");
    // With o2cb offline (ovs3), an existing OCFS2 volume cannot be checked and is refused, as on a real server.
    const offline = await sh("ovs3", `mkfs.ocfs2 -N 2 -J size=4M -L again ${san} </dev/null`);
    expect(offline.code).to.equal(1);
    expect(offline.stderr).to.contain("mkfs.ocfs2: Unable to access cluster service while initializing the cluster");
    expect((await sh("ovs3", `blkid -p -o value -s LABEL ${san}`)).stdout.trim()).to.equal("scratch");
  });

  it("umount undoes the mount; NFS from the lab's server mounts, another host is refused", async () => {
    expect((await sh("ovs1", "umount /OVS/remote")).code).to.equal(0);
    expect((await sh("ovs1", "mount -t ocfs2")).stdout).to.equal("");
    expect((await sh("ovs1", "ls /OVS/remote")).stdout).to.equal("");
    const nfs = lab.info.storage.nfs;
    const ok = await sh("ovs3", `mkdir -p /mnt/nfs && mount ${nfs.export} /mnt/nfs && echo via-nfs > /mnt/nfs/f && mount -t nfs`);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(new RegExp(`^${nfs.export} on /mnt/nfs type nfs \\(rw,.*addr=${nfs.host}\\)$`, "m"));
    expect(fs.readFileSync(`${lab.dir}/storage/nfs${nfs.path}/f`, "utf8")).to.equal("via-nfs\n");
    const bad = await sh("ovs3", "mkdir -p /mnt/x && mount fileserver.example.com:/OVS /mnt/x");
    expect(bad.code).to.equal(32);
    expect(bad.stderr).to.contain("mount.nfs:");
    expect((await sh("ovs3", "umount /mnt/nfs")).code).to.equal(0);
  });

  it("mount resolves UUID= and LABEL= with the real blkid (mtab shows the device), on the command line and from fstab", async () => {
    const listing = `/dev/${disk}1 on /OVS/remote type ocfs2 (rw,_netdev,heartbeat=local)\n`;
    const byUuid = await sh("ovs1", `mount -t ocfs2 UUID=${blkidUuid} /OVS/remote && mount -t ocfs2 && cat /OVS/remote/hello`);
    expect(byUuid.code, byUuid.stderr).to.equal(0);
    expect(byUuid.stdout).to.equal(`${listing}written-on-ovs1\n`);
    expect((await sh("ovs1", "cat /etc/mtab")).stdout).to.not.contain("UUID=");
    // Mounted already, by its device or its UUID: util-linux's refusal, naming the device.
    const twice = await sh("ovs1", `mkdir -p /OVS/other && mount -t ocfs2 UUID=${blkidUuid} /OVS/other`);
    expect(twice.code).to.equal(32);
    expect(twice.stderr).to.contain(`mount: /dev/${disk}1 already mounted or /OVS/other busy\n`);
    expect((await sh("ovs1", `umount UUID=${blkidUuid} && mount -t ocfs2`)).stdout).to.equal("");
    // Without -t the type comes from blkid of the device the label names.
    const byLabel = await sh("ovs1", "mount LABEL=ovsroot /OVS/remote && mount -t ocfs2 && umount /OVS/remote");
    expect(byLabel.code, byLabel.stderr).to.equal(0);
    expect(byLabel.stdout).to.equal(listing);
    // An fstab line with UUID=: mount -a (as boot runs it) and mount DIR.
    await sh("ovs1", `cp /etc/fstab /tmp/fstab.before-uuid && echo 'UUID=${blkidUuid} /OVS/remote ocfs2 _netdev,datavolume,nointr 0 0' >> /etc/fstab`);
    const all = await sh("ovs1", "mount -a -t ocfs2 -O _netdev && grep ' /OVS/remote ' /etc/mtab");
    expect(all.code, all.stderr).to.equal(0);
    expect(all.stdout).to.equal(`/dev/${disk}1 /OVS/remote ocfs2 rw,datavolume,nointr,_netdev,heartbeat=local 0 0\n`);
    expect((await sh("ovs1", "umount /OVS/remote && mount /OVS/remote && mount -t ocfs2 && umount /OVS/remote")).stdout)
      .to.equal(`/dev/${disk}1 on /OVS/remote type ocfs2 (rw,datavolume,nointr,_netdev,heartbeat=local)\n`);
    await sh("ovs1", "cp /tmp/fstab.before-uuid /etc/fstab");
  });

  it("mount refuses a UUID or label no device has, and the 32-hex form blkid does not print, as util-linux does", async () => {
    for (const source of ["UUID=00000000-1111-2222-3333-444444444444", `UUID=${uuid}`, "LABEL=nosuchlabel"]) {
      for (const cmd of [`mount -t ocfs2 ${source} /OVS/remote`, `mount ${source} /OVS/remote`]) {
        const r = await sh("ovs1", cmd);
        expect(r.code, cmd).to.equal(32);
        expect(r.stderr, cmd).to.contain(`mount: special device ${source} does not exist\n`);
      }
    }
    await sh("ovs1", "echo 'UUID=00000000-1111-2222-3333-444444444444 /OVS/remote ocfs2 _netdev 0 0' >> /etc/fstab");
    const all = await sh("ovs1", "mount -a -t ocfs2");
    expect(all.code).to.equal(32);
    expect(all.stderr).to.contain("mount: special device UUID=00000000-1111-2222-3333-444444444444 does not exist");
    await sh("ovs1", "cp /tmp/fstab.before-uuid /etc/fstab");
    expect((await sh("ovs1", "mount -t ocfs2")).stdout).to.equal("");
  });

  it("ovs-makerepo registers and mounts the cluster root; ovs-cluster-check --alter-fstab moves /OVS lines", async () => {
    await sh("ovs1", `echo '/dev/${disk}1 /OVS ocfs2 _netdev,datavolume,nointr 0 0' >> /etc/fstab`);
    // Only the seed's role: another is refused before anything is registered or mounted.
    const other = await sh("ovs1", `/usr/lib/ovs/ovs-makerepo /dev/${disk}1 S "cluster root"`);
    expect(other.code).to.equal(1);
    expect(other.stderr).to.contain("role 'S' is not one the lab knows: only C (cluster root)");
    expect((await sh("ovs1", "cat /etc/ovs/repositories 2>/dev/null; mount -t ocfs2")).stdout).to.not.contain(uuid);
    const r = await sh("ovs1", `/usr/lib/ovs/ovs-makerepo /dev/${disk}1 C "cluster root"`);
    expect(r.code, r.stderr).to.equal(0);
    expect((await sh("ovs1", "cat /etc/ovs/repositories")).stdout).to.contain(`${uuid} /dev/${disk}1\n`);
    expect((await sh("ovs1", "readlink /OVS/running_pool")).stdout.trim()).to.equal(`/OVS/${uuid}/running_pool`);
    expect(fs.existsSync(`${lab.dir}/storage/volumes/${uuid}/seed_pool`)).to.equal(true);
    const again = await sh("ovs1", `/usr/lib/ovs/ovs-makerepo /dev/${disk}1 C "cluster root"`);
    expect(again.code).to.equal(0);
    expect((await sh("ovs1", "grep -c . /etc/ovs/repositories")).stdout.trim()).to.equal("2"); // header + one line
    const check = await sh("ovs1", "/usr/lib/ovs/ovs-cluster-check --master --alter-fstab");
    expect(check.code, check.stdout).to.equal(0);
    expect((await sh("ovs1", "cat /etc/fstab")).stdout).to.not.contain(`/dev/${disk}1`);
    expect((await sh("ovs1", "cat /tmp/fstab.ovs-cluster-check.*")).stdout).to.contain(`/dev/${disk}1 /OVS ocfs2`);
    const ovs3 = await sh("ovs3", "/usr/lib/ovs/ovs-cluster-check --master");
    expect(ovs3.code).to.equal(1);
    expect(ovs3.stdout).to.contain("ERROR: /etc/ocfs2/cluster.conf does not exist");
  });

  it("crash and power-on keep /etc but drop mounts and sessions, and boot restores them", async () => {
    await sh("ovs2", `echo 'UUID=${blkidUuid} /OVS/remote ocfs2 _netdev 0 0' >> /etc/fstab`);
    await lab.fault("crash", "ovs2");
    await lab.fault("power-on", "ovs2");
    expect((await sh("ovs2", "cat /etc/ocfs2/cluster.conf")).stdout).to.contain("name = ovs2");
    expect((await sh("ovs2", "iscsiadm -m session")).code).to.equal(0);
    expect(await partitions("ovs2")).to.contain(` ${disk}1\n`);
    expect((await sh("ovs2", "service o2cb status")).stdout).to.contain("Checking O2CB cluster ocfs2: Online");
    expect((await sh("ovs2", "cat /OVS/remote/hello")).stdout).to.equal("written-on-ovs1\n");
    // Boot mounted the fstab line by its UUID; mtab names the device.
    expect((await sh("ovs2", "mount -t ocfs2")).stdout).to.equal(`/dev/${disk}1 on /OVS/remote type ocfs2 (rw,_netdev,heartbeat=local)\n`);
    await lab.fault("crash", "ovs1");
    await lab.fault("power-on", "ovs1");
    expect((await sh("ovs1", "readlink /OVS/running_pool")).stdout.trim()).to.equal(`/OVS/${uuid}/running_pool`);
    expect((await sh("ovs1", "ls /OVS/running_pool/")).code).to.equal(0);
    expect((await sh("ovs1", "mount -t ocfs2")).stdout).to.contain(`on /OVS/${uuid} type ocfs2`);
  });

  it("an OCFS2 mount takes one of the volume's node slots: one more node than slots is refused like the kernel does", async () => {
    const san = lab.info.storage.san[0].device;
    const mk = await sh("ovs1", `mkfs.ocfs2 -x -N 1 -J size=4M -L oneslot ${san} </dev/null`);
    expect(mk.code, mk.stdout + mk.stderr).to.equal(0);
    for (const s of ["ovs1", "ovs2"]) expect((await sh(s, "mkdir -p /OVS/slots && service o2cb status")).stdout, s).to.contain("Online");
    expect((await sh("ovs1", `mount -t ocfs2 ${san} /OVS/slots`)).code).to.equal(0);
    const full = await sh("ovs2", `mount -t ocfs2 ${san} /OVS/slots`);
    expect(full.code).to.equal(1);
    expect(full.stderr).to.equal(`mount.ocfs2: Invalid argument while mounting ${san} on /OVS/slots. Check 'dmesg' for more information on this error.\n`);
    expect((await sh("ovs2", "grep -c ' /OVS/slots ' /etc/mtab")).stdout.trim()).to.equal("0");
    // The slot is free again once ovs1 unmounts.
    expect((await sh("ovs1", "umount /OVS/slots")).code).to.equal(0);
    expect((await sh("ovs2", `mount -t ocfs2 ${san} /OVS/slots && umount /OVS/slots`)).code).to.equal(0);
  });
});
