import { expect } from "chai";
import {
  CommandArgumentError, blkidFull, blkidProbe, iscsiDiscovery, iscsiLogin, iscsiLogout, iscsiNodeDelete, iscsiNodes,
  iscsiSessions, mkfsOcfs2, mountCmd, mountedOcfs2Detect, mountedOcfs2Full, partitionDevice, readFile, sfdiskOnePartition,
  blkidLowLevel, sfdiskDump, sfdiskAppendOnePartition,
  umountCmd,
} from "../../provider/commands";

/** Asserts a CommandArgumentError naming the property. */
function rejects(fn: () => unknown, property: string): CommandArgumentError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(CommandArgumentError);
    expect((e as CommandArgumentError).property).to.equal(property);
    expect((e as Error).message).to.contain(property);
    return e as CommandArgumentError;
  }
  return expect.fail(`expected CommandArgumentError for ${property}`);
}

describe("commands: iscsiadm", () => {
  const iqn = "iqn.1992-04.com.emc:cx.apm00070202838.b0";

  it("builds the seed chapter's discovery and delete commands", () => {
    expect(iscsiDiscovery("10.1.1.1")).to.deep.equal(["iscsiadm", "-m", "discovery", "-t", "sendtargets", "-p", "10.1.1.1:3260"]);
    expect(iscsiNodeDelete("10.2.0.250:3260", 3, iqn)).to.deep.equal(
      ["iscsiadm", "-m", "node", "-p", "10.2.0.250:3260,3", "-T", iqn, "-o", "delete"]);
    expect(iscsiNodeDelete("10.2.0.250", undefined, iqn)[4]).to.equal("10.2.0.250:3260");
  });

  it("builds login, logout, node and session listings", () => {
    expect(iscsiLogin("10.1.1.1:3260", iqn)).to.deep.equal(["iscsiadm", "-m", "node", "-T", iqn, "-p", "10.1.1.1:3260", "--login"]);
    expect(iscsiLogout("[fe80::1]", iqn)).to.deep.equal(["iscsiadm", "-m", "node", "-T", iqn, "-p", "[fe80::1]:3260", "--logout"]);
    expect(iscsiSessions()).to.deep.equal(["iscsiadm", "-m", "session"]);
    expect(iscsiNodes()).to.deep.equal(["iscsiadm", "-m", "node"]);
    expect(iscsiLogin("san.example.com:3261", "eui.02004567A425678D")[6]).to.equal("san.example.com:3261");
  });

  it("rejects IQNs, portals and tpgts that break the grammar or look like options", () => {
    rejects(() => iscsiLogin("10.1.1.1", "-o delete"), "iqn");
    rejects(() => iscsiLogin("10.1.1.1", "iqn.92-04.com.emc:x"), "iqn");
    rejects(() => iscsiLogin("10.1.1.1", "IQN.1992-04.com.emc:x"), "iqn");
    rejects(() => iscsiLogin("10.1.1.1", "eui.123"), "iqn");
    rejects(() => iscsiDiscovery("--interface=x"), "portal");
    rejects(() => iscsiDiscovery("10.1.1.1:0"), "portal");
    rejects(() => iscsiDiscovery("10.1.1.1:99999"), "portal");
    rejects(() => iscsiDiscovery("a b"), "portal");
    rejects(() => iscsiNodeDelete("10.1.1.1", -1, iqn), "tpgt");
  });
});

