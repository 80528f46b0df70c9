// Property-based chaos: thousands of seeded random fault schedules (fast-check) run through the simulator with the
// real manager. Asserted against what the simulated WORLD knows, not what the manager believes:
//  - at every tick and every change of where processes run: no guest runs on two servers, no server overcommitted,
//    no server fenced while its last heartbeat was answered (the runner checks these);
//  - at the end (every fault healed, time to settle): every HA guest runs exactly once, or is visibly pending with a
//    reason (powered-off only when no server has room; error is loud); `stopped` or `in doubt` is a failure.
// A failing schedule is shrunk by fast-check to a minimal one, written as a scenario folder to review and keep.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { loadScenario, runScenario, type Scenario } from "../../watchdog/sim/scenario";
import { renderEvents, type SimEvent } from "../../watchdog/sim/events";
import { chooseTarget } from "../../ha/placement";
import { isFailoverTarget } from "../../watchdog/core/recovery";

const SRC = path.resolve(__dirname, "../../..");
const BASE = path.join(SRC, "test/watchdog/scenarios/chaos-base");
/** Storage-only pool: no power fence on s1..s3 (s4: power, then storage); an agent and a watchdog device everywhere. */
const STORAGE_BASE = path.join(SRC, "test/watchdog/scenarios/chaos-storage-base");
/** Schedules per run: CHAOS_RUNS overrides (a soak in bench can run more). */
const RUNS = Number(process.env.CHAOS_RUNS ?? 2000);
const STORAGE_RUNS = Number(process.env.CHAOS_STORAGE_RUNS ?? 250);
const SEED = Number(process.env.CHAOS_SEED ?? 20261129);

type Fault = Omit<SimEvent, "line" | "at">;

function faultArb(servers: string[], storage: boolean): fc.Arbitrary<Fault> {
  const s = fc.constantFrom(...servers);
  const on = (command: SimEvent["command"]) => s.map((arg): Fault => ({ command, arg }));
  // With agents: storage lost and back, whole-machine hangs, an operator's poison pill.
  const agentFaults = storage
    ? [
        { weight: 3, arbitrary: on("storage-loss") },
        { weight: 2, arbitrary: on("storage-ok") },
        { weight: 2, arbitrary: on("hang-machine") },
        { weight: 1, arbitrary: on("operator-pill") },
      ]
    : [];
  return fc.oneof(
    ...agentFaults,
    { weight: 3, arbitrary: on("crash") },
    { weight: 2, arbitrary: on("hang") },
    { weight: 2, arbitrary: on("partition") },
    { weight: 2, arbitrary: on("cut") },
    { weight: 1, arbitrary: on("cut-peers") },
    { weight: 3, arbitrary: on("heal") },
    { weight: 3, arbitrary: on("power-on") },
    { weight: 2, arbitrary: on("shutdown") },
    { weight: 1, arbitrary: on("restart") },
    { weight: 1, arbitrary: on("fence-fails") },
    { weight: 1, arbitrary: on("fence-timeout") },
    { weight: 1, arbitrary: on("fence-lies") },
    { weight: 2, arbitrary: on("fence-ok") },
    { weight: 2, arbitrary: on("xend-down") },
    { weight: 1, arbitrary: fc.tuple(s, fc.integer({ min: 100, max: 3000 })).map(([arg, n]): Fault => ({ command: "xend-slow", arg, n })) },
    { weight: 2, arbitrary: on("xend-up") },
    // A loaded server: SSH answers after the deadline (late, so misses), but within the rounds the watchdog waits.
    { weight: 2, arbitrary: fc.tuple(s, fc.integer({ min: 400, max: 2500 })).map(([arg, n]): Fault => ({ command: "ssh-slow", arg, n })) },
    { weight: 2, arbitrary: fc.tuple(s, fc.integer({ min: 1, max: 3 })).map(([arg, n]): Fault => ({ command: "lose-answers", arg, n })) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 900 }).map((n): Fault => ({ command: "jitter", n })) },
    { weight: 2, arbitrary: fc.constant<Fault>({ command: "restart-watchdog" }) },
    { weight: 1, arbitrary: fc.constant<Fault>({ command: "isolate-watchdog" }) },
    { weight: 1, arbitrary: fc.constant<Fault>({ command: "heal-watchdog" }) },
  );
}

/** Faults at random 100 ms instants, then everything repaired and 20 s to settle. */
function schedule(faults: { gap: number; f: Fault }[], servers: string[], settleMs = 20000): SimEvent[] {
  const events: Omit<SimEvent, "line">[] = [];
  let t = 2000;
  for (const { gap, f } of faults) {
    t += gap * 100;
    events.push({ at: t, ...f });
  }
  t += 1000;
  events.push({ at: t, command: "heal-watchdog" }, { at: t, command: "jitter", n: 0 });
  for (const s of servers) {
    for (const command of ["fence-ok", "heal", "power-on", "xend-up", "storage-ok"] as const) events.push({ at: t, command, arg: s });
  }
  // A storage fence takes detection plus the message wait (7.7 s), and a reset server boots again: more time to settle.
  events.push({ at: t + settleMs, command: "end" });
  return events.map((e, i) => ({ ...e, line: i + 1 }));
}

