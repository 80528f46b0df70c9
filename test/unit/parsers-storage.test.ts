import { expect } from "chai";
import { readFileSync } from "fs";
import { join } from "path";
import {
  ParseError, addedPartitions, parseBlkid, parseBlkidType, parseMkfsOcfs2Output, parseMountedOcfs2Detect,
  parseMountedOcfs2Full, parseProcPartitions,
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
