// The ovm-ha block of /etc/fstab: each SharedDisk owns the line of its mount point; the administrator's lines
// are kept byte for byte; re-applying the same line gives the same text (no duplicated line on a re-run).
import { expect } from "chai";
import { FSTAB_BEGIN_MARKER, FSTAB_END_MARKER, FstabEntry, OCFS2_MOUNT_OPTIONS, NFS_MOUNT_OPTIONS } from "../../provider/render/fstab";
import { entryFor, splitFstab, withEntry, withoutEntry } from "../../provider/ops/shared-disk/fstab-block";

const ADMIN = "/dev/VolGroup00/LogVol00 /                       ext3    defaults        1 1\nLABEL=/boot             /boot                   ext3    defaults        1 2\n# a comment\n";
const ocfs2: FstabEntry = { device: "/dev/sdb1", mountPoint: "/OVS/remote", type: "ocfs2", options: OCFS2_MOUNT_OPTIONS };
const nfs: FstabEntry = { device: "nfs.example.com:/OVS", mountPoint: "/OVS/nfs", type: "nfs", options: NFS_MOUNT_OPTIONS };

describe("ops: SharedDisk fstab block", () => {
  it("adds a block after the administrator's lines, which stay byte for byte", () => {
    const text = withEntry(ADMIN, ocfs2);
    expect(text.startsWith(ADMIN)).to.equal(true);
    expect(text.slice(ADMIN.length)).to.equal(`${FSTAB_BEGIN_MARKER}\n/dev/sdb1 /OVS/remote ocfs2 _netdev,datavolume,nointr 0 0\n${FSTAB_END_MARKER}\n`);
  });
  it("re-applying the same line changes nothing (no duplicate)", () => {
    const once = withEntry(ADMIN, ocfs2);
    expect(withEntry(once, ocfs2)).to.equal(once);
  });
  it("two disks share the block; a changed device replaces its line only", () => {
    const both = withEntry(withEntry(ADMIN, ocfs2), nfs);
    expect(splitFstab(both).entries.map((e) => e.mountPoint)).to.deep.equal(["/OVS/remote", "/OVS/nfs"]);
    const moved = withEntry(both, { ...ocfs2, device: "/dev/sdc1" });
    expect(entryFor(moved, "/OVS/remote")!.device).to.equal("/dev/sdc1");
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
  it("a block emptied by ovs-cluster-check --alter-fstab (markers left) takes the line back", () => {
    const emptied = `${ADMIN}${FSTAB_BEGIN_MARKER}\n${FSTAB_END_MARKER}\n`;
    expect(entryFor(emptied, "/OVS/remote")).to.equal(undefined);
    expect(withEntry(emptied, ocfs2)).to.equal(withEntry(ADMIN, ocfs2));
  });
});