describe("commands: mkfs.ocfs2", () => {
  it("builds the seed chapter's format command", () => {
    expect(mkfsOcfs2({ device: "/dev/sdb1", label: "mylabel", blockSize: "4K", clusterSize: 4096, journalSize: "64M", nodeSlots: 16 }))
      .to.deep.equal(["mkfs.ocfs2", "-L", "mylabel", "-b", "4K", "-C", "4K", "-J", "size=64M", "-N", "16", "/dev/sdb1"]);
  });

  it("adds force, dry run, type and mount type and keeps the device last", () => {
    const argv = mkfsOcfs2({ device: "/dev/loop0", label: "x", force: true, dryRun: true, fsType: "datafiles", mountType: "cluster", clusterSize: "1M", blockSize: 512 });
    expect(argv).to.deep.equal(["mkfs.ocfs2", "-F", "-n", "-L", "x", "-b", "512", "-C", "1M", "-T", "datafiles", "-M", "cluster", "/dev/loop0"]);
  });

  it("rejects out-of-range sizes, slots, labels and devices, naming what is allowed", () => {
    const e = rejects(() => mkfsOcfs2({ device: "/dev/sdb1", label: "l", blockSize: "3K" }), "blockSize");
    expect(e.allowed).to.contain("power of two from 512 to 4K");
    rejects(() => mkfsOcfs2({ device: "/dev/sdb1", label: "l", blockSize: 8192 }), "blockSize");
    rejects(() => mkfsOcfs2({ device: "/dev/sdb1", label: "l", clusterSize: "2K" }), "clusterSize");
    rejects(() => mkfsOcfs2({ device: "/dev/sdb1", label: "l", clusterSize: "2M" }), "clusterSize");
    rejects(() => mkfsOcfs2({ device: "/dev/sdb1", label: "l", journalSize: "2M" }), "journalSize");
    rejects(() => mkfsOcfs2({ device: "/dev/sdb1", label: "l", journalSize: "lots" }), "journalSize");
    rejects(() => mkfsOcfs2({ device: "/dev/sdb1", label: "l", nodeSlots: 0 }), "nodeSlots");
    rejects(() => mkfsOcfs2({ device: "/dev/sdb1", label: "l", nodeSlots: 256 }), "nodeSlots");
    rejects(() => mkfsOcfs2({ device: "/dev/sdb1", label: "x".repeat(64) }), "label");
    expect(mkfsOcfs2({ device: "/dev/sdb1", label: "x".repeat(63) })[2]).to.have.length(63);
    rejects(() => mkfsOcfs2({ device: "/dev/sdb1", label: "" }), "label");
    rejects(() => mkfsOcfs2({ device: "sdb1", label: "l" }), "device");
    rejects(() => mkfsOcfs2({ device: "/dev/../etc/passwd", label: "l" }), "device");
    rejects(() => mkfsOcfs2({ device: "/dev/sdb1", label: "l", fsType: "mailbox" as "mail" }), "fsType");
  });
});

describe("commands: block devices", () => {
  it("probes with blkid and lists OCFS2 volumes", () => {
    expect(blkidProbe("/dev/sdb1")).to.deep.equal(["blkid", "-o", "value", "-s", "TYPE", "/dev/sdb1"]);
    expect(blkidFull("/dev/mapper/mpath0")).to.deep.equal(["blkid", "/dev/mapper/mpath0"]);
    rejects(() => blkidProbe("-p"), "device");
    expect(mountedOcfs2Detect()).to.deep.equal(["mounted.ocfs2", "-d"]);
    expect(mountedOcfs2Full()).to.deep.equal(["mounted.ocfs2", "-f"]);
    expect(readFile("/proc/partitions")).to.deep.equal(["cat", "/proc/partitions"]);
    rejects(() => readFile("-n"), "path");
  });

  it("partitions a whole disk with sfdisk reading its script from stdin", () => {
    expect(sfdiskOnePartition("/dev/sdb")).to.deep.equal({ argv: ["sfdisk", "/dev/sdb"], stdin: ",,83\n" });
    rejects(() => sfdiskOnePartition("/tmp/disk"), "disk");
    expect(partitionDevice("/dev/sdb", 1)).to.equal("/dev/sdb1");
    expect(partitionDevice("/dev/loop0", 1)).to.equal("/dev/loop0p1");
  });
});

