// The decision core on its own: purity, quorum rule, durable state, resume without double starts.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { PoolRecordSchema, GuestRecordSchema, DEFAULT_TIMING } from "../../watchdog/core/ha-record";
import { createManagerState, step, START_ANSWER_TIMEOUT_MS, type ManagerState } from "../../watchdog/core/manager";
import { restoreState, serializeState } from "../../watchdog/core/durable-state";
import { hasQuorum, type ServerStatus } from "../../watchdog/core/server-state";
import type { Observation } from "../../watchdog/core/types";
import { renderLogLine } from "../../watchdog/core/types";
import { loadScenario, runScenario } from "../../watchdog/sim/scenario";
import { parseEvents } from "../../watchdog/sim/events";

const SRC = path.resolve(__dirname, "../../..");
const SCENARIOS = path.join(SRC, "test/watchdog/scenarios");

const pool = PoolRecordSchema.parse({
  schemaVersion: 1,
  name: "p",
  haEnabled: true,
  generation: 1,
  timing: DEFAULT_TIMING,
  servers: ["s1", "s2", "s3"].map((name, i) => ({ name, address: `192.0.2.${i + 1}`, role: i ? "member" : "master", fence: { method: "power" } })),
});
const vm = GuestRecordSchema.parse({ schemaVersion: 1, name: "vm2", ha: true, preferred: ["s3"], memoryMb: 1024, vmCfgPath: "/OVS/running_pool/vm2/vm.cfg" });
const up = (server: string, guests: string[] = []): Observation => ({
  kind: "poll",
  server,
  ok: true,
  guests: guests.map((name) => ({ name, memoryMb: 1024 })),
  totalMemoryMb: 8192,
  freeMemoryMb: 8192 - 1024 * guests.length,
});
const miss = (server: string): Observation => ({ kind: "poll", server, ok: false });

/** Drives the manager by hand: s2 runs vm2, then goes silent for three heartbeats. */
function toFailed(): ManagerState {
  let s = createManagerState(pool, [vm], 0);
  s = step(s, [up("s1"), up("s2", ["vm2"]), up("s3")], 0).state;
  for (const t of [1000, 2000, 3000]) s = step(s, [up("s1"), miss("s2"), up("s3")], t).state;
  return s;
}

