import { expect } from "chai";
import { readFileSync } from "fs";
import { join } from "path";
import {
  ParseError, addedPartitions, parseBlkid, parseBlkidType, parseMkfsOcfs2Output, parseMountedOcfs2Detect,
  parseMountedOcfs2Full, parseProcPartitions, parseBlkidExport, parseSfdiskDump, isNoPartitionTable,
} from "../../provider/parsers";

const sample = (name: string): string => readFileSync(join(__dirname, "../../../test/fixtures/samples", name), "utf8");

describe("parsers: /proc/partitions", () => {
  it("reads the seed chapter's rows and finds the new iSCSI disk", () => {
    const before = parseProcPartitions(sample("proc-partitions-seed-before.txt"));
    const after = parseProcPartitions(sample("proc-partitions-seed-after.txt"));
    expect(before).to.have.length(5);
    expect(before[0]).to.deep.equal({ major: 8, minor: 0, blocks: 71687372, name: "sda" });
    expect(before[4]).to.deep.equal({ major: 253, minor: 1, blocks: 1048576, name: "dm-1" });
    expect(addedPartitions(before, after)).to.deep.equal([{ major: 8, minor: 16, blocks: 1048576, name: "sdb" }]);
  });

  it("accepts the header without the blank line and rejects a missing header or a bad row", () => {
    expect(parseProcPartitions("major minor  #blocks  name\n   8    16    1048576 sdb\n")[0].name).to.equal("sdb");
    expect(() => parseProcPartitions("   8    16    1048576 sdb\n")).to.throw(ParseError, /header/);
    expect(() => parseProcPartitions("major minor  #blocks  name\n\n   8    x    1 sdb\n")).to.throw(ParseError, /line 3/);
  });
});

describe("parsers: blkid", () => {
  it("reads the value form and exit 2 as nothing found", () => {
    expect(parseBlkidType("ocfs2\n", 0)).to.equal("ocfs2");
    expect(parseBlkidType("", 2)).to.equal(null);
    expect(() => parseBlkidType("", 4)).to.throw(ParseError, /exit code 4/);
    expect(() => parseBlkidType("ocfs2\next3\n", 0)).to.throw(ParseError);
  });

  it("reads the full form generated on this machine", () => {
    const [d] = parseBlkid(sample("blkid-1.8-loop.txt"));
    expect(d.device).to.match(/^\/dev\/loop\d+$/);
    expect(d).to.include({ type: "ocfs2", label: "mylabel" });
    expect(d.uuid).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(d.tags.BLOCK_SIZE).to.equal("4096");
  });

  it("unescapes quotes in values and rejects malformed tags", () => {
    const [d] = parseBlkid('/dev/sdb1: LABEL="a \\"b\\"" UUID="1" TYPE="ocfs2"\n');
    expect(d.label).to.equal('a "b"');
    expect(() => parseBlkid("/dev/sdb1: LABEL=ovs\n")).to.throw(ParseError, /blkid/);
  });
});

describe("parsers: mounted.ocfs2", () => {
  it("reads -d in the 1.8 layout printed on this machine (blank Cluster and F)", () => {
    const v = parseMountedOcfs2Detect(sample("mounted-ocfs2-1.8-d.txt"));
    expect(v).to.have.length(1);
    expect(v[0].device).to.match(/^\/dev\/loop\d+$/);
    expect(v[0]).to.include({ stack: "o2cb", label: "mylabel" });
    expect(v[0].uuid).to.match(/^[0-9A-F]{32}$/);
    expect(v[0].cluster).to.equal(undefined);
    expect(v[0].flags).to.equal(undefined);
    expect(parseMountedOcfs2Detect(sample("mounted-ocfs2-1.8-d-empty.txt"))).to.deep.equal([]);
  });

  it("reads the brief's 1.8 example and a global-heartbeat row with cluster and flag", () => {
    const text = "Device      Stack  Cluster  F  UUID                              Label\n" +
      "/dev/loop1  o2cb               23B85C3C8D4E4B389E0937FE12A1BD11  mylabel\n" +
      "/dev/loop2  o2cb   pool1    G  33B85C3C8D4E4B389E0937FE12A1BD11  other label\n";
    const v = parseMountedOcfs2Detect(text);
    expect(v[0]).to.deep.equal({ device: "/dev/loop1", stack: "o2cb", uuid: "23B85C3C8D4E4B389E0937FE12A1BD11", label: "mylabel" });
    expect(v[1]).to.deep.equal({ device: "/dev/loop2", stack: "o2cb", cluster: "pool1", flags: "G",
      uuid: "33B85C3C8D4E4B389E0937FE12A1BD11", label: "other label" });
  });

  it("reads -d in the 1.4 layout, including an empty label", () => {
    const v = parseMountedOcfs2Detect(sample("mounted-ocfs2-1.4-d.txt"));
    expect(v[0]).to.deep.equal({ device: "/dev/sdb1", fs: "ocfs2", stack: "o2cb", uuid: "0F4F2AD7A52A4FFC8A1B5E3C2D1E0F9A", label: "mylabel" });
    expect(v[1]).to.include({ device: "/dev/sdc1", label: "" });
  });

  it("tolerates squeezed whitespace", () => {
    const v = parseMountedOcfs2Detect("Device FS Stack UUID Label\n/dev/sdb1 ocfs2 o2cb 0F4F2AD7A52A4FFC8A1B5E3C2D1E0F9A root\n");
    expect(v[0]).to.include({ fs: "ocfs2", stack: "o2cb", label: "root" });
  });

  it("reads -f in both layouts", () => {
    const f18 = parseMountedOcfs2Full(sample("mounted-ocfs2-1.8-f.txt"));
    expect(f18).to.have.length(1);
    expect(f18[0]).to.include({ stack: "o2cb" });
    expect(f18[0].nodes).to.deep.equal([]);
    const f14 = parseMountedOcfs2Full(sample("mounted-ocfs2-1.4-f.txt"));
    expect(f14[0]).to.deep.equal({ device: "/dev/sdb1", fs: "ocfs2", nodes: ["ovs1", "ovs2"] });
    expect(f14[1]).to.deep.equal({ device: "/dev/sdc1", fs: "ocfs2", nodes: [] });
    const squeezed = parseMountedOcfs2Full("Device Stack Cluster F Nodes\n/dev/loop1 o2cb ovs1, ovs3\n");
    expect(squeezed[0]).to.deep.equal({ device: "/dev/loop1", stack: "o2cb", nodes: ["ovs1", "ovs3"] });
  });

  it("throws ParseError on an unknown header or a row without UUID", () => {
    expect(() => parseMountedOcfs2Detect("Disk Type\n")).to.throw(ParseError, /mounted\.ocfs2 -d/);
    expect(() => parseMountedOcfs2Detect("Device FS Stack UUID Label\n/dev/sdb1 ocfs2 o2cb nothex label\n")).to.throw(ParseError, /UUID/);
    expect(() => parseMountedOcfs2Full("")).to.throw(ParseError);
  });
});

