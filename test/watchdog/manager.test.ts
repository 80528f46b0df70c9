// The decision core on its own: purity, quorum rule, durable state, resume without double starts.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { GuestRecordSchema } from "../../ha/ha-record";
import { createManagerState, step as rawStep, type ManagerState } from "../../watchdog/core/manager";
import { restoreState, serializeState } from "../../watchdog/core/durable-state";
import { quorum, type ServerStatus } from "../../watchdog/core/server-state";
import type { Observation } from "../../watchdog/core/types";
import { renderLogLine } from "../../watchdog/core/types";
import { loadScenario, runScenario } from "../../watchdog/sim/scenario";
import { parseEvents } from "../../watchdog/sim/events";
import { listing, pool, silence, vm2 } from "./manager-fixtures";

const SRC = path.resolve(__dirname, "../../..");
const SCENARIOS = path.join(SRC, "test/watchdog/scenarios");

const vm = vm2(["s3"]);
/** An observation whose times the step helper fills in when missing. */
type Untimed = { kind: string; [k: string]: unknown };
const up = (server: string, guests: string[] = []): Untimed => listing(server, guests);
const miss = (server: string): Untimed => silence(server);
/** Observations without times were sent 100 ms and answered 50 ms before the step. */
function step(s: ManagerState, obs: Untimed[], t: number) {
  return rawStep(s, obs.map((o) => ("kind" in o && o.kind !== "request" && o.kind !== "config" && (o as { sentAt?: number }).sentAt === undefined ? { ...o, sentAt: t - 100, answeredAt: t - 50 } : o)) as Observation[], t);
}

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
    for (const f of fs.readdirSync(path.join(SRC, "watchdog/core")).filter((x) => x.endsWith(".ts") && x !== "environment.ts" && x !== "durable-state.ts").concat("../../ha/placement.ts")) {
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

describe("manager: quorum (symmetric, no list order)", () => {
  const st = (ok: boolean, state: ServerStatus["state"] = "up"): ServerStatus => ({ state, since: 0, misses: ok ? 0 : 3, lastOkAt: 0 });
  const table: [string, ServerStatus[], boolean][] = [
    ["1 of 3 lost: act", [st(true), st(true), st(false)], true],
    ["2 of 3 lost: hold", [st(true), st(false), st(false)], false],
    ["2 of 4 lost, the first among them: hold", [st(false), st(false), st(true), st(true)], false],
    ["2 of 4 lost, not the first: hold all the same", [st(true), st(true), st(false), st(false)], false],
    ["1 of 2 lost: hold (an exact half)", [st(true), st(false)], false],
    ["1 of 2 lost, other order: hold", [st(false), st(true)], false],
    ["known-off servers do not count", [st(false, "fenced"), st(true), st(false, "down")], true],
    ["one missed heartbeat is not lost contact", [st(true), { ...st(true), misses: 1 }, { ...st(true), misses: 2 }], true],
    ["nobody", [st(false), st(false)], false],
  ];
  for (const [what, servers, ok] of table) {
    it(what, () => {
      expect(quorum(servers, 3).ok).to.equal(ok);
      expect(quorum([...servers].reverse(), 3).ok).to.equal(ok);
    });
  }
  it("an exact half says why it holds", () => {
    const q = quorum([st(true), st(false)], 3);
    expect(q.ok).to.equal(false);
    expect(q.ok === false && q.why).to.match(/exact half.*cut off/);
  });
});

describe("manager: durable state", () => {
  it("round-trips through JSON; a start in flight is in doubt and settled by the first listing sent after the restart", () => {
    let s = toFailed();
    s = step(s, [{ kind: "fence-result", server: "s2", outcome: "off" }], 3100).state;
    expect(s.guests.vm2.status).to.include({ state: "starting", server: "s3" });
    const r = restoreState(serializeState(s), 3500);
    expect(r.guests.vm2.status).to.deep.include({ state: "in-doubt", servers: ["s3"], outcome: "unknown", after: 3500 });
    // A listing sent before the restart proves nothing; one sent after settles it: running, not started twice.
    const old = step(r, [{ ...up("s3"), sentAt: 3400, answeredAt: 3600 }], 3700);
    expect(old.state.guests.vm2.status.state).to.equal("in-doubt");
    expect(old.actions.filter((a) => a.kind === "start")).to.deep.equal([]);
    const next = step(old.state, [up("s1"), miss("s2"), up("s3", ["vm2"])], 4000);
    expect(next.actions.filter((a) => a.kind === "start")).to.deep.equal([]);
    expect(next.state.guests.vm2.status).to.include({ state: "running", server: "s3" });
    expect(next.log.map(renderLogLine)[0]).to.match(/^t=3700 watchdog-resumed|guest-running/);
  });
  it("a lost start whose target does not run the guest is retried at the next listing, and not counted against the budget", () => {
    let s = toFailed();
    s = step(s, [{ kind: "fence-result", server: "s2", outcome: "off" }], 3100).state;
    expect(s.guests.vm2.attempts).to.deep.equal([3100]);
    const r = restoreState(serializeState(s), 3500);
    const next = step(r, [up("s1"), miss("s2"), up("s3")], 4000);
    expect(next.log.map(renderLogLine).join("\n")).to.match(/guest-start-failed server=s3 guest=vm2: start on s3 had no answer and not listed by s3/);
    // It avoids s3 for one attempt, but vm2's only preferred server is s3, so s3 again; the lost one is given back.
    expect(next.actions).to.deep.equal([{ kind: "start", guest: "vm2", server: "s3" }]);
    expect(next.state.guests.vm2.attempts).to.deep.equal([4000]);
  });
  it("re-sends a power fence whose answer was lost", () => {
    const r = restoreState(serializeState(toFailed()), 3100);
    const next = step(r, [up("s1"), miss("s2"), up("s3")], 3200);
    expect(next.actions).to.deep.equal([{ kind: "fence", server: "s2" }]);
  });
  it("rejects a damaged state file with a clear message", () => {
    const s = JSON.parse(serializeState(toFailed()));
    s.formatVersion = 7;
    expect(() => restoreState(JSON.stringify(s), 0)).to.throw(/formatVersion: formatVersion must be 2/);
  });
  it("every scenario's state survives JSON at every step unchanged", function () {
    this.timeout(20000);
    const viaJson = (st: ManagerState, o: Observation[], t: number) => rawStep(JSON.parse(JSON.stringify(st)) as ManagerState, o, t);
    const runnable = (x: string) => fs.statSync(path.join(SCENARIOS, x)).isDirectory() && !fs.existsSync(path.join(SCENARIOS, x, "expect-error.txt"));
    for (const d of fs.readdirSync(SCENARIOS).filter(runnable).sort()) {
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
      { at: 5000, command: "crash", arg: "s2", n: undefined, line: 2 },
      { at: 6000, command: "isolate-watchdog", arg: undefined, n: undefined, line: 4 },
    ]);
  });
  const bad: [string, RegExp][] = [
    ["at 5000 explode s2", /unknown command "explode"/],
    ["at 5000 crash", /"crash" takes a server name/],
    ["at 5000 xend-slow s1", /"xend-slow" takes a server name and a number of ms/],
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
    // In doubt on s1 only, settled by a listing of s1 asked for at once and sent after the fence.
    expect(r.state.guests.vm2.status).to.deep.include({ state: "in-doubt", servers: ["s1"] });
    expect(r.actions).to.deep.include({ kind: "list", server: "s1" });
    const settled = step(r.state, [{ ...up("s1", ["vm2"]), sentAt: 3150, answeredAt: 3180 }], 3200);
    // Found on s1, which is draining: with s3 gone and only s3 preferred, it is shut down cleanly there.
    expect(settled.state.guests.vm2.status).to.include({ server: "s1" });
    expect(settled.actions.filter((a) => a.kind === "start")).to.deep.equal([]);
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

describe("manager: duplicates need evidence taken after both copies appeared", () => {
  it("two listings at different moments of a live migration are no duplicate (case 5)", () => {
    let s = createManagerState(pool, [vm], 0);
    s = step(s, [up("s1"), up("s2", ["vm2"]), up("s3")], 0).state;
    // s2's listing was sent before the migration, s3's after: different moments.
    let r = step(s, [{ ...up("s2", ["vm2"]), sentAt: 900, answeredAt: 950 }, { ...up("s3", ["vm2"]), sentAt: 960, answeredAt: 990 }], 1000);
    expect(r.log.filter((l) => l.event === "guest-duplicate")).to.deep.equal([]);
    r = step(r.state, [{ ...up("s2"), sentAt: 1900, answeredAt: 1950 }, { ...up("s3", ["vm2"]), sentAt: 1900, answeredAt: 1950 }], 2000);
    expect(r.log.filter((l) => l.event === "guest-duplicate")).to.deep.equal([]);
    expect(r.state.guests.vm2.status).to.include({ state: "running", server: "s3" });
  });
  it("says loudly when both servers keep listing it over overlapping rounds, and starts or kills nothing", () => {
    let s = createManagerState(pool, [vm], 0);
    s = step(s, [up("s1"), up("s2", ["vm2"]), up("s3")], 0).state;
    let r = step(s, [up("s1"), up("s2", ["vm2"]), up("s3", ["vm2"])], 1000);
    expect(r.log.filter((l) => l.event === "guest-duplicate")).to.deep.equal([]);
    r = step(r.state, [up("s1"), up("s2", ["vm2"]), up("s3", ["vm2"])], 2000);
    expect(r.log.map(renderLogLine)).to.deep.equal([
      "t=2000 guest-duplicate !! server=s3 guest=vm2: listed by both s2 and s3 in listings sent after both copies appeared: a guest runs twice; a human must decide which to destroy",
    ]);
    expect(r.actions).to.deep.equal([]);
    // Said once, not every heartbeat.
    expect(step(r.state, [up("s1"), up("s2", ["vm2"]), up("s3", ["vm2"])], 3000).log).to.deep.equal([]);
  });
});

describe("manager: an answer sent before an action ended cannot refute it", () => {
  function failedOver(): ManagerState {
    let s = toFailed();
    s = step(s, [{ kind: "fence-result", server: "s2", outcome: "off" }], 3100).state;
    return s;
  }
  it("a listing sent before xm create finished, answered after its ok, does not make the start failed (case 1)", () => {
    let s = failedOver();
    s = step(s, [{ kind: "start-result", guest: "vm2", server: "s3", outcome: "ok", sentAt: 3100, answeredAt: 3400 }], 3400).state;
    const r = step(s, [{ ...up("s3"), sentAt: 3300, answeredAt: 3450 }], 3500);
    expect(r.actions.filter((a) => a.kind === "start")).to.deep.equal([]);
    expect(r.state.guests.vm2.status.state).to.equal("in-doubt");
    const ok = step(r.state, [{ ...up("s3", ["vm2"]), sentAt: 3450, answeredAt: 3480 }], 3500);
    expect(ok.state.guests.vm2.status).to.include({ state: "running", server: "s3" });
  });
  it("asks for a listing right after a command answers (no wait for the next round)", () => {
    const s = failedOver();
    const r = step(s, [{ kind: "start-result", guest: "vm2", server: "s3", outcome: "ok", sentAt: 3100, answeredAt: 3400 }], 3400);
    expect(r.actions).to.deep.equal([{ kind: "list", server: "s3" }]);
  });
  it("a start with no answer keeps the guest in doubt on its target; when that target fails it is fenced, then started elsewhere (case 2)", () => {
    // Four servers: with s2 fenced, losing one more of the three left still leaves a majority in contact.
    const two = GuestRecordSchema.parse({ ...vm, preferred: ["s1", "s3"] });
    const four = { ...pool, servers: [...pool.servers, { ...pool.servers[2], name: "s4", address: "192.0.2.4" }] };
    let s = createManagerState(four, [two], 0);
    s = step(s, [up("s1"), up("s2", ["vm2"]), up("s3"), up("s4")], 0).state;
    for (const t of [1000, 2000, 3000]) s = step(s, [up("s1"), miss("s2"), up("s3"), up("s4")], t).state;
    s = step(s, [{ kind: "fence-result", server: "s2", outcome: "off" }], 3100).state;
    const target = (s.guests.vm2.status as { server: string }).server;
    const other = target === "s1" ? "s3" : "s1";
    s = step(s, [{ kind: "start-result", guest: "vm2", server: target, outcome: "unknown", detail: "connection lost", sentAt: 3100, answeredAt: 6100 }], 6100).state;
    expect(s.guests.vm2.status).to.deep.include({ state: "in-doubt", servers: [target] });
    // The target goes silent: nothing starts anywhere; it gets fenced although no guest is recorded "running" on it.
    let fenced = false;
    for (const t of [7000, 8000, 9000]) {
      const r = step(s, [up(other), miss("s2"), miss(target), up("s4")], t);
      expect(r.actions.filter((a) => a.kind === "start"), `t=${t}`).to.deep.equal([]);
      fenced ||= r.actions.some((a) => a.kind === "fence" && a.server === target);
      s = r.state;
    }
    expect(fenced, "the in-doubt target is fenced").to.equal(true);
    const r = step(s, [{ kind: "fence-result", server: target, outcome: "off", sentAt: 9000, answeredAt: 9100 }], 9100);
    expect(r.actions).to.deep.include({ kind: "start", guest: "vm2", server: other });
  });
});

describe("manager: a command with no answer may still run until its deadline", () => {
  it("a listing without the guest clears a server only once the command has certainly ended; one with it settles at once", () => {
    let s = toFailed();
    s = step(s, [{ kind: "fence-result", server: "s2", outcome: "off" }], 3100).state;
    // The connection dropped 200 ms after sending; the command's deadline is 3100 + 5000.
    s = step(s, [{ kind: "start-result", guest: "vm2", server: "s3", outcome: "unknown", sentAt: 3100, answeredAt: 3300, mayRunUntil: 8100 }], 3300).state;
    let r = step(s, [{ ...up("s3"), sentAt: 3400, answeredAt: 3450 }], 3500);
    expect(r.state.guests.vm2.status).to.deep.include({ state: "in-doubt", servers: ["s3"] });
    expect(r.actions.filter((a) => a.kind === "start")).to.deep.equal([]);
    // xend finished the create after its client gave up: seen, settled, never started twice.
    const seen = step(r.state, [{ ...up("s3", ["vm2"]), sentAt: 4000, answeredAt: 4050 }], 4100);
    expect(seen.state.guests.vm2.status).to.include({ state: "running", server: "s3" });
    // Had it not: only a listing sent after the deadline clears s3.
    r = step(r.state, [{ ...up("s3"), sentAt: 8200, answeredAt: 8250 }], 8300);
    expect(r.log.map(renderLogLine).join("\n")).to.match(/guest-start-failed server=s3 guest=vm2: start on s3 had no answer/);
    expect(r.actions).to.deep.equal([{ kind: "start", guest: "vm2", server: "s3" }]);
  });
  it("after a restart, a start the old process sent is cleared by absence only after its deadline", () => {
    let s = toFailed();
    s = step(s, [{ kind: "fence-result", server: "s2", outcome: "off" }], 3100).state;
    const r = restoreState(serializeState(s), 3500, 5000);
    expect(r.guests.vm2.status).to.deep.include({ state: "in-doubt", after: 3500, absentAfter: 8100 });
  });
});

describe("manager: degraded is not failed (case 8)", () => {
  it("a server whose SSH answers while xm fails is degraded, loud, never fenced, and its guests stay put", () => {
    let s = createManagerState(pool, [vm], 0);
    s = step(s, [up("s1"), up("s2", ["vm2"]), up("s3")], 0).state;
    const xmDown: Untimed = { kind: "poll", server: "s2", ok: false, contact: "ssh-only", detail: "Error: Unable to connect to xend" };
    const all: string[] = [];
    for (let t = 1000; t <= 10000; t += 1000) {
      const r = step(s, [up("s1"), xmDown, up("s3")], t);
      expect(r.actions.filter((a) => a.kind === "fence" || a.kind === "start"), `t=${t}`).to.deep.equal([]);
      all.push(...r.log.map(renderLogLine));
      s = r.state;
    }
    // One slow or failed xm is no news; three in a row (heartbeatMisses) make it degraded, loudly.
    expect(all[0]).to.match(/^t=3000 server-degraded !! server=s2: SSH answers but xm does not/);
    expect(s.servers.s2.state).to.equal("up");
    expect(s.guests.vm2.status).to.include({ state: "running", server: "s2" });
  });
});

describe("manager: a drain is done only when its guests are confirmed on their targets (case 3)", () => {
  it("the target of a live migration cut off mid-drain: no proceed while the guest may still be on the source", () => {
    let s = createManagerState(pool, [vm], 0);
    s = step(s, [up("s1", ["vm2"]), up("s2"), up("s3")], 0).state;
    s = step(s, [{ kind: "request", op: "shutdown", server: "s1" }], 100).state;
    expect(s.guests.vm2.status).to.include({ state: "migrating", from: "s1", to: "s3" });
    // The migration answers ok, but s3 stops answering; s1's listing during the migration shows migrating-vm2.
    s = step(s, [{ ...up("s1"), guests: [{ name: "vm2", memoryMb: 1024, migrating: true }], sentAt: 400, answeredAt: 450 }], 500).state;
    s = step(s, [{ kind: "migrate-result", guest: "vm2", from: "s1", to: "s3", outcome: "ok", sentAt: 100, answeredAt: 600 }], 600).state;
    let proceeded = false;
    for (const t of [1000, 2000]) {
      const r = step(s, [up("s1"), up("s2"), miss("s3")], t);
      proceeded ||= r.actions.some((a) => a.kind === "proceed");
      s = r.state;
    }
    expect(proceeded, "no proceed while vm2 is unconfirmed on s3").to.equal(false);
    expect(s.guests.vm2.status).to.deep.include({ state: "in-doubt", servers: ["s3"] });
  });
});

describe("manager: a drain waits briefly for a target that answers slowly, then powers off (seed 9.1)", () => {
  const slow: Untimed = { kind: "poll", server: "s3", ok: false, contact: "ssh-only", detail: "xm list gave no answer within 900 ms" };
  /** vm2 on s1 (only s3 preferred), s3 degraded (xm slow three times), then s1 asked to shut down at 3100. */
  function drainWhileTargetSlow() {
    let s = createManagerState(pool, [vm], 0);
    s = step(s, [up("s1", ["vm2"]), up("s2"), up("s3")], 0).state;
    for (const t of [1000, 2000, 3000]) s = step(s, [up("s1", ["vm2"]), up("s2"), slow], t).state;
    expect(s.servers.s3.degraded, "s3 degraded").to.not.equal(undefined);
    const r = step(s, [{ kind: "request", op: "shutdown", server: "s1" }], 3100);
    return r;
  }

  it("the only target is degraded when the drain starts: no Power Off, it says so once; s3 answers again: live migration", () => {
    const r = drainWhileTargetSlow();
    expect(r.actions.filter((a) => a.kind === "stop" || a.kind === "migrate")).to.deep.equal([]);
    expect(r.state.guests.vm2.status).to.include({ state: "running", server: "s1" });
    const said = r.log.filter((e) => e.event === "drain-target-wait");
    expect(said.map((e) => e.reason)).to.deep.equal(["no target right now; waiting up to 6000 ms for s3 (xm slow) before shutting guests down"]);
    let s = step(r.state, [up("s1", ["vm2"]), up("s2"), slow], 4000).state;
    const back = step(s, [up("s1", ["vm2"]), up("s2"), up("s3")], 5000);
    expect(back.actions.filter((a) => a.kind === "migrate")).to.deep.equal([{ kind: "migrate", guest: "vm2", from: "s1", to: "s3" }]);
    expect(back.actions.filter((a) => a.kind === "stop")).to.deep.equal([]);
    s = back.state;
    expect(s.guests.vm2.status).to.include({ state: "migrating", to: "s3" });
  });

  it("still degraded once the wait (two detection bounds) is over: shut down (Power Off), to be restarted when a server is available", () => {
    let s = drainWhileTargetSlow().state;
    let stopped: unknown[] = [];
    for (const t of [4000, 5000, 6000, 7000, 8000, 9000, 10000]) {
      const r = step(s, [up("s1", ["vm2"]), up("s2"), slow], t);
      if (t < 9100) expect(r.actions.filter((a) => a.kind === "stop"), `still waiting at ${t}`).to.deep.equal([]);
      stopped = stopped.concat(r.actions.filter((a) => a.kind === "stop"));
      s = r.state;
    }
    expect(stopped).to.deep.equal([{ kind: "stop", guest: "vm2", server: "s1" }]);
  });

  it("a target that is down (not merely slow) is not waited for: Power Off at once, as before", () => {
    let s = createManagerState(pool, [vm], 0);
    s = step(s, [up("s1", ["vm2"]), up("s2"), up("s3")], 0).state;
    s.servers.s3.state = "down";
    const r = step(s, [{ kind: "request", op: "shutdown", server: "s1" }], 100);
    expect(r.actions.filter((a) => a.kind === "stop")).to.deep.equal([{ kind: "stop", guest: "vm2", server: "s1" }]);
    expect(r.log.filter((e) => e.event === "drain-target-wait")).to.deep.equal([]);
  });
});
