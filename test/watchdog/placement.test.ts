// Target choice, table-driven: preferred order vs auto, capacity, priority ordering, no overcommit.
import { expect } from "chai";
import { byPriority, chooseTarget, planPlacements, type Candidate, type PlacementGuest } from "../../ha/placement";

const c = (name: string, freeMemoryMb: number): Candidate => ({ name, freeMemoryMb });
const guest = (preferred: PlacementGuest["preferred"], memoryMb = 1024, priority = 0, name = "vm"): PlacementGuest => ({
  name,
  memoryMb,
  preferred,
  priority,
});

describe("placement: chooseTarget", () => {
  const table: { what: string; g: PlacementGuest; cands: Candidate[]; want: string | undefined; reason?: RegExp }[] = [
    { what: "auto picks most free memory", g: guest("auto"), cands: [c("s1", 2048), c("s2", 4096), c("s3", 3072)], want: "s2", reason: /most free memory \(4096 MB\)/ },
    { what: "auto tie goes to pool order", g: guest("auto"), cands: [c("s1", 4096), c("s2", 4096)], want: "s1" },
    { what: "auto skips servers without room", g: guest("auto", 4096), cands: [c("s1", 4095), c("s2", 4096)], want: "s2" },
    { what: "auto with exact fit", g: guest("auto", 2048), cands: [c("s1", 2048)], want: "s1" },
    { what: "auto with nothing big enough", g: guest("auto", 8192), cands: [c("s1", 4096)], want: undefined, reason: /no available server has 8192 MB free/ },
    { what: "auto with no candidates", g: guest("auto"), cands: [], want: undefined, reason: /no server available/ },
    { what: "first preferred wins over more free memory", g: guest(["s3", "s1"]), cands: [c("s1", 9000), c("s3", 1024)], want: "s3", reason: /^preferred #1$/ },
    { what: "preferred skips an unavailable server", g: guest(["s2", "s3"]), cands: [c("s1", 9000), c("s3", 2048)], want: "s3", reason: /preferred #2 \(s2 unavailable\)/ },
    { what: "preferred skips a full server", g: guest(["s1", "s3"], 2048), cands: [c("s1", 2047), c("s3", 2048)], want: "s3", reason: /s1 full \(2047 MB free\)/ },
    { what: "strict list: nothing outside it", g: guest(["s2"]), cands: [c("s1", 9000)], want: undefined, reason: /no preferred server available \(s2 unavailable\)/ },
  ];
  for (const row of table) {
    it(row.what, () => {
      const got = chooseTarget(row.g, row.cands);
      expect(got.server).to.equal(row.want);
      if (row.reason) expect(got.reason).to.match(row.reason);
    });
  }
});

describe("placement: planPlacements and byPriority", () => {
  it("orders by priority, then name", () => {
    const order = byPriority([
      { name: "b", priority: 1 },
      { name: "a", priority: 1 },
      { name: "z", priority: 9 },
    ]).map((g) => g.name);
    expect(order).to.deep.equal(["z", "a", "b"]);
  });
  it("never overcommits: the batch shares the free memory", () => {
    const plan = planPlacements(
      [guest("auto", 3072, 0, "low"), guest("auto", 3072, 5, "high"), guest("auto", 3072, 3, "mid")],
      [c("s1", 4096), c("s2", 4096)],
    );
    const by = Object.fromEntries(plan.map((p) => [p.guest, p.choice.server]));
    expect(by).to.deep.equal({ high: "s1", mid: "s2", low: undefined });
  });
  it("a preferred guest and an auto guest compete by priority", () => {
    const plan = planPlacements([guest(["s1"], 2048, 0, "pref"), guest("auto", 2048, 1, "auto")], [c("s1", 3072), c("s2", 2048)]);
    // auto goes first (priority 1) and takes s1 (most free); pref no longer fits on its only server.
    expect(plan.map((p) => [p.guest, p.choice.server])).to.deep.equal([
      ["auto", "s1"],
      ["pref", undefined],
    ]);
  });
});
