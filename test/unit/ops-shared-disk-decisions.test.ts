// The SharedDisk's pure decisions: which disk appeared at login, whether to partition, and the data-safety
// table (format / adopt / refuse) from what blkid and mounted.ocfs2 found.
import { expect } from "chai";
import { parseProcPartitions } from "../../provider/parsers";
import { newDisks, isPartitionOf, partitionsOf } from "../../provider/ops/shared-disk/new-disks";
import { canonicalOcfs2Uuid, decideFormat, decidePartition } from "../../provider/ops/shared-disk/format-decision";

const SEED_BEFORE = `major minor  #blocks  name

   8     0   71687372 sda
   8     1     104391 sda1
   8     2   71577607 sda2
 253     0   70516736 dm-0
 253     1    1048576 dm-1
`;

describe("ops: SharedDisk new disks from /proc/partitions", () => {
  it("finds the seed's sdb after login (9.2.1 step 8)", () => {
    const after = SEED_BEFORE + "   8    16    1048576 sdb\n";
    expect(newDisks(parseProcPartitions(SEED_BEFORE), parseProcPartitions(after)).map((p) => p.name)).to.deep.equal(["sdb"]);
  });
  it("counts a partitioned LUN once (its partitions appear with it), and loop-style names", () => {
    const after = SEED_BEFORE + "   7     3     262144 sdc\n   7     4     261120 sdc1\n   7     5     100 loop9\n   7     6     99 loop9p1\n";
    expect(newDisks(parseProcPartitions(SEED_BEFORE), parseProcPartitions(after)).map((p) => p.name)).to.deep.equal(["sdc", "loop9"]);
  });
  it("nothing new when already logged in", () => {
    expect(newDisks(parseProcPartitions(SEED_BEFORE), parseProcPartitions(SEED_BEFORE))).to.deep.equal([]);
  });
  it("partition names", () => {
    expect(isPartitionOf("sdb1", "sdb")).to.equal(true);
    expect(isPartitionOf("sdba", "sdb")).to.equal(false);
    expect(isPartitionOf("loop0p1", "loop0")).to.equal(true);
    expect(isPartitionOf("loop01", "loop0")).to.equal(false);
    expect(partitionsOf(parseProcPartitions(SEED_BEFORE), "sda").map((p) => p.name)).to.deep.equal(["sda1", "sda2"]);
  });
});

describe("ops: SharedDisk partition decision", () => {
  it("uses an existing partition, partitions an empty disk, never partitions over a file system", () => {
    expect(decidePartition(true, { device: "/dev/sdb" }, false).action).to.equal("use-partition");
    expect(decidePartition(false, { device: "/dev/sdb" }, false).action).to.equal("partition");
    expect(decidePartition(false, { device: "/dev/sdb", type: "ext3" }, false).action).to.equal("whole-disk");
    expect(decidePartition(false, { device: "/dev/sdb", type: "ocfs2", label: "x" }, false).action).to.equal("whole-disk");
    expect(decidePartition(false, { device: "/dev/sdb", type: "ext3" }, true).action).to.equal("partition");
  });
});

describe("ops: SharedDisk format decision (data is sacred)", () => {
  const UUID = "0A1B2C3D4E5F60718293A4B5C6D7E8F9";
  const wanted = { label: "ovsroot", overwrite: false };
  const table: [string, Parameters<typeof decideFormat>[0], Parameters<typeof decideFormat>[1], "format" | "adopt" | "refuse", RegExp?][] = [
    ["empty device", { device: "/dev/sdb1" }, wanted, "format"],
    ["same label, no UUID remembered", { device: "/dev/sdb1", type: "ocfs2", label: "ovsroot", uuid: UUID }, wanted, "adopt"],
    ["same label and remembered UUID (blkid's dashed form)", { device: "/dev/sdb1", type: "ocfs2", label: "ovsroot", uuid: "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9" }, { ...wanted, expectedUuid: UUID }, "adopt"],
    ["same label, another UUID", { device: "/dev/sdb1", type: "ocfs2", label: "ovsroot", uuid: "F".repeat(32) }, { ...wanted, expectedUuid: UUID }, "refuse", /UUID FFFF.*not the OCFS2 volume label "ovsroot" UUID 0A1B/],
    ["another OCFS2 label", { device: "/dev/sdb1", type: "ocfs2", label: "precious", uuid: UUID }, wanted, "refuse", /\/dev\/sdb1 holds ocfs2, label "precious"/],
    ["another file system", { device: "/dev/sdc1", type: "ext3", uuid: "1234" }, wanted, "refuse", /\/dev\/sdc1 holds ext3.*overwrite: true/],
    ["another file system, overwrite set", { device: "/dev/sdc1", type: "ext3" }, { ...wanted, overwrite: true }, "format", /overwrite is set/],
    ["the same volume with overwrite set is still adopted", { device: "/dev/sdb1", type: "ocfs2", label: "ovsroot", uuid: UUID }, { ...wanted, overwrite: true }, "adopt"],
    ["OCFS2 without a UUID is not ours", { device: "/dev/sdb1", type: "ocfs2", label: "ovsroot" }, wanted, "refuse"],
  ];
  for (const [name, found, want, action, reason] of table) {
    it(name, () => {
      const d = decideFormat(found, want);
      expect(d.action).to.equal(action);
      if (reason) expect(d.reason).to.match(reason);
      if (d.action === "adopt") expect(d.uuid).to.equal(UUID);
    });
  }
  it("canonical UUIDs are 32 upper-case hex digits", () => {
    expect(canonicalOcfs2Uuid("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9")).to.equal(UUID);
  });
});