describe("parsers: mkfs.ocfs2 output", () => {
  it("recognises the genuine success output and its geometry", () => {
    const r = parseMkfsOcfs2Output(sample("mkfs-ocfs2-1.8-success.stdout"), 0);
    expect(r).to.deep.include({ outcome: "success", overwroteExisting: false, label: "mylabel", blockSize: 4096,
      clusterSize: 4096, nodeSlots: 16, volumeSizeBytes: 268435456, journalSizeBytes: 4194304, messages: [] });
  });

  it("does not count success without the final line or with a non-zero exit", () => {
    const truncated = sample("mkfs-ocfs2-1.8-success.stdout").replace("mkfs.ocfs2 successful", "");
    expect(parseMkfsOcfs2Output(truncated, 0).outcome).to.equal("failed");
    expect(parseMkfsOcfs2Output(sample("mkfs-ocfs2-1.8-success.stdout"), 1).outcome).to.equal("failed");
  });

  it("reports an existing OCFS2 volume and the refusals", () => {
    const genuine = parseMkfsOcfs2Output(sample("mkfs-ocfs2-1.8-overwrite-eof.stdout") + sample("mkfs-ocfs2-1.8-overwrite-eof.stderr"), 1);
    expect(genuine.overwroteExisting).to.equal(true);
    expect(genuine.outcome).to.equal("cluster-unavailable");
    const aborted = parseMkfsOcfs2Output("Overwriting existing ocfs2 partition.\nProceed (y/N): Aborting operation.\n", 1);
    expect(aborted).to.include({ outcome: "overwrite-refused", overwroteExisting: true });
    const mounted = parseMkfsOcfs2Output("mkfs.ocfs2: /dev/sdb1 is mounted; will not make a ocfs2 volume here!\n", 1);
    expect(mounted.outcome).to.equal("device-mounted");
    expect(mounted.messages[0]).to.contain("/dev/sdb1");
    expect(parseMkfsOcfs2Output(sample("mkfs-ocfs2-1.8-label-too-long.stderr"), 1).outcome).to.equal("label-too-long");
  });
});

describe("parsers: mkfs.ocfs2 1.8.7 as captured here (no o2cb on the build machine)", () => {
  it("an existing volume without -F: the cluster check cannot run", () => {
    const r = parseMkfsOcfs2Output(sample("mkfs-ocfs2-1.8.7-existing-no-cluster.stdout") + sample("mkfs-ocfs2-1.8.7-existing-no-cluster.stderr"), 1);
    expect(r).to.include({ outcome: "cluster-unavailable", overwroteExisting: true });
    expect(r.messages).to.deep.equal(["mkfs.ocfs2: Unable to access cluster service while initializing the cluster"]);
  });
  it("with -F the prompt reads EOF and aborts; over ext4 it formats without asking", () => {
    const f = parseMkfsOcfs2Output(sample("mkfs-ocfs2-1.8.7-existing-force-eof.stdout") + sample("mkfs-ocfs2-1.8.7-existing-force-eof.stderr"), 1);
    expect(f).to.include({ outcome: "overwrite-refused", overwroteExisting: true });
    const ext4 = parseMkfsOcfs2Output(sample("mkfs-ocfs2-1.8.7-over-ext4.stdout") + sample("mkfs-ocfs2-1.8.7-over-ext4.stderr"), 0);
    expect(ext4).to.include({ outcome: "success", overwroteExisting: false, nodeSlots: 2 });
  });
  it("a volume mounted on another node (check.c's wording)", () => {
    const r = parseMkfsOcfs2Output("Overwriting existing ocfs2 partition.\nmkfs.ocfs2: Trylock failed while locking the cluster\nThis volume appears to be in use in the cluster.\n", 1);
    expect(r.outcome).to.equal("in-use-in-cluster");
  });
});

