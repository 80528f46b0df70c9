// A live migration that did not succeed, settled by listings: what a listing of its target may prove. Found on the
// lab (test/watchdog-e2e/migration-channel.test.ts): the channel between source and target cut mid-copy, after the
// target had reserved the incoming domain. The target listed it paused; taken for the guest running there, it went
// away when the target gave up the restore, and the guest was "stopped", never restarted.
import { expect } from "chai";
import { createManagerState, step as rawStep, type ManagerState } from "../../watchdog/core/manager";
import type { Observation } from "../../watchdog/core/types";
import { listing, pool, vm2 } from "./manager-fixtures";

type Untimed = { kind: string; [k: string]: unknown };
function step(s: ManagerState, obs: Untimed[], t: number) {
  return rawStep(s, obs.map((o) => (o.kind !== "request" && o.sentAt === undefined ? { ...o, sentAt: t - 100, answeredAt: t - 50 } : o)) as Observation[], t);
}
/** s3 lists vm2, paused (xend's incoming copy) or running. */
const target = (paused: boolean): Untimed => ({ ...listing("s3"), guests: [{ name: "vm2", memoryMb: 1024, ...(paused ? { paused: true } : {}) }], freeMemoryMb: 7168 });

/** vm2 on s1 (preferred s3, then s2); s1 is asked to shut down; the live migration to s3 fails after the suspend. */
function failedMigration(): ManagerState {
  let s = createManagerState(pool, [vm2(["s3", "s2"])], 0);
  s = step(s, [listing("s1", ["vm2"]), listing("s2"), listing("s3")], 0).state;
  s = step(s, [{ kind: "request", op: "shutdown", server: "s1" }], 100).state;
  expect(s.guests.vm2.status).to.include({ state: "migrating", from: "s1", to: "s3" });
  const detail = "Error: Migration of domain vm2 failed: connection to s3 lost after suspend";
  s = step(s, [{ kind: "migrate-result", guest: "vm2", from: "s1", to: "s3", outcome: "failed", detail, sentAt: 100, answeredAt: 4000 }], 4000).state;
  expect(s.guests.vm2.status).to.deep.include({ state: "in-doubt", servers: ["s1", "s3"] });
  return s;
}

describe("manager: a failed live migration and a paused domain on its target", () => {
  it("the target's paused incoming copy settles nothing; once it is gone the guest runs nowhere and is started once", () => {
    let s = failedMigration();
    // s1 no longer has it (lost after the suspend); s3 lists the incoming copy, paused, for several rounds.
    for (const t of [5000, 6000, 7000]) {
      const r = step(s, [listing("s1"), listing("s2"), target(true)], t);
      expect(r.actions.filter((a) => a.kind === "start" || a.kind === "migrate"), `t=${t}`).to.deep.equal([]);
      expect(r.log.filter((l) => l.event === "guest-running"), `t=${t}: not taken for running on s3`).to.deep.equal([]);
      s = r.state;
    }
    expect(s.guests.vm2.status).to.deep.include({ state: "in-doubt", servers: ["s3"] });
    // s3 gives the restore up: the copy goes; vm2 runs nowhere and is started once, on a server that answers.
    const r = step(s, [listing("s1"), listing("s2"), listing("s3")], 8000);
    expect(r.log.map((l) => l.event)).to.include("guest-lost");
    const starts = r.actions.filter((a) => a.kind === "start");
    expect(starts).to.have.length(1);
    expect(starts[0]).to.deep.include({ guest: "vm2" });
    expect(["s2", "s3"]).to.include((starts[0] as { server: string }).server);
  });

  it("the same guest listed running (not paused) on the target after the failure: it did migrate", () => {
    const r = step(failedMigration(), [listing("s1"), listing("s2"), target(false)], 5000);
    expect(r.state.guests.vm2.status).to.include({ state: "running", server: "s3" });
    expect(r.log.find((l) => l.event === "guest-running")?.reason).to.match(/^migrated live to s3/);
  });

  it("a migration that answered ok is settled by the target's listing even while it shows the domain paused", () => {
    let s = createManagerState(pool, [vm2(["s3"])], 0);
    s = step(s, [listing("s1", ["vm2"]), listing("s2"), listing("s3")], 0).state;
    s = step(s, [{ kind: "request", op: "shutdown", server: "s1" }], 100).state;
    s = step(s, [{ kind: "migrate-result", guest: "vm2", from: "s1", to: "s3", outcome: "ok", sentAt: 100, answeredAt: 900 }], 900).state;
    const r = step(s, [listing("s1"), target(true)], 1500);
    expect(r.state.guests.vm2.status).to.include({ state: "running", server: "s3" });
  });
});