describe("manager: purity", () => {
  it("does not modify the state it is given, and is deterministic", () => {
    const s = toFailed();
    const before = serializeState(s);
    const a = step(s, [{ kind: "fence-result", server: "s2", outcome: "off" }], 3100);
    const b = step(s, [{ kind: "fence-result", server: "s2", outcome: "off" }], 3100);
    expect(serializeState(s)).to.equal(before);
    expect(a).to.deep.equal(b);
    expect(a.actions).to.deep.equal([{ kind: "start", guest: "vm2", server: "s3" }]);
  });
  it("has no clock and no I/O in the core", () => {
    for (const f of ["manager.ts", "placement.ts", "fence.ts", "server-state.ts", "guest-state.ts"]) {
      const text = fs.readFileSync(path.join(SRC, "watchdog/core", f), "utf8");
      expect(text, f).not.to.match(/Date\.now|new Date|setTimeout|setInterval|from "node:|require\(/);
    }
  });
  it("fences before anything starts, and starts nothing while the fence is in flight", () => {
    const s = toFailed();
    expect(s.servers.s2.state).to.equal("fencing");
    expect(s.guests.vm2.status.state).to.equal("held");
    const waiting = step(s, [up("s1"), miss("s2"), up("s3")], 3500);
    expect(waiting.actions).to.deep.equal([]);
  });
});

describe("manager: quorum", () => {
  const st = (ok: boolean, state: ServerStatus["state"] = "up"): ServerStatus => ({ state, since: 0, misses: ok ? 0 : 1, lastOkAt: 0 });
  const table: [string, Record<string, ServerStatus>, boolean][] = [
    ["2 of 3", { a: st(true), b: st(true), c: st(false) }, true],
    ["1 of 3", { a: st(true), b: st(false), c: st(false) }, false],
    ["half with the first server", { a: st(true), b: st(false) }, true],
    ["half without the first server", { a: st(false), b: st(true) }, false],
    ["known-off servers do not count", { a: st(false, "fenced"), b: st(true), c: st(false, "down") }, true],
    ["nobody", { a: st(false), b: st(false) }, false],
  ];
  for (const [what, servers, ok] of table) {
    it(what, () => expect(hasQuorum(Object.keys(servers), servers).ok).to.equal(ok));
  }
});

describe("manager: durable state", () => {
  it("round-trips through JSON and marks answers in flight as lost", () => {
    let s = toFailed();
    s = step(s, [{ kind: "fence-result", server: "s2", outcome: "off" }], 3100).state;
    expect(s.guests.vm2.status).to.include({ state: "starting", server: "s3" });
    const r = restoreState(serializeState(s));
    expect(r.guests.vm2.status).to.include({ state: "starting", result: "lost" });
    // The next heartbeat of s3 shows it running: settled without a second start.
    const next = step(r, [up("s1"), miss("s2"), up("s3", ["vm2"])], 4000);
    expect(next.actions.filter((a) => a.kind === "start")).to.deep.equal([]);
    expect(next.state.guests.vm2.status).to.include({ state: "running", server: "s3" });
    expect(next.log.map(renderLogLine)[0]).to.match(/^t=4000 watchdog-resumed/);
  });
  it("a lost start whose target does not run the guest is retried after the answer timeout, not forgotten", () => {
    let s = toFailed();
    s = step(s, [{ kind: "fence-result", server: "s2", outcome: "off" }], 3100).state;
    let r = restoreState(serializeState(s));
    // The old process's `xm create` may still be running over SSH: no second start yet.
    for (let t = 4000; t <= 3100 + START_ANSWER_TIMEOUT_MS; t += 1000) {
      const next = step(r, [up("s1"), miss("s2"), up("s3")], t);
      expect(next.actions, `t=${t}`).to.deep.equal([]);
      r = next.state;
    }
    const late = step(r, [up("s1"), miss("s2"), up("s3")], 3100 + START_ANSWER_TIMEOUT_MS + 1000);
    expect(late.log.map(renderLogLine)[0]).to.match(/guest-start-failed server=s3 guest=vm2: not listed by s3 after the start \(lost\)/);
    // It avoids s3 for one attempt, but vm2's only preferred server is s3, so s3 again.
    expect(late.actions).to.deep.equal([{ kind: "start", guest: "vm2", server: "s3" }]);
  });
  it("re-sends a power fence whose answer was lost", () => {
    const r = restoreState(serializeState(toFailed()));
    const next = step(r, [up("s1"), miss("s2"), up("s3")], 3200);
    expect(next.actions).to.deep.equal([{ kind: "fence", server: "s2" }]);
  });
  it("rejects a damaged state file with a clear message", () => {
    const s = JSON.parse(serializeState(toFailed()));
    s.formatVersion = 7;
    expect(() => restoreState(JSON.stringify(s))).to.throw(/formatVersion: formatVersion must be 1/);
  });
  it("every scenario's state survives JSON at every step unchanged", function () {
    this.timeout(20000);
    const viaJson = (st: ManagerState, o: Observation[], t: number) => step(JSON.parse(JSON.stringify(st)) as ManagerState, o, t);
    for (const d of fs.readdirSync(SCENARIOS).filter((x) => fs.statSync(path.join(SCENARIOS, x)).isDirectory()).sort()) {
      const sc = loadScenario(path.join(SCENARIOS, d));
      const a = runScenario(sc).world.log.map(renderLogLine);
      const b = runScenario(sc, viaJson).world.log.map(renderLogLine);
      expect(b, d).to.deep.equal(a);
    }
  });
  it("a restart at any instant of a failover starts each guest once and forgets none", function () {
    this.timeout(20000);
    const dir = path.join(SCENARIOS, "watchdog-restart-mid-failover");
    const base = loadScenario(dir);
    for (let at = 6800; at <= 9000; at += 100) {
      const sc = { ...base, events: parseEvents(`at 5000 crash s2\nat ${at} restart-watchdog\nat 15000 end`) };
      const run = runScenario(sc); // the runner asserts the single-instance invariant throughout
      const starts = run.world.log.filter((l) => l.event === "guest-start").map((l) => l.guest);
      expect(starts.sort(), `restart at ${at}`).to.deep.equal(["vm2", "vm3"]);
      expect(run.world.whereRunning().get("vm2"), `restart at ${at}`).to.deep.equal(["s3"]);
      expect(run.world.whereRunning().get("vm3"), `restart at ${at}`).to.deep.equal(["s1"]);
    }
  });
});

describe("simulator events", () => {
  it("parses timed commands and comments", () => {
    expect(parseEvents("# c\nat 5000 crash s2\n\nat 6000 isolate-watchdog # why\n")).to.deep.equal([
      { at: 5000, command: "crash", arg: "s2", line: 2 },
      { at: 6000, command: "isolate-watchdog", arg: undefined, line: 4 },
    ]);
  });
  const bad: [string, RegExp][] = [
    ["at 5000 explode s2", /unknown command "explode"/],
    ["at 5000 crash", /"crash" needs a server name/],
    ["at 5000 restart-watchdog now", /takes no argument/],
    ["crash s2 at 5000", /expected "at <ms> <command>/],
    ["at 5000 crash s1\nat 4000 crash s2", /times must not go backwards/],
  ];
  for (const [text, re] of bad) it(`rejects: ${text.split("\n").pop()}`, () => expect(() => parseEvents(text)).to.throw(re));
});

describe("manager: edge cases", () => {
  it("a guest migrating towards a server that fails is not restarted while its source still lists it", () => {
    let s = createManagerState(pool, [vm], 0);
    s = step(s, [up("s1", ["vm2"]), up("s2"), up("s3")], 0).state;
    s = step(s, [{ kind: "request", op: "shutdown", server: "s1" }], 100).state;
    expect(s.guests.vm2.status).to.include({ state: "migrating", from: "s1", to: "s3" });
    // s3 dies before the migration answers; s1 still runs vm2 (the migration never completed).
    for (const t of [1000, 2000, 3000]) s = step(s, [up("s1", ["vm2"]), up("s2"), miss("s3")], t).state;
    expect(s.servers.s3.state).to.equal("fencing");
    const r = step(s, [{ kind: "fence-result", server: "s3", outcome: "off" }], 3100);
    expect(r.actions.filter((a) => a.kind === "start")).to.deep.equal([]);
    expect(r.state.guests.vm2.status).to.include({ state: "running", server: "s1" });
  });
  it("a new generation of the records renews the budget of a guest in error", () => {
    let s = toFailed();
    s.guests.vm2.status = { state: "error", since: 3000, reason: "x" };
    s.guests.vm2.attempts = [1, 2, 3];
    const same = step(s, [{ kind: "config", pool, guests: [vm] }], 3100);
    expect(same.state.guests.vm2.status.state).to.equal("error");
    s = step(s, [{ kind: "config", pool: { ...pool, generation: 2 }, guests: [vm] }], 3100).state;
    // Restarted at once, with one attempt counted against a fresh budget.
    expect(s.guests.vm2.status).to.include({ state: "starting", server: "s3" });
    expect(s.guests.vm2.attempts).to.deep.equal([3100]);
  });
  it("a guest whose records drop the HA flag is forgotten, and a server dropped from the pool is removed", () => {
    let s = toFailed();
    const p2 = { ...pool, generation: 2, servers: pool.servers.filter((x) => x.name !== "s3") };
    s = step(s, [{ kind: "config", pool: p2, guests: [{ ...vm, ha: false }] }], 3100).state;
    expect(s.guests.vm2).to.equal(undefined);
    expect(s.servers.s3.state).to.equal("removed");
  });
});

describe("manager: duplicates", () => {
  it("says loudly when two answering servers list the same guest, and starts or kills nothing", () => {
    let s = createManagerState(pool, [vm], 0);
    s = step(s, [up("s1"), up("s2", ["vm2"]), up("s3")], 0).state;
    const r = step(s, [up("s1"), up("s2", ["vm2"]), up("s3", ["vm2"])], 1000);
    expect(r.log.map(renderLogLine)).to.deep.equal([
      "t=1000 guest-duplicate !! server=s3 guest=vm2: listed by both s2 and s3: a guest runs twice; a human must decide which to destroy",
    ]);
    expect(r.actions).to.deep.equal([]);
  });
});