describe("parsers: blkid -p -o export (util-linux 2.38.1)", () => {
  it("reads a partition table, a file system at an offset, an LVM PV (escaped space) and OCFS2", () => {
    expect(parseBlkidExport(sample("blkid-2.38.1-p-export-dos-table.txt"), 0)).to.deep.equal({ kind: "found", tags: { PTUUID: "2417ee0f", PTTYPE: "dos" } });
    const ext4 = parseBlkidExport(sample("blkid-2.38.1-p-export-ext4-at-offset.txt"), 0);
    expect(ext4.kind === "found" && ext4.tags).to.deep.include({ TYPE: "ext4", LABEL: "userdata", UUID: "e06659e5-108e-4bf6-9f9a-ba0c2deb552d", USAGE: "filesystem" });
    const pv = parseBlkidExport(sample("blkid-2.38.1-p-export-lvm2.txt"), 0);
    expect(pv.kind === "found" && pv.tags).to.deep.include({ TYPE: "LVM2_member", VERSION: "LVM2 001", USAGE: "raid" });
    const o = parseBlkidExport(sample("blkid-2.38.1-p-export-ocfs2.txt"), 0);
    expect(o.kind === "found" && o.tags).to.deep.include({ TYPE: "ocfs2", LABEL: "ovsroot", UUID: "d9c10f25-75fa-4b71-b3bc-c2037eb7d87e" });
  });
  it("exit 2 is nothing, 8 ambivalent, anything else an error (never 'empty')", () => {
    expect(parseBlkidExport("", 2)).to.deep.equal({ kind: "nothing" });
    expect(parseBlkidExport("", 8, "blkid: ambivalent result").kind).to.equal("ambivalent");
    expect(() => parseBlkidExport("", 4, "blkid: invalid option -- 'p'")).to.throw(ParseError, /exit code 4.*invalid option/);
    expect(() => parseBlkidExport("DEVNAME=/dev/sdb\n", 0)).to.throw(ParseError, /no tags/);
    expect(() => parseBlkidExport("garbage\n", 0)).to.throw(ParseError, /NAME=value/);
  });
});

describe("parsers: sfdisk -d (util-linux 2.38.1, and the EL5-era layout)", () => {
  it("reads a DOS table: identifier, entries in sectors", () => {
    expect(parseSfdiskDump(sample("sfdisk-2.38.1-d-dos.txt"))).to.deep.equal({
      label: "dos", id: "0x2417ee0f", sectorSize: 512,
      entries: [{ number: 1, node: "/dev/loop0p1", start: 4096, size: 65536, type: "83" }],
    });
  });
  it("reads a GPT table (uuid= fields ignored)", () => {
    const t = parseSfdiskDump(sample("sfdisk-2.38.1-d-gpt.txt"));
    expect(t.label).to.equal("gpt");
    expect(t.id).to.equal("3A60E6BC-438A-2B4E-831A-96258D1D5AFD");
    expect(t.entries.map((e) => [e.number, e.start, e.size])).to.deep.equal([[1, 2048, 65536], [2, 67584, 61440]]);
  });
  it("reads the pre-2.26 layout (Id=, unused slots of size 0 left out; written after the old sfdisk(8) page, not captured)", () => {
    const old = "# partition table of /dev/sdb\nunit: sectors\n\n/dev/sdb1 : start=       63, size=  2088387, Id=83\n/dev/sdb2 : start=        0, size=        0, Id= 0\n";
    expect(parseSfdiskDump(old)).to.deep.equal({ sectorSize: 512, entries: [{ number: 1, node: "/dev/sdb1", start: 63, size: 2088387, type: "83" }] });
  });
  it("knows sfdisk's 'no table' refusal and rejects what it cannot read", () => {
    expect(isNoPartitionTable(sample("sfdisk-2.38.1-d-no-table.stderr"))).to.equal(true);
    expect(() => parseSfdiskDump("")).to.throw(ParseError, /no header/);
    expect(() => parseSfdiskDump("label: dos\n/dev/sdb1 : start=x, size=1\n")).to.throw(ParseError);
    expect(() => parseSfdiskDump("label: dos\nunit: cylinders\n")).to.throw(ParseError, /unit/);
  });
});
