import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkLab, findOverlaps, formatCheckReport, incarnationsFromLines, longestGap } from "../../lab/check";

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

  /** A guest's HA record and vm.cfg, as the provider writes them. */
  function haGuest(rel: string, name: string, ha = true): void {
    write(`${rel}/${name}/ha.json`, JSON.stringify({ schemaVersion: 1, name, ha, preferred: "auto", priority: 0, memoryMb: 256, vcpus: 1, vmCfgPath: `/OVS/running_pool/${name}/vm.cfg` }));
    write(`${rel}/${name}/vm.cfg`, `name = '${name}'\nmemory = 256\ndisk = ['file:/OVS/running_pool/${name}/System.img,xvda,w']\n`);
  }

  it("passes a clean migration: the source's last record precedes the target's first; reports the downtime", async () => {
    write("nfs/export/running_pool/vm1/System.img.runlog", runlog([...run("ovs1", 10, 1000, 3000), ...run("ovs2", 20, 3300, 5000)]));
    const r = await checkLab(dir, { guests: ["vm1"], until: 5000 });
    expect(r).to.deep.include({ ok: true, guests: 1, records: 11 + 9, problems: [] });
    expect(r.expected).to.deep.equal([
      { name: "vm1", runlog: "storage/nfs/export/running_pool/vm1/System.img.runlog", records: 20, servers: ["ovs1", "ovs2"], downtimeMs: 300, downtimeFrom: 3000, downtimeTo: 3300 },
    ]);
    const report = formatCheckReport(r).split("\n");
    expect(report[0]).to.equal("ok: 1 guests ran from 1970-01-01T00:00:01.000Z to 1970-01-01T00:00:05.000Z, none on two servers at once");
    expect(report[1]).to.equal("guest vm1: 20 records on ovs1, ovs2; downtime 300 ms (1970-01-01T00:00:03.000Z to 1970-01-01T00:00:03.300Z)");
  });

  it("passes a guest restarted on the same server with a new pid after the old one ended", async () => {
    write("volumes/ABCD/running_pool/vm2/System.img.runlog", runlog([...run("ovs1", 10, 0, 1000), ...run("ovs1", 11, 1400, 2000)]));
    const r = await checkLab(dir, { guests: ["vm2"], until: 2000 });
    expect(r.ok, formatCheckReport(r)).to.equal(true);
    expect(r.expected[0].downtimeMs).to.equal(400);
  });

  it("takes the expected guests from the HA records on the shared storage (ha: false ones are not expected)", async () => {
    haGuest("nfs/export/running_pool", "g1");
    haGuest("volumes/ABCD/running_pool", "g2");
    haGuest("volumes/ABCD/running_pool", "g3", false);
    write("nfs/export/running_pool/g1/System.img.runlog", runlog(run("ovs1", 1, 0, 1000)));
    write("volumes/ABCD/running_pool/g2/System.img.runlog", runlog(run("ovs2", 2, 0, 1000)));
    const r = await checkLab(dir, { until: 1000 });
    expect(r.ok, formatCheckReport(r)).to.equal(true);
    expect(r.expected.map((g) => [g.name, g.records])).to.deep.equal([["g1", 6], ["g2", 6]]);
  });

  it("fails when an expected guest has no run record in the window, naming it", async () => {
    haGuest("nfs/export/running_pool", "g1");
    haGuest("nfs/export/running_pool", "g2");
    write("nfs/export/running_pool/g1/System.img.runlog", runlog(run("ovs1", 1, 0, 1000)));
    write("nfs/export/running_pool/g2/System.img.runlog", runlog(run("ovs1", 2, 0, 400)));
    const missing = await checkLab(dir, { until: 1000 });
    expect(missing.ok).to.equal(true); // g2 has records in the window (it stopped at 400: downtime 600)
    expect(missing.expected[1].downtimeMs).to.equal(600);
    const later = await checkLab(dir, { since: 500, until: 1000 });
    expect(later.ok).to.equal(false);
    expect(later.problems).to.deep.equal(["MISSING g2: no run record from 1970-01-01T00:00:00.500Z to 1970-01-01T00:00:01.000Z"]);
    const named = await checkLab(dir, { guests: ["g1", "nosuch"], until: 1000 });
    expect(named.ok).to.equal(false);
    expect(named.problems).to.deep.equal(["MISSING nosuch: no run log found (it never ran on any server)"]);
    const slow = await checkLab(dir, { until: 1000, maxDowntimeMs: 500 });
    expect(slow.problems).to.deep.equal(["DOWNTIME g2: 600 ms without a record from 1970-01-01T00:00:00.400Z to 1970-01-01T00:00:01.000Z (at most 500 ms allowed)"]);
  });

  it("longest gap counts the window's edges", () => {
    expect(longestGap([], 0, 1000)).to.deep.equal({ ms: 1000, from: 0, to: 1000 });
    expect(longestGap([100, 200, 900], 0, 1000)).to.deep.equal({ ms: 700, from: 200, to: 900 });
    expect(longestGap([100, 5000], 0, 1000)).to.deep.equal({ ms: 900, from: 100, to: 1000 });
  });

  it("fails when two servers ran the same guest at once, naming both and the window", async () => {
    // Interleaved lines, as two writers appending to one shared file produce.
    const lines = [...run("ovs1", 10, 0, 2000), ...run("ovs3", 30, 1500, 4000)].sort((a, b) => a[2] - b[2]);
    write("nfs/export/running_pool/vm1/System.img.runlog", runlog(lines));
    write("volumes/ABCD/running_pool/other/System.img.runlog", runlog(run("ovs2", 5, 0, 4000)));
    const r = await checkLab(dir, { guests: ["vm1", "other"], until: 4000 });
    expect(r.ok).to.equal(false);
    expect(r.problems).to.deep.equal([]);
    expect(r.guests).to.equal(2);
    expect(r.overlaps).to.have.length(1);
    const o = r.overlaps[0];
    expect(o.guest).to.equal(path.join("storage", "nfs/export/running_pool/vm1/System.img.runlog"));
    expect([o.a.server, o.b.server]).to.deep.equal(["ovs1", "ovs3"]);
    expect([o.start, o.end]).to.deep.equal([1500, 2000]);
    const report = formatCheckReport(r).split("\n");
    expect(report[0]).to.equal("FAILED");
    expect(report.filter((l) => l.startsWith("OVERLAP"))).to.have.length(1);
    expect(report[1]).to.contain("ovs1 pid 10").and.contain("ovs3 pid 30").and.contain("1970-01-01T00:00:01.500Z").and.contain("(500 ms)");
  });

  it("catches a same-server double start (two pids at once) and skips torn lines", () => {
    const { incarnations, records } = incarnationsFromLines(["ovs1 1 100", "ovs1 2 150", "garbage", "ovs1 1 300", "ovs1 2 3", ""]);
    expect(records).to.equal(4);
    expect(incarnations.map((i) => [i.pid, i.first, i.last])).to.deep.equal([[2, 3, 150], [1, 100, 300]]);
    expect(findOverlaps("g", incarnations)).to.have.length(1);
  });

  it("never passes on nothing: no storage, no expected guest, or no run record at all is a failure that says so", async () => {
    const empty = await checkLab(dir, { until: 1000 });
    expect(empty.ok).to.equal(false);
    expect(empty.problems).to.have.length(2);
    expect(empty.problems[0]).to.match(/^no expected guests: no HA guest record .* name the guests that must have run \(--guests a,b,c\)$/);
    expect(empty.problems[1]).to.match(/^no run records at all under /);
    expect(formatCheckReport(empty).split("\n")[0]).to.equal("FAILED");
    // Records, but nobody said which guests should have run.
    write("nfs/export/running_pool/vm1/System.img.runlog", runlog(run("ovs1", 1, 0, 1000)));
    expect((await checkLab(dir, { until: 1000 })).problems).to.have.length(1);
    expect((await checkLab(dir, { guests: [], until: 1000 })).problems).to.deep.equal(["no expected guests: the list given is empty"]);
    // Expected guests, but not one record.
    haGuest("volumes/ABCD/running_pool", "g1");
    fs.rmSync(path.join(dir, "storage", "nfs"), { recursive: true });
    const none = await checkLab(dir, { until: 1000 });
    expect(none.ok).to.equal(false);
    expect(none.problems.some((p) => p.startsWith("no run records at all"))).to.equal(true);
    expect(none.problems).to.include("MISSING g1: no run log found (it never ran on any server)");
  });
});
