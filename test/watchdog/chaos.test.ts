// Seeded random fault sequences: whatever happens, no guest ever runs twice and no server is overcommitted
// (the runner asserts both at every tick and every process change), and once all faults are healed every HA
// guest that was running ends up running exactly once, powered off for lack of room, or in error.
import * as path from "node:path";
import { expect } from "chai";
import { loadScenario, runScenario, type Scenario } from "../../watchdog/sim/scenario";
import { parseEvents } from "../../watchdog/sim/events";
import { chooseTarget } from "../../ha/placement";
import { isPlacementTarget } from "../../watchdog/core/server-state";

const BASE = path.resolve(__dirname, "../../..", "test/watchdog/scenarios/chaos-base");

/** Small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FAULTS = ["crash", "hang", "partition", "heal", "power-on", "shutdown", "restart", "fence-fails", "fence-timeout", "fence-ok"];
const GLOBAL = ["restart-watchdog", "isolate-watchdog", "heal-watchdog"];

function randomEvents(seed: number, servers: string[]): string {
  const r = rng(seed);
  const lines: string[] = [];
  let t = 2000;
  for (let i = 0; i < 12; i++) {
    t += 300 + Math.floor(r() * 40) * 100;
    if (r() < 0.2) lines.push(`at ${t} ${GLOBAL[Math.floor(r() * GLOBAL.length)]}`);
    else lines.push(`at ${t} ${FAULTS[Math.floor(r() * FAULTS.length)]} ${servers[Math.floor(r() * servers.length)]}`);
  }
  // Then everything is repaired, and there is time to settle.
  t += 1000;
  lines.push(`at ${t} heal-watchdog`);
  for (const s of servers) lines.push(`at ${t} fence-ok ${s}`, `at ${t} heal ${s}`, `at ${t} power-on ${s}`);
  lines.push(`at ${t + 40000} end`);
  return lines.join("\n");
}

describe("watchdog chaos (seeded)", () => {
  const base = loadScenario(BASE);
  const servers = base.pool.servers.map((s) => s.name);
  for (let seed = 1; seed <= 40; seed++) {
    it(`seed ${seed}`, () => {
      const sc: Scenario = { ...base, events: parseEvents(randomEvents(seed, servers)) };
      const run = runScenario(sc);
      const where = run.world.whereRunning();
      for (const [g, e] of Object.entries(run.state.guests)) {
        const st = e.status.state;
        const ctx = `seed ${seed}: ${g} is ${st} on ${(where.get(g) ?? []).join(",") || "nothing"}`;
        expect(["running", "powered-off", "error", "stopped"], ctx).to.include(st);
        if (st === "running") expect(where.get(g), ctx).to.have.length(1);
        else expect(where.get(g) ?? [], ctx).to.have.length(0);
        if (st === "powered-off") {
          // Waiting is only right when there really is no target for it.
          const rec = run.state.records[g];
          const cands = Object.entries(run.state.servers)
            .filter(([, s]) => isPlacementTarget(s))
            .map(([name, s]) => ({ name, freeMemoryMb: s.freeMemoryMb! }));
          expect(chooseTarget({ name: g, memoryMb: rec.memoryMb, preferred: rec.preferred, priority: rec.priority }, cands).server, ctx).to.equal(undefined);
        }
      }
    });
  }
});
