import { expect } from "chai";
import { messageWaitMs, Pill } from "../../ha/disk-heartbeat";
import { feedPeriodMs, feedVerdict, judgePill, leaseHolds, LeaseInput } from "../../watchdog/agent/agent-decision";

const pill = (over: Partial<Pill> = {}): Pill => ({ schemaVersion: 1, server: "ovs1", bootId: "b1", writer: "watchdog", reason: "ovs1 failed", writtenAt: 1, ...over });
const lease = (over: Partial<LeaseInput> = {}): LeaseInput => ({ now: 10000, leaseMs: 3000, armedAt: 0, lastWriteOkAt: 9500, lastReadOkAt: 9500, ...over });

describe("agent decisions (watchdog/agent/agent-decision.ts)", () => {
  it("the lease holds only while both the last slot write and the last pill read started within it", () => {
    expect(leaseHolds(lease())).to.equal(true);
    expect(leaseHolds(lease({ lastWriteOkAt: 7000 }))).to.equal(true); // exactly the lease
    expect(leaseHolds(lease({ lastWriteOkAt: 6999 }))).to.equal(false);
    expect(leaseHolds(lease({ lastReadOkAt: 6000 }))).to.equal(false);
  });
  it("arming starts a first lease; without any renewal it runs out", () => {
    expect(leaseHolds({ now: 2000, leaseMs: 3000, armedAt: 0 })).to.equal(true);
    expect(leaseHolds({ now: 3001, leaseMs: 3000, armedAt: 0 })).to.equal(false);
    expect(leaseHolds({ now: 3001, leaseMs: 3000, armedAt: 0, lastWriteOkAt: 2500 })).to.equal(false); // no read yet
  });
  it("feeds while the lease holds and no pill applies; a lost lease fences, naming what failed", () => {
    expect(feedVerdict("running", lease(), { kind: "ignore" })).to.deep.equal({ feed: true });
    const v = feedVerdict("running", lease({ lastWriteOkAt: 1000 }), { kind: "ignore" });
    expect(v.feed).to.equal(false);
    expect(!v.feed && v.fence).to.match(/lease lost \(no slot write succeeded for 9000 ms; lease 3000 ms\)/);
  });
  it("a pill that applies stops the feed even while the lease holds; once fencing, never feed again", () => {
    const obey = judgePill({ kind: "pill", pill: pill() }, "ovs1", "b1");
    expect(obey.kind).to.equal("obey");
    const v = feedVerdict("running", lease(), obey);
    expect(v.feed).to.equal(false);
    expect(!v.feed && v.fence).to.match(/poison pill from watchdog \(ovs1 failed\) aimed at this boot/);
    expect(feedVerdict("fencing", lease(), { kind: "ignore" })).to.deep.equal({ feed: false });
  });
  it("a stopping agent feeds while the lease holds (its last write must land), and fences when it runs out", () => {
    expect(feedVerdict("stopping", lease(), { kind: "ignore" })).to.deep.equal({ feed: true });
    expect(feedVerdict("stopping", lease({ lastReadOkAt: 0 }), { kind: "ignore" }).feed).to.equal(false);
  });
  it("pills: this boot or any boot is obeyed; an earlier boot's is removed; another server's is ignored; an unreadable one is obeyed", () => {
    expect(judgePill({ kind: "none" }, "ovs1", "b1")).to.deep.equal({ kind: "ignore" });
    expect(judgePill({ kind: "pill", pill: pill({ bootId: null }) }, "ovs1", "b7").kind).to.equal("obey");
    const old = judgePill({ kind: "pill", pill: pill({ bootId: "b0" }) }, "ovs1", "b1");
    expect(old.kind).to.equal("remove");
    expect(old.kind === "remove" && old.note).to.match(/aimed at boot b0, an earlier boot \(this is b1\)/);
    const other = judgePill({ kind: "pill", pill: pill({ server: "ovs2" }) }, "ovs1", "b1");
    expect(other.kind).to.equal("ignore");
    expect(other.kind === "ignore" && other.note).to.match(/names server 'ovs2'/);
    expect(judgePill({ kind: "unreadable", error: "pill is not JSON" }, "ovs1", "b1").kind).to.equal("obey");
  });
  it("the worst case stays inside the watchdog's message wait: last feed before pill + max(lease, interval), reset a device timeout later", () => {
    const t = { intervalMs: 1000, leaseMs: 3000, deviceTimeoutMs: 4000 };
    // A pill written at P = 10000; the last read that succeeded started just before it; reads hang from then on.
    const P = 10000;
    let lastFeed = -1;
    for (let now = P; now < P + 20000; now += feedPeriodMs(t.intervalMs, t.deviceTimeoutMs) / 10) {
      const v = feedVerdict("running", { now, leaseMs: t.leaseMs, armedAt: 0, lastWriteOkAt: now - 10, lastReadOkAt: P - 1 }, { kind: "ignore" });
      if (v.feed) lastFeed = now;
    }
    expect(lastFeed - P).to.be.at.most(Math.max(t.leaseMs, t.intervalMs));
    expect(lastFeed - P + t.deviceTimeoutMs).to.be.at.most(messageWaitMs(t));
  });
  it("the feed period: every interval, but at least four feeds per device timeout", () => {
    expect(feedPeriodMs(1000, 4000)).to.equal(1000);
    expect(feedPeriodMs(1000, 2000)).to.equal(500);
    expect(feedPeriodMs(100, 1000)).to.equal(100);
  });
});
