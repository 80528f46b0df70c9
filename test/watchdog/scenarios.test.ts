// Runs every folder under test/watchdog/scenarios through the simulator with the real manager.
// The produced log must equal expected.log (a missing expected.log is written and the test FAILS until a human
// has reviewed it); the single-instance invariant is asserted at every simulated step by the runner.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { loadScenario, runScenario } from "../../watchdog/sim/scenario";
import { renderLogLine } from "../../watchdog/core/types";

// Scenario folders live beside the sources; the compiled test runs from dist/.
const ROOT = path.resolve(__dirname, "../../..", "test/watchdog/scenarios");

interface Expect {
  guests?: Record<string, { server?: string | null; state?: string }>;
  servers?: Record<string, { state?: string; power?: boolean }>;
  loud?: number;
}

describe("watchdog scenarios", () => {
  const dirs = fs
    .readdirSync(ROOT)
    .filter((d) => fs.statSync(path.join(ROOT, d)).isDirectory())
    .sort();
  it("has scenarios", () => expect(dirs.length).to.be.greaterThan(15));
  for (const name of dirs) {
    it(name, () => {
      const dir = path.join(ROOT, name);
      expect(fs.existsSync(path.join(dir, "README.md")), "README.md").to.equal(true);
      const refused = path.join(dir, "expect-error.txt");
      if (fs.existsSync(refused)) {
        // A scenario whose records must be refused: loading fails with exactly this message.
        expect(() => loadScenario(dir)).to.throw(fs.readFileSync(refused, "utf8").trim());
        return;
      }
      const run = runScenario(loadScenario(dir));
      const produced = run.world.log.map(renderLogLine).join("\n") + "\n";
      const expectedFile = path.join(dir, "expected.log");
      if (!fs.existsSync(expectedFile)) {
        fs.writeFileSync(expectedFile, produced);
        throw new Error(`${name}: expected.log was missing; written now. Review every line, then run again.`);
      }
      expect(produced).to.equal(fs.readFileSync(expectedFile, "utf8"));
      expect(run.checks).to.be.greaterThan(run.endAt / 100);
      const expFile = path.join(dir, "expect.json");
      if (!fs.existsSync(expFile)) return;
      const exp = JSON.parse(fs.readFileSync(expFile, "utf8")) as Expect;
      const where = run.world.whereRunning();
      for (const [g, want] of Object.entries(exp.guests ?? {})) {
        if (want.server !== undefined) {
          expect(where.get(g) ?? [], `where ${g} runs`).to.deep.equal(want.server === null ? [] : [want.server]);
        }
        if (want.state !== undefined) expect(run.state.guests[g]?.status.state, `state of ${g}`).to.equal(want.state);
      }
      for (const [s, want] of Object.entries(exp.servers ?? {})) {
        if (want.state !== undefined) expect(run.state.servers[s].state, `state of ${s}`).to.equal(want.state);
        if (want.power !== undefined) expect(run.world.server(s).power, `power of ${s}`).to.equal(want.power);
      }
      if (exp.loud !== undefined) {
        expect(run.world.log.filter((l) => l.loud).length, "loud log lines").to.equal(exp.loud);
      }
    });
  }
});
