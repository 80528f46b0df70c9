// The SharedDisk's pure decisions: which disk appeared at login, and the data-safety rule (format / adopt /
// refuse) from what the survey of a disk found (blkid -p on the whole disk and at each table entry, sfdisk -d).
import { expect } from "chai";
import { parseProcPartitions } from "../../provider/parsers";
import { newDisks, isPartitionOf, partitionsOf } from "../../provider/ops/shared-disk/new-disks";
import { readFileSync } from "fs";
import { join } from "path";
import { BlkidProbe, parseBlkidExport, parseSfdiskDump, PartitionTable } from "../../provider/parsers";
import { canonicalOcfs2Uuid, decideDisk, DiskWanted } from "../../provider/ops/shared-disk/format-decision";
import { DiskSurvey, isEmptyDisk } from "../../provider/ops/shared-disk/disk-survey";

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

// Surveys built from real captured outputs (util-linux 2.38.1, ocfs2-tools 1.8.7; see test/fixtures/samples/SOURCES.md).
const sample = (name: string): string => readFileSync(join(__dirname, "../../../test/fixtures/samples", name), "utf8");
const found = (name: string): BlkidProbe => parseBlkidExport(sample(name), 0);
const NOTHING: BlkidProbe = { kind: "nothing" };
const OCFS2 = found("blkid-2.38.1-p-export-ocfs2.txt");
const OCFS2_UUID = "D9C10F2575FA4B71B3BCC2037EB7D87E";
const dosTable = parseSfdiskDump(sample("sfdisk-2.38.1-d-dos.txt"));
const emptyDos: PartitionTable = { ...dosTable, entries: [] };

function survey(o: Partial<DiskSurvey> & { entryFound?: BlkidProbe; visible?: boolean }): DiskSurvey {
  const table = "table" in o ? o.table : undefined;
  const entries = (table?.entries ?? []).map((entry) => ({ entry, node: `/dev/sdb${entry.number}`, visible: o.visible ?? false, found: o.entryFound ?? NOTHING }));
  return { disk: "/dev/sdb", server: "ovs1", whole: o.whole ?? NOTHING, ...(table ? { table } : {}), entries };
}
const wanted = (w: Partial<DiskWanted> = {}): DiskWanted => ({ partition: true, label: "ovsroot", overwrite: false, ...w });

