// What status says on a standby (pure rendering): the leader's view from etcd carries when it was written and
// that it is a record of decisions, not a live observation; without a leader it says nobody is watching; a
// replica cut from etcd says it cannot become the leader.
import { expect } from "chai";
import { renderLeaderView, standbySelf, type LeaderView } from "../../watchdog/replica/replica-status";

const NOW = Date.parse("2026-11-29T12:00:30Z");
const VIEW: LeaderView = {
  writtenAt: Date.parse("2026-11-29T12:00:00Z"),
  by: "wd-a",
  token: "42",
  servers: [
    { name: "ovs1", state: "up", since: Date.parse("2026-11-29T11:00:00Z") },
    { name: "ovs2", state: "failed", since: Date.parse("2026-11-29T11:59:58Z") },
  ],
  guests: [
    { name: "g1", state: "running", where: "ovs1" },
    { name: "g2", state: "held", where: "ovs2" },
    { name: "g3", state: "migrating", where: "ovs1 -> ovs3" },
  ],
};

describe("status on a standby: the leader's view from etcd", () => {
  it("marks the view with when it was written and what it is not", () => {
    const text = renderLeaderView(VIEW, "wd-a", NOW).join("\n");
    expect(text).to.contain("the leader's view of the pool, as written to etcd at 2026-11-29T12:00:00.000Z, 30 s ago");
    expect(text).to.contain("not a live observation");
    expect(text).to.match(/server ovs2: failed \(since 2026-11-29T11:59:58.000Z\)/);
    expect(text).to.contain("guest g2: held (ovs2)");
    expect(text).to.contain("guest g3: migrating (ovs1 -> ovs3)");
  });

  it("a view written by an earlier leader is named as such", () => {
    expect(renderLeaderView(VIEW, "wd-b", NOW)[0]).to.match(/^the last written \(by wd-a\) view/);
  });

  it("no leader: loud, and says nobody is watching", () => {
    expect(renderLeaderView(VIEW, undefined, NOW)[0]).to.match(/^!! no leader: .*nobody is watching the pool now/);
  });

  it("nothing in etcd: says so rather than showing an empty pool", () => {
    expect(renderLeaderView(undefined, "wd-a", NOW)).to.deep.equal(["leader's view: none in etcd (no leader has written a state yet, or etcd cannot be read)"]);
  });

  it("a replica cut from etcd says it cannot become the leader, and for how long etcd has not answered", () => {
    const s = standbySelf({ name: "wd-b", leading: false, lastEtcdOkAt: NOW - 12000, etcdError: "4 DEADLINE_EXCEEDED", config: { leaseTtlSeconds: 5 } }, NOW);
    expect(s.role).to.equal("standby");
    expect(s.problems).to.deep.equal(["wd-b is cut from etcd (no answer for 12 s: 4 DEADLINE_EXCEEDED): it cannot become the leader; it stands by again when etcd answers"]);
    expect(standbySelf({ name: "wd-b", leading: false, lastEtcdOkAt: NOW, config: { leaseTtlSeconds: 5 } }, NOW).problems).to.deep.equal([]);
  });
});
