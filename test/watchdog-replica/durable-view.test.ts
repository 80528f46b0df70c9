// Write on change only (pure): what a successor relearns in one heartbeat does not change the durable view
// (listing figures, misses, degraded, a suspect spell), while decisions do (a failed server, a guest's state).
import { expect } from "chai";
import { durableView } from "../../watchdog/replica/durable-view";

const state = (server: Record<string, unknown>, guest: Record<string, unknown> = { state: "running", server: "ovs1", since: 1 }) =>
  JSON.stringify({ servers: { ovs1: { state: "up", since: 100, misses: 0, lastOkAt: 5, ...server } }, guests: { g1: { status: guest, attempts: [], sightings: {} } } });

describe("the durable view (what a leader writes to etcd on change)", () => {
  const base = durableView(state({}));

  it("listing figures, misses, degraded and a suspect spell do not change it", () => {
    expect(durableView(state({ lastOkAt: 9, freeMemoryMb: 10, misses: 2, firstMissAt: 7 }))).to.equal(base);
    expect(durableView(state({ degraded: { since: 3, detail: "xm list took 900 ms" } }))).to.equal(base);
    expect(durableView(state({ state: "suspect", suspectFrom: "up", since: 150, misses: 1, silentSince: 140 }))).to.equal(base);
    expect(durableView(state({ since: 150 })), "an up server's since after a suspect spell").to.equal(base);
  });

  it("decisions change it: a failed or recovering server, a guest's state", () => {
    expect(durableView(state({ state: "failed", since: 200 }))).not.to.equal(base);
    expect(durableView(state({ state: "recovering", since: 200 }))).not.to.equal(base);
    expect(durableView(state({ state: "suspect", suspectFrom: "recovering", since: 200 }))).not.to.equal(base);
    expect(durableView(state({}, { state: "held", server: "ovs1", since: 1 }))).not.to.equal(base);
  });
});
