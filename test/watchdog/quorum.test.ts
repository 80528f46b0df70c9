// The isolation rule on its own: symmetric, independent of order, and a drained server left running is contact.
import { expect } from "chai";
import { quorum, type ServerStatus } from "../../watchdog/core/server-state";

const answering = (state: ServerStatus["state"] = "up"): ServerStatus => ({ state, since: 0, misses: 0, lastOkAt: 1 });
const silent = (state: ServerStatus["state"] = "suspect"): ServerStatus => ({ state, since: 0, misses: 3, lastOkAt: 1 });

describe("watchdog isolation rule (quorum)", () => {
  it("2 of 4 silent holds whichever two they are (no list order)", () => {
    const pools = [
      [silent(), silent(), answering(), answering()],
      [answering(), answering(), silent(), silent()],
      [silent(), answering(), silent(), answering()],
    ];
    for (const p of pools) expect(quorum(p, 3)).to.include({ ok: false, reachable: 2, base: 4 });
  });
  it("1 of 3 silent acts; 2 of 3 silent holds; 1 of 2 silent holds", () => {
    expect(quorum([silent(), answering(), answering()], 3).ok).to.equal(true);
    expect(quorum([silent(), silent(), answering()], 3).ok).to.equal(false);
    expect(quorum([silent(), answering()], 3).ok).to.equal(false);
  });
  it("a drained server that still answers is contact; once silent it is known off and out of the count", () => {
    expect(quorum([answering("down"), answering(), silent()], 3)).to.include({ ok: true, reachable: 2, base: 3 });
    expect(quorum([silent("down"), answering(), silent()], 3)).to.include({ ok: false, reachable: 1, base: 2 });
    expect(quorum([silent("fenced"), answering(), answering(), silent()], 3)).to.include({ ok: true, reachable: 2, base: 3 });
  });
});
