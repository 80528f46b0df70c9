// A server that went silent (not long enough to be declared failed, or while the watchdog held for want of a
// majority) and comes back rebooted, answering SSH before xend is up: the SSH-only answers end its misses, but
// not the doubt. The first listing without its guests means they died with it: restarted, not "stopped".
// (Seen end to end on the lab: test/watchdog-e2e/exactly-once.test.ts, case 4.)
import { expect } from "chai";
import { createManagerState, step, type ManagerState } from "../../watchdog/core/manager";
import type { Observation } from "../../watchdog/core/types";
import { listing, pool, silence, vm2 } from "./manager-fixtures";

const vm = vm2("auto");
const timed = (t: number) => ({ sentAt: t - 100, answeredAt: t - 50 });
const up = (server: string, guests: string[], t: number): Extract<Observation, { kind: "poll"; ok: true }> => ({ ...listing(server, guests), ...timed(t) });
const miss = (server: string, t: number): Observation => ({ ...silence(server), ...timed(t) });
const sshOnly = (server: string, t: number): Observation => ({ kind: "poll", server, ok: false, contact: "ssh-only", detail: "xm: Unable to connect to xend", ...timed(t) });

describe("manager: a server that rebooted while silent, answering SSH before xend", () => {
  it("its guests are known lost (restarted), not taken for guests shut down", () => {
    let s: ManagerState = createManagerState(pool, [vm], 0);
    s = step(s, [up("s1", [], 0), up("s2", ["vm2"], 0), up("s3", [], 0)], 0).state;
    // Two heartbeats missed: suspect, not yet failed.
    for (const t of [1000, 2000]) s = step(s, [up("s1", [], t), miss("s2", t), up("s3", [], t)], t).state;
    expect(s.servers.s2.state).to.equal("suspect");
    // Back: SSH answers, xend not up yet (a boot), then a listing without the guest.
    s = step(s, [up("s1", [], 3000), sshOnly("s2", 3000), up("s3", [], 3000)], 3000).state;
    const r = step(s, [up("s1", [], 4000), up("s2", [], 4000), up("s3", [], 4000)], 4000);
    const events = r.log.filter((l) => l.guest === "vm2").map((l) => l.event);
    expect(events, r.log.map((l) => `${l.event} ${l.guest ?? l.server}: ${l.reason}`).join("\n")).to.include("guest-lost");
    expect(events).to.not.include("guest-stopped");
    expect(r.state.servers.s2.state, "a server that restarted behind our back is not trusted at once").to.equal("recovering");
  });

  it("the same when the listing without its guests arrives late, after a newer SSH-only answer", () => {
    let s: ManagerState = createManagerState(pool, [vm], 0);
    s = step(s, [up("s1", [], 0), up("s2", ["vm2"], 0), up("s3", [], 0)], 0).state;
    for (const t of [1000, 2000]) s = step(s, [up("s1", [], t), miss("s2", t), up("s3", [], t)], t).state;
    s = step(s, [up("s1", [], 3000), sshOnly("s2", 3000), up("s3", [], 3000)], 3000).state;
    // Sent at 2850 (after the silence, before the SSH-only answer's 2900), answered at 3400: late.
    const late: Observation = { ...up("s2", [], 3500), sentAt: 2850, answeredAt: 3400 };
    const r = step(s, [late], 3500);
    const events = r.log.filter((l) => l.guest === "vm2").map((l) => l.event);
    expect(events, r.log.map((l) => `${l.event} ${l.guest ?? l.server}: ${l.reason}`).join("\n")).to.include("guest-lost");
    expect(events).to.not.include("guest-stopped");
    const r2 = step(r.state, [up("s1", [], 4000), up("s2", [], 4000), up("s3", [], 4000)], 4000);
    expect(r2.state.servers.s2.state).to.equal("recovering");
  });

  it("a listing sent before the silence that lacks the guest is no reboot evidence (the guest was stopped)", () => {
    let s: ManagerState = createManagerState(pool, [vm], 0);
    s = step(s, [up("s1", [], 0), up("s2", ["vm2"], 0), up("s3", [], 0)], 0).state;
    s = step(s, [up("s1", [], 1000), miss("s2", 1000), up("s3", [], 1000)], 1000).state;
    s = step(s, [up("s1", [], 2000), sshOnly("s2", 2000), up("s3", [], 2000)], 2000).state;
    // Sent at 850, before the miss sent at 900, answered very late.
    const old: Observation = { ...up("s2", [], 2500), sentAt: 850, answeredAt: 2400 };
    const events = step(s, [old], 2500).log.filter((l) => l.guest === "vm2").map((l) => l.event);
    expect(events).to.not.include("guest-lost");
  });

  it("a degraded server that never went silent and stops listing a guest: the guest was shut down (not HA's job)", () => {
    let s: ManagerState = createManagerState(pool, [vm], 0);
    s = step(s, [up("s1", [], 0), up("s2", ["vm2"], 0), up("s3", [], 0)], 0).state;
    s = step(s, [up("s1", [], 1000), sshOnly("s2", 1000), up("s3", [], 1000)], 1000).state;
    const r = step(s, [up("s1", [], 2000), up("s2", [], 2000), up("s3", [], 2000)], 2000);
    expect(r.log.filter((l) => l.guest === "vm2").map((l) => l.event)).to.include("guest-stopped");
  });
});
