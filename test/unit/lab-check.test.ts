import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkLab, findOverlaps, formatCheckReport, incarnationsFromLines } from "../../lab/check";

function runlog(lines: [string, number, number][]): string {
  return lines.map(([s, p, t]) => `${s} ${p} ${t}`).join("\n") + "\n";
}

/** Records every 200 ms from `from` to `to` inclusive. */
function run(server: string, pid: number, from: number, to: number): [string, number, number][] {
  const out: [string, number, number][] = [];
  for (let t = from; t <= to; t += 200) out.push([server, pid, t]);
  return out;
}

describe("lab check: split-brain checker", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-check-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function write(rel: string, text: string): void {
    const p = path.join(dir, "storage", rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
  }

  it("passes a clean migration: the source's last record precedes the target's first", async () => {
    write("nfs/export/running_pool/vm1/System.img.runlog", runlog([...run("ovs1", 10, 1000, 3000), ...run("ovs2", 20, 3300, 5000)]));
    const r = await checkLab(dir);
    expect(r).to.deep.include({ ok: true, guests: 1, records: 11 + 9 });
    expect(formatCheckReport(r)).to.equal("ok");
  });

  it("passes a guest restarted on the same server with a new pid after the old one ended", async () => {
    write("volumes/ABCD/running_pool/vm2/System.img.runlog", runlog([...run("ovs1", 10, 0, 1000), ...run("ovs1", 11, 1400, 2000)]));
    expect((await checkLab(dir)).ok).to.equal(true);
  });

  it("fails when two servers ran the same guest at once, naming both and the window", async () => {
    // Interleaved lines, as two writers appending to one shared file produce.
    const lines = [...run("ovs1", 10, 0, 2000), ...run("ovs3", 30, 1500, 4000)].sort((a, b) => a[2] - b[2]);
    write("nfs/export/running_pool/vm1/System.img.runlog", runlog(lines));
    write("volumes/ABCD/running_pool/other/System.img.runlog", runlog(run("ovs2", 5, 0, 4000)));
    const r = await checkLab(dir);
    expect(r.ok).to.equal(false);
    expect(r.guests).to.equal(2);
    expect(r.overlaps).to.have.length(1);
    const o = r.overlaps[0];
    expect(o.guest).to.equal(path.join("storage", "nfs/export/running_pool/vm1/System.img.runlog"));
    expect([o.a.server, o.b.server]).to.deep.equal(["ovs1", "ovs3"]);
    expect([o.start, o.end]).to.deep.equal([1500, 2000]);
    const report = formatCheckReport(r);
    expect(report.split("\n")).to.have.length(1);
    expect(report).to.contain("ovs1 pid 10").and.contain("ovs3 pid 30").and.contain("1970-01-01T00:00:01.500Z").and.contain("(500 ms)");
  });

  it("catches a same-server double start (two pids at once) and skips torn lines", () => {
    const { incarnations, records } = incarnationsFromLines(["ovs1 1 100", "ovs1 2 150", "garbage", "ovs1 1 300", "ovs1 2 3", ""]);
    expect(records).to.equal(4);
    expect(incarnations.map((i) => [i.pid, i.first, i.last])).to.deep.equal([[2, 3, 150], [1, 100, 300]]);
    expect(findOverlaps("g", incarnations)).to.have.length(1);
  });

  it("is ok with no storage at all", async () => {
    expect(await checkLab(dir)).to.deep.equal({ ok: true, overlaps: [], guests: 0, records: 0 });
  });
});