describe("commands: mount", () => {
  it("builds OCFS2 and NFS mounts and umount", () => {
    expect(mountCmd({ source: "/dev/sdb1", mountPoint: "/OVS", fsType: "ocfs2", options: ["_netdev", "datavolume", "nointr"] }))
      .to.deep.equal(["mount", "-t", "ocfs2", "-o", "_netdev,datavolume,nointr", "/dev/sdb1", "/OVS"]);
    expect(mountCmd({ source: "fileserver.example.com:/OVS", mountPoint: "/OVS/remote", fsType: "nfs" }))
      .to.deep.equal(["mount", "-t", "nfs", "fileserver.example.com:/OVS", "/OVS/remote"]);
    expect(mountCmd({ source: "UUID=0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", mountPoint: "/OVS/remote", fsType: "ocfs2", options: ["_netdev"] }))
      .to.deep.equal(["mount", "-t", "ocfs2", "-o", "_netdev", "UUID=0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", "/OVS/remote"]);
    expect(umountCmd("/OVS")).to.deep.equal(["umount", "/OVS"]);
  });

  it("rejects option injection, relative paths and odd sources", () => {
    rejects(() => mountCmd({ source: "/dev/sdb1", mountPoint: "/OVS", fsType: "ocfs2", options: ["rw,exec"] }), "options");
    rejects(() => mountCmd({ source: "/dev/sdb1", mountPoint: "/OVS", fsType: "ocfs2", options: ["-o"] }), "options");
    rejects(() => mountCmd({ source: "-a", mountPoint: "/OVS", fsType: "ocfs2" }), "source");
    rejects(() => mountCmd({ source: "/etc/x", mountPoint: "/OVS", fsType: "ocfs2" }), "source");
    rejects(() => mountCmd({ source: "UUID=0a1b2c3d4e5f60718293a4b5c6d7e8f9", mountPoint: "/OVS", fsType: "ocfs2" }), "source");
    rejects(() => mountCmd({ source: "UUID=x /etc", mountPoint: "/OVS", fsType: "ocfs2" }), "source");
    rejects(() => mountCmd({ source: "/dev/sdb1", mountPoint: "OVS", fsType: "ocfs2" }), "mountPoint");
    rejects(() => mountCmd({ source: "/dev/sdb1", mountPoint: "/OVS", fsType: "-t" }), "fsType");
    rejects(() => umountCmd("-a"), "mountPoint");
  });
});

describe("commands: probing and partitioning without rewriting", () => {
  it("blkid -p probes the whole disk or the extent a table entry names", () => {
    expect(blkidLowLevel("/dev/sdb")).to.deep.equal(["blkid", "-p", "-o", "export", "/dev/sdb"]);
    expect(blkidLowLevel("/dev/sdb", { offset: 4096 * 512, size: 65536 * 512 })).to.deep.equal(
      ["blkid", "-p", "-o", "export", "-O", "2097152", "-S", "33554432", "/dev/sdb"]);
    rejects(() => blkidLowLevel("/dev/sdb", { offset: -1, size: 1 }), "offset");
    rejects(() => blkidLowLevel("-p"), "device");
  });

  it("sfdisk -d reads the table; --append adds a partition under the same identifier", () => {
    expect(sfdiskDump("/dev/sdb")).to.deep.equal(["sfdisk", "-d", "/dev/sdb"]);
    expect(sfdiskAppendOnePartition("/dev/sdb")).to.deep.equal({ argv: ["sfdisk", "--append", "/dev/sdb"], stdin: ",,83\n" });
    rejects(() => sfdiskDump("/dev/../etc/passwd"), "disk");
  });

  it("mkfs.ocfs2 -x (no prompt) is separate from -F (no cluster check)", () => {
    const argv = mkfsOcfs2({ device: "/dev/sdb1", label: "ovsroot", noPrompt: true });
    expect(argv).to.include("-x").and.to.not.include("-F");
    expect(mkfsOcfs2({ device: "/dev/sdb1", label: "ovsroot" })).to.not.include("-x");
  });
});