describe("ops: SharedDisk disk decision (data is sacred)", () => {
  it("an empty disk: a new table with one partition, then the volume; partition false: the whole disk", () => {
    expect(decideDisk(survey({}), wanted())).to.include({ action: "format", prepare: "new-table", partition: 1 });
    expect(decideDisk(survey({}), wanted({ partition: false }))).to.include({ action: "format", prepare: "none", device: "/dev/sdb" });
  });

  it("an empty table (no entries) gets one appended (identifier kept); with partition false it is refused", () => {
    const s = survey({ whole: found("blkid-2.38.1-p-export-dos-table.txt"), table: emptyDos });
    expect(isEmptyDisk(s)).to.equal(true);
    expect(decideDisk(s, wanted())).to.include({ action: "format", prepare: "append" });
    const d = decideDisk(s, wanted({ partition: false }));
    expect(d.action).to.equal("refuse");
  });

  it("the issue's case: partition 1 at sector 4096 holding ext4, no node on the server: refused, naming all of it", () => {
    const s = survey({ whole: found("blkid-2.38.1-p-export-dos-table.txt"), table: dosTable, entryFound: found("blkid-2.38.1-p-export-ext4-at-offset.txt") });
    expect(isEmptyDisk(s)).to.equal(false);
    const d = decideDisk(s, wanted());
    expect(d.action).to.equal("refuse");
    if (d.action !== "refuse") return;
    expect(d.reason).to.contain("/dev/sdb on ovs1 holds a dos partition table (disk identifier 0x2417ee0f) with partition 1 at sector 4096 (65536 sectors)");
    expect(d.reason).to.contain('ext4, label "userdata", UUID e06659e5-108e-4bf6-9f9a-ba0c2deb552d, not visible as /dev/sdb1 on ovs1');
    expect(d.reason).to.contain("overwrite: true");
  });

  it("a table entry with nothing in it is still data; so are an LVM PV and an ambivalent probe", () => {
    expect(decideDisk(survey({ whole: found("blkid-2.38.1-p-export-dos-table.txt"), table: dosTable, visible: true }), wanted()).action).to.equal("refuse");
    const pv = decideDisk(survey({ whole: found("blkid-2.38.1-p-export-lvm2.txt") }), wanted());
    expect(pv.action).to.equal("refuse");
    if (pv.action === "refuse") expect(pv.reason).to.contain("holds LVM2_member, UUID IeermA-SwpX-fuIA-q2Uq-Bc5y-R3Tt-lB6lNV");
    const amb: BlkidProbe = { kind: "ambivalent", detail: "ambivalent result (probably more filesystems on the device, use wipefs(8) to see more details)" };
    expect(decideDisk(survey({ whole: amb }), wanted()).action).to.equal("refuse");
  });

  it("a partition table blkid sees and sfdisk cannot read is data (its entries are unknown)", () => {
    const s = survey({ whole: { kind: "found", tags: { PTTYPE: "atari" } } });
    expect(isEmptyDisk(s)).to.equal(false);
    const d = decideDisk(s, wanted());
    expect(d.action).to.equal("refuse");
    if (d.action === "refuse") expect(d.reason).to.contain("a atari partition table that sfdisk cannot read");
    // overwrite does not rewrite it either (partition: false formats the whole disk over it).
    expect(decideDisk(s, wanted({ overwrite: true })).action).to.equal("refuse");
    expect(decideDisk(s, wanted({ overwrite: true, partition: false }))).to.include({ action: "format", device: "/dev/sdb" });
  });

  it("an OCFS2 volume is adopted by its UUID (adoptVolume, any form, or the recorded one), never by its label", () => {
    const s = survey({ whole: found("blkid-2.38.1-p-export-dos-table.txt"), table: dosTable, entryFound: OCFS2, visible: true });
    const byLabel = decideDisk(s, wanted());
    expect(byLabel.action).to.equal("refuse");
    if (byLabel.action === "refuse") {
      expect(byLabel.reason).to.contain(`label "ovsroot" UUID ${OCFS2_UUID}`).and.to.contain(`adoptVolume: "${OCFS2_UUID}"`).and.to.contain("overwrite: true");
    }
    expect(decideDisk(s, wanted({ adoptVolume: "d9c10f25-75fa-4b71-b3bc-c2037eb7d87e" }))).to.deep.include({ action: "adopt", device: "/dev/sdb1", uuid: OCFS2_UUID, label: "ovsroot", partition: 1 });
    expect(decideDisk(s, wanted({ recordedUuid: OCFS2_UUID }))).to.include({ action: "adopt", uuid: OCFS2_UUID });
    // overwrite does not reformat the volume this stack recorded.
    expect(decideDisk(s, wanted({ recordedUuid: OCFS2_UUID, overwrite: true })).action).to.equal("adopt");
    const wrong = decideDisk(s, wanted({ adoptVolume: "F".repeat(32), overwrite: true }));
    expect(wrong.action).to.equal("refuse");
    if (wrong.action === "refuse") expect(wrong.reason).to.contain("F".repeat(32)).and.to.contain(OCFS2_UUID);
  });

  it("a volume on a partition with no node here cannot be adopted yet (the message says how to re-read the table)", () => {
    const s = survey({ table: dosTable, entryFound: OCFS2, visible: false });
    const d = decideDisk(s, wanted({ adoptVolume: OCFS2_UUID }));
    expect(d.action).to.equal("refuse");
    if (d.action === "refuse") expect(d.reason).to.contain("/dev/sdb1 does not exist on ovs1").and.to.contain("blockdev --rereadpt /dev/sdb");
  });

  it("resuming on the table this stack wrote (same identifier, one empty entry) formats it; another identifier is refused", () => {
    const s = survey({ whole: found("blkid-2.38.1-p-export-dos-table.txt"), table: dosTable, visible: true });
    expect(decideDisk(s, wanted({ recordedTableId: "0x2417ee0f" }))).to.include({ action: "format", prepare: "none", device: "/dev/sdb1" });
    expect(decideDisk(s, wanted({ recordedTableId: "0x11111111" })).action).to.equal("refuse");
  });

  it("overwrite formats partition 1 in place (the table is never rewritten), or the whole disk with partition false", () => {
    const s = survey({ whole: found("blkid-2.38.1-p-export-dos-table.txt"), table: dosTable, entryFound: found("blkid-2.38.1-p-export-ext4-at-offset.txt"), visible: true });
    expect(decideDisk(s, wanted({ overwrite: true }))).to.include({ action: "format", prepare: "none", device: "/dev/sdb1", partition: 1 });
    expect(decideDisk(s, wanted({ overwrite: true, partition: false }))).to.include({ action: "format", device: "/dev/sdb" });
    expect(decideDisk(survey({ whole: found("blkid-2.38.1-p-export-lvm2.txt") }), wanted({ overwrite: true }))).to.include({ action: "format", prepare: "new-table" });
  });

  it("canonical UUIDs are 32 upper-case hex digits", () => {
    expect(canonicalOcfs2Uuid("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9")).to.equal("0A1B2C3D4E5F60718293A4B5C6D7E8F9");
  });
});