/** Throws (with what the world shows) when the end state breaks the promise. */
function checkEnd(sc: Scenario): ReturnType<typeof runScenario> {
  const run = runScenario(sc);
  // A pill, like a fence, is never aimed at a server that kept answering (the runner throws on those).
  expect(run.world.falseFences).to.deep.equal([]);
  const where = run.world.whereRunning();
  for (const [g, e] of Object.entries(run.state.guests)) {
    const st = e.status.state;
    const on = where.get(g) ?? [];
    const ctx = `${g} is ${st} (manager) and runs on ${on.join(",") || "nothing"} (world)`;
    // In doubt is right (and loud) only while a server it may be on still lists a paused incoming copy of it: a
    // migration cut mid-copy, whose copy xend holds longer than the settling time. Runs nowhere meanwhile.
    if (st === "in-doubt" && e.status.state === "in-doubt") {
      const pending = e.status.servers.filter((n) => run.world.incomingNow(run.world.server(n)).has(g));
      expect(pending, `${ctx}: in doubt without a paused copy on ${e.status.servers.join(",")}`).to.not.deep.equal([]);
      expect(on, ctx).to.deep.equal([]);
      continue;
    }
    expect(["running", "powered-off", "error"], ctx).to.include(st);
    if (st === "running") expect(on, ctx).to.deep.equal([(e.status as { server: string }).server]);
    else expect(on, ctx).to.deep.equal([]);
    if (st === "powered-off") {
      // Waiting is only right when there really is no target for it.
      const rec = run.state.records[g];
      const cands = Object.entries(run.state.servers)
        .filter(([name]) => isFailoverTarget(run.state, name, run.endAt))
        .map(([name, s]) => ({ name, freeMemoryMb: s.freeMemoryMb! }));
      expect(chooseTarget({ name: g, memoryMb: rec.memoryMb, preferred: rec.preferred, priority: rec.priority }, cands).server, ctx).to.equal(undefined);
    }
  }
  return run;
}

function chaos(label: string, baseDir: string, runs: number, storage: boolean, settleMs: number): void {
  const base = loadScenario(baseDir);
  const servers = base.pool.servers.map((s) => s.name);
  it(`${runs} random fault schedules${label}: never two copies, no false fence, every HA guest back or visibly pending`, function () {
    this.timeout(0);
    const t0 = Date.now();
    let ran = 0;
    // What the schedules exercised (so a run that never fenced anything cannot pass unnoticed).
    const seen = { fenced: 0, pills: 0, resets: 0, cutOff: 0 };
    const arb = fc.array(fc.record({ gap: fc.integer({ min: 1, max: 25 }), f: faultArb(servers, storage) }), { minLength: 1, maxLength: 10 });
    const details = fc.check(
      fc.property(arb, fc.integer({ min: 1, max: 1000 }), (faults, seed) => {
        ran++;
        const run = checkEnd({ ...base, events: schedule(faults, servers, settleMs), sim: { ...base.sim, seed } });
        if (run.world.log.some((l) => l.event === "server-fenced")) seen.fenced++;
        if (run.world.storage.pillLog.length) seen.pills++;
        if (run.world.resets.length) seen.resets++;
        if (run.world.log.some((l) => l.event === "server-cut-off")) seen.cutOff++;
      }),
      { numRuns: runs, seed: SEED },
    );
    const ms = Date.now() - t0;
    console.log(`      chaos${label}: ${ran} schedules (${runs} + shrinking) in ${(ms / 1000).toFixed(1)} s, seed ${SEED}; with a fence: ${seen.fenced}, a pill: ${seen.pills}, a device reset: ${seen.resets}, a cut off: ${seen.cutOff}`);
    if (details.failed && details.counterexample) {
      const [faults, seed] = details.counterexample;
      const dir = path.join(SRC, "test/watchdog/scenarios", `chaos-found-${storage ? "storage-" : ""}${SEED}`);
      fs.mkdirSync(dir, { recursive: true });
      const raw = JSON.parse(fs.readFileSync(path.join(baseDir, "pool.json"), "utf8"));
      fs.writeFileSync(path.join(dir, "pool.json"), JSON.stringify({ ...raw, sim: { ...(raw.sim ?? {}), seed } }, null, 2) + "\n");
      fs.writeFileSync(path.join(dir, "events.txt"), renderEvents(schedule(faults, servers, settleMs)));
      fs.writeFileSync(path.join(dir, "README.md"), `# Found by the chaos test (seed ${SEED}), shrunk by fast-check\n${String(details.errorInstance)}\n`);
      throw new Error(`a schedule broke the promise; minimal one written to ${path.relative(SRC, dir)}: ${String(details.errorInstance)}`);
    }
    expect(details.failed).to.equal(false);
    expect(ran).to.be.at.least(runs);
    // Too few schedules (a smoke run with CHAOS_RUNS=1) say nothing about coverage.
    if (runs >= 100) expect(seen.fenced, "schedules in which a server was fenced").to.be.greaterThan(runs / 20);
    if (storage && runs >= 100) for (const [k, n] of Object.entries(seen)) expect(n, `storage schedules with ${k}`).to.be.greaterThan(runs / 50);
  });
}

describe("watchdog chaos (property-based, fast-check)", () => {
  chaos("", BASE, RUNS, false, 20000);
  // No power fence at all: storage fences, agents, watchdog devices, storage loss, machine hangs, operator pills.
  chaos(" (storage-only pool)", STORAGE_BASE, STORAGE_RUNS, true, 30000);
});
