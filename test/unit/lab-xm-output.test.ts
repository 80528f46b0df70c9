import { expect } from "chai";
import { formatInfo, formatList, formatListHeader, formatListRow, stateFlags } from "../../lab/hypervisor/xm-output";

describe("lab xm: list and info text", () => {
  it("prints the list header with Xen 3.4 column widths", () => {
    const h = formatListHeader();
    // %-40s %5s %5s %5s %10s %9s
    expect(h).to.equal("Name" + " ".repeat(36) + " " + "   ID" + " " + "  Mem" + " " + "VCPUs" + " " + "     State" + " " + "  Time(s)");
    expect(h.length).to.equal(40 + 1 + 5 + 1 + 5 + 1 + 5 + 1 + 10 + 1 + 9);
  });

  it("prints rows as %-40s %5s %5d %5d %10s %8.1f", () => {
    const row = formatListRow({ name: "vm1", id: 3, memory: 1024, vcpus: 2, state: "-b----", cpuSeconds: 12.345 });
    expect(row).to.equal("vm1".padEnd(40) + "     3  1024     2     -b----     12.3");
    const cols = row.slice(41).split(/\s+/).filter(Boolean);
    expect(cols).to.deep.equal(["3", "1024", "2", "-b----", "12.3"]);
    // A 40-character name fills its column and keeps the separating space.
    const long = formatListRow({ name: "x".repeat(40), id: 12, memory: 512, vcpus: 1, state: "r-----", cpuSeconds: 0 });
    expect(long.slice(0, 41)).to.equal("x".repeat(40) + " ");
    expect(long.endsWith("     0.0")).to.equal(true);
  });

  it("lists the header then one line per row, newline-terminated", () => {
    const text = formatList([
      { name: "Domain-0", id: 0, memory: 512, vcpus: 2, state: "r-----", cpuSeconds: 100 },
      { name: "vm1", id: 1, memory: 256, vcpus: 1, state: "-b----", cpuSeconds: 0.04 },
    ]);
    const lines = text.split("\n");
    expect(lines).to.have.length(4);
    expect(lines[3]).to.equal("");
    expect(lines[1].startsWith("Domain-0 ")).to.equal(true);
    expect(lines[2]).to.match(/^vm1 +1 +256 +1 +-b---- +0\.0$/);
  });

  it("maps domain states to the six rbpscd positions", () => {
    expect(stateFlags("running", false)).to.equal("-b----");
    expect(stateFlags("running", true)).to.equal("--p---");
    expect(stateFlags("paused", true)).to.equal("--p---");
    expect(stateFlags("migrating", false)).to.equal("--p---");
    expect(stateFlags("shutdown", false)).to.equal("---s--");
  });

  it("prints xm info keys padded to 23 columns", () => {
    const text = formatInfo({ host: "ovs1", nrCpus: 4, totalMemoryMb: 8192, freeMemoryMb: 5000 });
    const lines = text.trimEnd().split("\n");
    for (const l of lines) expect(l).to.match(/^[a-z_]{1,23} *: /).and.satisfy((s: string) => s.indexOf(": ") === 23);
    const map = Object.fromEntries(lines.map((l) => [l.slice(0, 23).trim(), l.slice(25)]));
    expect(map.host).to.equal("ovs1");
    expect(map.nr_cpus).to.equal("4");
    expect(map.total_memory).to.equal("8192");
    expect(map.free_memory).to.equal("5000");
    expect(map.xen_major).to.equal("3");
    expect(map.xen_minor).to.equal("4");
    expect(lines[0]).to.equal("host                   : ovs1");
  });
});
