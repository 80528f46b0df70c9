// The ovm-ha block of /etc/fstab: each SharedDisk owns the line of its mount point; the administrator's lines
// are kept byte for byte; re-applying the same line gives the same text (no duplicated line on a re-run).
import { expect } from "chai";
import { FSTAB_BEGIN_MARKER, FSTAB_END_MARKER, FstabEntry, OCFS2_MOUNT_OPTIONS, NFS_MOUNT_OPTIONS } from "../../provider/render/fstab";
import { entryFor, splitFstab, withEntry, withoutEntry } from "../../provider/ops/shared-disk/fstab-block";

const ADMIN = "/dev/VolGroup00/LogVol00 /                       ext3    defaults        1 1\nLABEL=/boot             /boot                   ext3    defaults        1 2\n# a comment\n";
const UUID_SOURCE = "UUID=95a93fa7-20f5-46c0-8042-90bba4641adb";
const ocfs2: FstabEntry = { device: UUID_SOURCE, mountPoint: "/OVS/remote", type: "ocfs2", options: OCFS2_MOUNT_OPTIONS };
const nfs: FstabEntry = { device: "nfs.example.com:/OVS", mountPoint: "/OVS/nfs", type: "nfs", options: NFS_MOUNT_OPTIONS };

describe("ops: SharedDisk fstab block", () => {
  it("adds a block after the administrator's lines, which stay byte for byte", () => {
    const text = withEntry(ADMIN, ocfs2);
    expect(text.startsWith(ADMIN)).to.equal(true);
    expect(text.slice(ADMIN.length)).to.equal(`${FSTAB_BEGIN_MARKER}\n${UUID_SOURCE} /OVS/remote ocfs2 _netdev,datavolume,nointr 0 0\n${FSTAB_END_MARKER}\n`);
  });
  it("re-applying the same line changes nothing (no duplicate)", () => {
    const once = withEntry(ADMIN, ocfs2);
    expect(withEntry(once, ocfs2)).to.equal(once);
  });
  it("two disks share the block; a changed device replaces its line only", () => {
    const both = withEntry(withEntry(ADMIN, ocfs2), nfs);
    expect(splitFstab(both).entries.map((e) => e.mountPoint)).to.deep.equal(["/OVS/remote", "/OVS/nfs"]);
    const moved = withEntry(both, { ...ocfs2, device: "UUID=0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9" });
    expect(entryFor(moved, "/OVS/remote")!.device).to.equal("UUID=0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
    expect(entryFor(moved, "/OVS/nfs")!.device).to.equal("nfs.example.com:/OVS");
    expect(moved.match(/\/OVS\/remote/g)).to.have.length(1);
  });
  it("removing the last line removes the block and gives back the original file", () => {
    const both = withEntry(withEntry(ADMIN, ocfs2), nfs);
    const one = withoutEntry(both, "/OVS/remote");
    expect(entryFor(one, "/OVS/remote")).to.equal(undefined);
    expect(entryFor(one, "/OVS/nfs")).to.not.equal(undefined);
    expect(withoutEntry(one, "/OVS/nfs")).to.equal(ADMIN);
  });
  it("lines after the block are kept; a file without a block is left as it is", () => {
    const text = withEntry(ADMIN, ocfs2) + "tmpfs /dev/shm tmpfs defaults 0 0\n";
    expect(withoutEntry(text, "/OVS/remote")).to.equal(ADMIN + "tmpfs /dev/shm tmpfs defaults 0 0\n");
    expect(withoutEntry(ADMIN, "/OVS/remote")).to.equal(ADMIN);
  });
  it("an earlier release's /dev line is read back as written and replaced by the UUID= line in place", () => {
    const old = withEntry(withEntry(ADMIN, { ...ocfs2, device: "/dev/sdb1" }), nfs);
    expect(entryFor(old, "/OVS/remote")!.device).to.equal("/dev/sdb1");
    const now = withEntry(old, ocfs2);
    expect(now).to.equal(withEntry(withEntry(ADMIN, ocfs2), nfs));
    expect(now).to.not.contain("/dev/sdb1");
  });
  it("a block emptied by ovs-cluster-check --alter-fstab (markers left) takes the line back", () => {
    const emptied = `${ADMIN}${FSTAB_BEGIN_MARKER}\n${FSTAB_END_MARKER}\n`;
    expect(entryFor(emptied, "/OVS/remote")).to.equal(undefined);
    expect(withEntry(emptied, ocfs2)).to.equal(withEntry(ADMIN, ocfs2));
  });
});
