import { expect } from "chai";
import { readFileSync } from "fs";
import { join } from "path";
import {
  ParseError, findMount, formatFstab, formatVmCfg, fstabEntries, mountOption, parseFstab, parseMtab, parseVmCfg,
} from "../../provider/parsers";

const sample = (name: string): string => readFileSync(join(__dirname, "../../../test/fixtures/samples", name), "utf8");

describe("parsers: /proc/mounts and /etc/mtab", () => {
  it("reads entries, options and octal escapes", () => {
    const m = parseMtab(sample("proc-mounts-ocfs2.txt"));
    expect(m).to.have.length(7);
    const ovs = findMount(m, "/OVS/")!;
    expect(ovs).to.deep.equal({ source: "/dev/sdb1", mountPoint: "/OVS", fsType: "ocfs2", options: ["rw", "_netdev", "heartbeat=local"], dump: 0, pass: 0 });
    expect(mountOption(ovs.options, "heartbeat")).to.equal("local");
    expect(mountOption(ovs.options, "_netdev")).to.equal(true);
    expect(mountOption(ovs.options, "ro")).to.equal(undefined);
    expect(m[6].mountPoint).to.equal("/OVS/remote pool");
    expect(findMount(m, "/nowhere")).to.equal(undefined);
  });

  it("throws ParseError on a short line", () => {
    expect(() => parseMtab("/dev/sdb1 /OVS\n")).to.throw(ParseError, /line 1.*\/dev\/sdb1 \/OVS/);
  });
});

describe("parsers: /etc/fstab", () => {
  it("keeps comments and blanks and reads entries", () => {
    const lines = parseFstab(sample("fstab-ovs.txt"));
    expect(lines.map((l) => l.kind)).to.deep.equal(["comment", "entry", "blank", "entry", "entry"]);
    const entries = fstabEntries(lines);
    expect(entries[2]).to.deep.equal({ source: "/dev/sdb1", mountPoint: "/OVS", fsType: "ocfs2", options: ["_netdev", "datavolume", "nointr"], dump: 0, pass: 0 });
    expect(entries[0]).to.include({ source: "LABEL=/", dump: 1, pass: 1 });
  });

  it("writes untouched lines back byte for byte and formats new entries escaped", () => {
    const text = sample("fstab-ovs.txt");
    const lines = parseFstab(text);
    expect(formatFstab(lines)).to.equal(text);
    const added = formatFstab([...lines, { kind: "entry", entry: { source: "host:/OVS", mountPoint: "/OVS/my pool", fsType: "nfs", options: ["hard", "tcp"], dump: 0, pass: 0 } }]);
    expect(added.endsWith("host:/OVS /OVS/my\\040pool nfs hard,tcp 0 0\n")).to.equal(true);
  });

  it("defaults options/dump/pass and rejects garbage", () => {
    expect(fstabEntries(parseFstab("/dev/sdb1 /OVS ocfs2\n"))[0]).to.deep.include({ options: ["defaults"], dump: 0, pass: 0 });
    expect(() => parseFstab("/dev/sdb1 /OVS\n")).to.throw(ParseError, /fstab/);
    expect(() => parseFstab("/dev/sdb1 /OVS ocfs2 defaults x 0\n")).to.throw(ParseError);
  });
});

describe("parsers: vm.cfg", () => {
  it("reads strings, ints, multi-line lists, comments and ; statements", () => {
    const cfg = parseVmCfg(sample("vm-cfg-vm1.txt"));
    expect(cfg.name).to.equal("vm1");
    expect(cfg.memory).to.equal(1024);
    expect(cfg.vcpus).to.equal(2);
    expect(cfg.disk).to.deep.equal(["file:/OVS/running_pool/vm1/System.img,xvda,w", "file:/OVS/running_pool/vm1/data.img,xvdb,w"]);
    expect(cfg.vif).to.deep.equal(["bridge=xenbr0,mac=00:16:3E:12:34:56"]);
    expect(cfg.on_crash).to.equal("restart");
    expect(cfg.acpi).to.equal(1);
    expect(cfg.apic).to.equal(1);
    expect(cfg.extra).to.equal("it's ok");
  });

  it("reads booleans, None, floats, tuples and nested lists", () => {
    expect(parseVmCfg("a = True\nb = None\nc = 1.5\nd = ('x', 2)\ne = [[1], []]\nf = -3\n"))
      .to.deep.equal({ a: true, b: null, c: 1.5, d: ["x", 2], e: [[1], []], f: -3 });
  });

  it("round-trips through formatVmCfg, including quotes and newlines", () => {
    const cfg = { name: "vm'1", memory: 512, disk: ["file:/a b,xvda,w"], extra: "x\\y\nz", hap: false };
    expect(parseVmCfg(formatVmCfg(cfg))).to.deep.equal(cfg);
    expect(() => formatVmCfg({ "bad key": 1 })).to.throw(RangeError);
  });

  it("throws ParseError with the line on what it cannot read", () => {
    expect(() => parseVmCfg("name = 'vm1'\nmemory = 1024 * 2\n")).to.throw(ParseError, /line 2/);
    expect(() => parseVmCfg("name = 'vm1\n")).to.throw(ParseError, /unterminated/);
    expect(() => parseVmCfg("disk = ['a', 'b'\n")).to.throw(ParseError);
    expect(() => parseVmCfg("import os\n")).to.throw(ParseError, /vm\.cfg/);
  });
});
