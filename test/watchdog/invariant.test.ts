// The single-instance checker must catch a manager that breaks the rule, or it proves nothing.
import * as path from "node:path";
import { expect } from "chai";
import { step, type ManagerState } from "../../watchdog/core/manager";
import type { Observation } from "../../watchdog/core/types";
import { checkInvariants, InvariantViolation } from "../../watchdog/sim/invariant";
import { loadScenario, runScenario } from "../../watchdog/sim/scenario";
import { SimWorld } from "../../watchdog/sim/world";

const SCENARIOS = path.resolve(__dirname, "../../..", "test/watchdog/scenarios");

/** A manager that restarts the guests of a failed server without waiting for the fence (the classic bug). */
function impatientStep(state: ManagerState, obs: Observation[], now: number) {
  const r = step(state, obs, now);
  for (const [g, e] of Object.entries(r.state.guests)) {
    if (e.status.state !== "held") continue;
    const target = Object.keys(r.state.servers).find((s) => s !== (e.status as { server: string }).server && r.state.servers[s].state === "up");
    if (!target) continue;
    r.actions.push({ kind: "start", guest: g, server: target });
    e.status = { state: "starting", server: target, since: now };
  }
  return r;
}

describe("single-instance invariant checker", () => {
  it("catches a manager that starts a hung server's guest before fencing", () => {
    const sc = loadScenario(path.join(SCENARIOS, "hang-no-fence"));
    let caught: unknown;
    try {
      runScenario(sc, impatientStep);
    } catch (e) {
      caught = e;
    }
    expect(caught).to.be.instanceOf(InvariantViolation);
    expect((caught as Error).message).to.match(/guest vm2 runs on s\d and s\d at once/);
  });
  it("catches it for a partitioned server too", () => {
    const sc = loadScenario(path.join(SCENARIOS, "partition-no-fence"));
    expect(() => runScenario(sc, impatientStep)).to.throw(InvariantViolation, /vm2 runs on/);
  });
  it("lets the same scenario pass with the real manager", () => {
    const sc = loadScenario(path.join(SCENARIOS, "hang-no-fence"));
    expect(() => runScenario(sc)).not.to.throw();
  });
  it("reports a duplicate and an overcommit directly", () => {
    const sc = loadScenario(path.join(SCENARIOS, "crash-power-fence"));
    const world = new SimWorld(sc.pool, sc.hardware);
    expect(checkInvariants(world)).to.deep.equal([]);
    world.server("s1").guests.set("vm1", 1024);
    world.server("s2").guests.set("vm1", 1024);
    world.server("s3").guests.set("big", 9000);
    expect(checkInvariants(world)).to.deep.equal(["guest vm1 runs on s1 and s2 at once", "server s3 overcommitted by 808 MB"]);
    world.server("s2").power = false; // a powered-off server runs nothing
    expect(checkInvariants(world)).to.deep.equal(["server s3 overcommitted by 808 MB"]);
  });
});
