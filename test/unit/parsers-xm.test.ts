import { expect } from "chai";
import { readFileSync } from "fs";
import { join } from "path";
import { ParseError, parseXmCreate, parseXmError, parseXmInfo, parseXmList } from "../../provider/parsers";

// Samples live in the source tree; tests run from dist/test/unit.
const sample = (name: string): string => readFileSync(join(__dirname, "../../../test/fixtures/samples", name), "utf8");

describe("parsers: xm list", () => {
  it("reads Domain-0 and guests with ids, memory, vcpus, states and times", () => {
    const doms = parseXmList(sample("xm-list-xen34.txt"));
    expect(doms.map((d) => d.name)).to.deep.equal(["Domain-0", "vm1", "vm2", "paused-vm", "stopped-managed"]);
    const [dom0, vm1, , paused, stopped] = doms;
    expect(dom0).to.include({ id: 0, memoryMb: 1024, vcpus: 2, state: "r-----", cpuTimeSeconds: 1234.5 });
    expect(dom0.flags.running).to.equal(true);
    expect(vm1).to.include({ id: 3, memoryMb: 512, vcpus: 1, state: "-b----", cpuTimeSeconds: 56.7 });
    expect(vm1.flags).to.deep.equal({ running: false, blocked: true, paused: false, shutdown: false, crashed: false, dying: false });
    expect(paused.flags.paused).to.equal(true);
    expect(stopped.id).to.equal(null);
    expect(stopped.memoryMb).to.equal(1024);
  });

  it("tolerates squeezed whitespace and blank lines", () => {
    const doms = parseXmList("Name ID Mem VCPUs State Time(s)\n\nDomain-0 0 512 1 r----- 3.0\n  vm9   12  256  1  ---s--  1.5  \n");
    expect(doms[1]).to.include({ name: "vm9", id: 12, memoryMb: 256, state: "---s--" });
    expect(doms[1].flags.shutdown).to.equal(true);
  });

  it("throws ParseError naming the command and the line on a row it cannot read", () => {
    try {
      parseXmList("Name ID Mem VCPUs State Time(s)\nDomain-0 0 512 1 running 3.0\n");
      expect.fail("should throw");
    } catch (e) {
      expect(e).to.be.instanceOf(ParseError);
      expect((e as ParseError).command).to.equal("xm list");
      expect((e as ParseError).line).to.equal("Domain-0 0 512 1 running 3.0");
      expect((e as ParseError).lineNumber).to.equal(2);
    }
  });

  it("throws on an xm error instead of returning no domains", () => {
    expect(() => parseXmList("Error: Unable to connect to xend: No such file or directory. Is xend running?\n")).to.throw(ParseError, /xm list/);
    expect(() => parseXmList("")).to.throw(ParseError);
  });
});

describe("parsers: xm info", () => {
  it("reads host, CPUs and memory, keeping values that contain colons", () => {
    const info = parseXmInfo(sample("xm-info-xen34.txt"));
    expect(info).to.include({ host: "ovs1.example.com", nrCpus: 4, totalMemoryMb: 8191, freeMemoryMb: 5120 });
    expect(info.fields.hw_caps).to.equal("bfebfbff:20100000:00000000:00000140:0004e3bd:00000000:00000001:00000000");
    expect(info.fields.xen_extra).to.equal(".0");
  });

  it("throws when a required key is missing or a line is not key: value", () => {
    expect(() => parseXmInfo("host : a\nnr_cpus : 2\ntotal_memory : 100\n")).to.throw(ParseError, /free_memory/);
    expect(() => parseXmInfo("host : a\ngarbage line\n")).to.throw(ParseError, /garbage line/);
    expect(() => parseXmInfo("host : a\nnr_cpus : two\ntotal_memory : 1\nfree_memory : 1\n")).to.throw(ParseError, /nr_cpus/);
  });
});

describe("parsers: xm messages", () => {
  it("classifies the documented errors", () => {
    expect(parseXmError("Error: Domain 'vm7' does not exist.\n")).to.deep.include({ kind: "no-such-domain", domain: "vm7" });
    expect(parseXmError("Error: Domain 'vm1' already exists with ID '3'\n")).to.deep.include({ kind: "already-exists", domain: "vm1", id: 3 });
    expect(parseXmError("Error: Unable to connect to xend: Connection refused. Is xend running?")!.kind).to.equal("xend-down");
    expect(parseXmError("Error: can't connect: (111, 'Connection refused')")!.kind).to.equal("connection-refused");
    expect(parseXmError("Error: something new")!.kind).to.equal("other");
    expect(parseXmError("")).to.equal(null);
  });

  it("reads the started domain from xm create", () => {
    const r = parseXmCreate('Using config file "/OVS/running_pool/vm1/vm.cfg".\nStarted domain vm1 (id=5)\n');
    expect(r).to.deep.equal({ name: "vm1", id: 5, configFile: "/OVS/running_pool/vm1/vm.cfg" });
    expect(parseXmCreate('Using config file "x".\n')).to.equal(null);
  });
});
