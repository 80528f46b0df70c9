// The decision core with the disk heartbeat: slots read as evidence (alive, stale, unknown), the storage fence
// (poison pill, message wait), fencing levels (power, then storage), cut off vs dead, the exact half settled by
// disk evidence, and the seed 9.4 placement rule. Driven by hand, observation by observation.
import { expect } from "chai";
import { messageWaitMs } from "../../ha/disk-heartbeat";
import { GuestRecordSchema, PoolRecordSchema, DEFAULT_TIMING, type FenceMethod } from "../../ha/ha-record";
import { slotAllowsTarget } from "../../ha/placement";
import { createManagerState, step as rawStep, type ManagerState } from "../../watchdog/core/manager";
import { describeDisk, diskView } from "../../watchdog/core/disk-evidence";
import { restoreState, serializeState } from "../../watchdog/core/durable-state";
import { renderLogLine, type Observation, type SlotReading } from "../../watchdog/core/types";

const MW = messageWaitMs(DEFAULT_TIMING.agent); // 7700
type Untimed = { kind: string; [k: string]: unknown };

function poolOf(n: number, fence: FenceMethod) {
  return PoolRecordSchema.parse({
    schemaVersion: 1,
    name: "p",
    haEnabled: true,
    generation: 1,
    timing: DEFAULT_TIMING,
    servers: Array.from({ length: n }, (_, i) => ({ name: `s${i + 1}`, address: `192.0.2.${i + 1}`, role: i ? "member" : "master", fence })),
  });
}
const vm = (name: string, preferred: string[] | "auto" = "auto") =>
  GuestRecordSchema.parse({ schemaVersion: 1, name, ha: true, preferred, memoryMb: 1024, vmCfgPath: `/OVS/running_pool/${name}/vm.cfg` });
const up = (server: string, guests: string[] = []): Untimed => ({ kind: "poll", server, ok: true, guests: guests.map((name) => ({ name, memoryMb: 1024 })), totalMemoryMb: 8192, freeMemoryMb: 8192 - 1024 * guests.length });
const miss = (server: string): Untimed => ({ kind: "poll", server, ok: false, contact: "none" });
const slot = (seq: number, state: SlotReading["state"] = "ready", bootId = "boot-a"): SlotReading => ({ bootId, seq, state });
const slots = (m: Record<string, SlotReading | null>): Untimed => ({ kind: "slots", via: "s1", ok: true, slots: m });
function step(s: ManagerState, obs: Untimed[], t: number) {
  return rawStep(s, obs.map((o) => (o.kind !== "request" && o.kind !== "config" && o.sentAt === undefined ? { ...o, sentAt: t - 100, answeredAt: t - 50 } : o)) as Observation[], t);
}
const log = (r: { log: { t: number; event: string; reason: string }[] }) => r.log.map((l) => renderLogLine(l as never)).join("\n");

/**
 * Three servers, storage fence, vm2 on s2. Heartbeats every 1000 ms; every server's agent writes each interval
 * (seq = t / 1000) except s2 after it stops at `s2Stops` (its slot then stays the same: stale). s2's network is
 * silent from 2000 on when `silentFrom` says so.
 */
function run(opts: { until: number; s2Stops?: number; silentFrom?: number; fence?: FenceMethod; pillAnswer?: "ok" | "failed"; n?: number; silent?: string[] }) {
  const n = opts.n ?? 3;
  let s = createManagerState(poolOf(n, opts.fence ?? { method: "storage" }), [vm("vm2")], 0);
  const names = Array.from({ length: n }, (_, i) => `s${i + 1}`);
  const silent = new Set(opts.silent ?? ["s2"]);
  const all: ReturnType<typeof step>[] = [];
  let pill: { at: number } | undefined;
  for (let t = 0; t <= opts.until; t += 1000) {
    const obs: Untimed[] = [];
    for (const name of names) {
      const quiet = silent.has(name) && opts.silentFrom !== undefined && t >= opts.silentFrom;
      obs.push(quiet ? miss(name) : up(name, name === "s2" ? ["vm2"] : []));
    }
    const m: Record<string, SlotReading> = {};
    for (const name of names) m[name] = slot(silent.has(name) && opts.s2Stops !== undefined ? Math.min(t, opts.s2Stops) / 1000 : t / 1000);
    obs.push(slots(m));
    if (pill && opts.pillAnswer) {
      obs.push({ kind: "pill-result", server: "s2", outcome: opts.pillAnswer, sentAt: pill.at, answeredAt: pill.at + 50 });
      pill = undefined;
    }
    const r = step(s, obs, t);
    if (r.actions.some((a) => a.kind === "pill")) pill = { at: t };
    all.push(r);
    s = r.state;
  }
  return { s, all, text: all.map(log).join("\n"), actions: all.flatMap((r) => r.actions) };
}

describe("disk heartbeat: evidence", () => {
  it("alive when the seq changed between two reads within the lease; stale when the same armed slot is read again; unknown after one read", () => {
    let s = createManagerState(poolOf(3, { method: "storage" }), [], 0);
    s = step(s, [slots({ s1: slot(1), s2: slot(1), s3: null })], 1000).state;
    expect(diskView(s.servers.s1, s.pool.timing, 1000).kind).to.equal("unknown");
    expect(describeDisk(s.servers.s3, s.pool.timing, 1000)).to.equal("no slot");
    s = step(s, [slots({ s1: slot(2), s2: slot(1), s3: null })], 2000).state;
    expect(diskView(s.servers.s1, s.pool.timing, 2000).kind).to.equal("alive");
    expect(diskView(s.servers.s2, s.pool.timing, 2000)).to.deep.include({ kind: "stale", since: 950 });
    // Alive only within the lease (with the clock margin) of the write; then unknown until another read shows it.
    expect(diskView(s.servers.s1, s.pool.timing, 900 + 3300).kind).to.equal("alive");
    expect(diskView(s.servers.s1, s.pool.timing, 900 + 3300 + 1).kind).to.equal("unknown");
  });
  it("an unreadable read is not stale: a failed read, or a slot missing from a read, changes nothing", () => {
    let s = createManagerState(poolOf(3, { method: "storage" }), [], 0);
    s = step(s, [slots({ s1: slot(1), s2: slot(1) })], 1000).state;
    for (const t of [2000, 3000, 4000, 5000, 9000]) s = step(s, [{ kind: "slots", ok: false, detail: "ssh: no answer" }, slots({ s1: slot(t) })], t).state;
    expect(diskView(s.servers.s2, s.pool.timing, 9000).kind).to.equal("unknown");
    expect(s.servers.s2.disk?.lastReadSentAt).to.equal(900);
  });
  it("an overtaken read (sent before one already taken into account) is ignored", () => {
    let s = createManagerState(poolOf(3, { method: "storage" }), [], 0);
    s = step(s, [slots({ s2: slot(5) })], 2000).state;
    s = step(s, [{ ...slots({ s2: slot(4) }), sentAt: 1500, answeredAt: 2100 }], 2200).state;
    expect(s.servers.s2.disk?.slot?.seq).to.equal(5);
  });
});

describe("storage fence", () => {
  it("a crashed server: known off one message wait after its slot was first read stale (before the pill's wait), then its guest starts elsewhere once", () => {
    const r = run({ until: 14000, s2Stops: 1000, silentFrom: 2000, pillAnswer: "ok" });
    expect(r.text).to.match(/fence-start server=s2: storage fence, attempt 1: poison pill into its slot, aimed at boot boot-a/);
    expect(r.actions.filter((a) => a.kind === "pill")).to.deep.equal([{ kind: "pill", server: "s2", bootId: "boot-a", reason: "storage fence by the watchdog (attempt 1)" }]);
    // Slot seq 1 first read (answered) at 950: known off at 950 + 7700 = 8650, so at the 9000 step.
    expect(r.text).to.match(/t=9000 server-fenced server=s2: known off by its disk heartbeat/);
    expect(r.actions.filter((a) => a.kind === "start")).to.have.length(1);
    expect(r.actions.some((a) => a.kind === "fence")).to.equal(false);
  });
  it("the pill's message wait alone is enough when the slot cannot be read after the pill (storage lost on the readers)", () => {
    let s = createManagerState(poolOf(3, { method: "storage" }), [vm("vm2")], 0);
    for (const t of [0, 1000]) s = step(s, [up("s1"), up("s2", ["vm2"]), up("s3"), slots({ s1: slot(t), s2: slot(t), s3: slot(t) })], t).state;
    let pillAt = -1;
    for (let t = 2000; t <= 16000; t += 1000) {
      const obs: Untimed[] = [up("s1"), miss("s2"), up("s3"), { kind: "slots", ok: false, detail: "timed out" }];
      if (pillAt > 0 && t === pillAt + 1000) obs.push({ kind: "pill-result", server: "s2", outcome: "ok", sentAt: pillAt, answeredAt: pillAt + 200 });
      const r = step(s, obs, t);
      if (r.actions.some((a) => a.kind === "pill")) pillAt = t;
      if (r.log.some((l) => l.event === "server-fenced")) {
        expect(t).to.equal(pillAt + 200 + MW + 100); // first step at or after pill answered + message wait
        expect(log(r)).to.match(/storage fence: poison pill written \d+ ms ago, past the message wait \(7700 ms\)/);
        return;
      }
      s = r.state;
    }
    expect.fail("never fenced");
  });
  it("a failed pill write proves nothing: it is written again, loudly", () => {
    const r = run({ until: 7000, s2Stops: 1000, silentFrom: 2000, pillAnswer: "failed" });
    expect(r.text).to.match(/pill-failed !! server=s2: poison pill was not written/);
    expect(r.actions.filter((a) => a.kind === "pill").length).to.be.at.least(2);
    expect(r.s.servers.s2.state).to.equal("fencing");
  });
  it("a stopped slot (agent stopped cleanly, device disarmed) or no slot: storage fence impossible, loud, guests held", () => {
    for (const last of [slot(1, "stopped"), null]) {
      let s = createManagerState(poolOf(3, { method: "storage" }), [vm("vm2")], 0);
      s = step(s, [up("s1"), up("s2", ["vm2"]), up("s3"), slots({ s1: slot(0), s2: last, s3: slot(0) })], 0).state;
      const all: string[] = [];
      for (let t = 1000; t <= 20000; t += 1000) {
        const r = step(s, [up("s1"), miss("s2"), up("s3"), slots({ s1: slot(t), s2: last, s3: slot(t) })], t);
        expect(r.actions.filter((a) => a.kind === "pill" || a.kind === "start")).to.deep.equal([]);
        all.push(log(r));
        s = r.state;
      }
      expect(all.join("\n")).to.match(/fence-unavailable !! server=s2: storage fence impossible/);
      expect(all.join("\n").match(/fence-unavailable/g)).to.have.length(1);
      expect(s.guests.vm2.status.state).to.equal("held");
    }
  });
  it("a self-fencing slot counts as stale from the read that showed it", () => {
    let s = createManagerState(poolOf(3, { method: "none" }), [vm("vm2")], 0);
    s = step(s, [up("s1"), up("s2", ["vm2"]), up("s3"), slots({ s2: slot(0) })], 0).state;
    s = step(s, [up("s1"), miss("s2"), up("s3"), slots({ s2: slot(1, "self-fencing") })], 1000).state;
    for (let t = 2000; t < 950 + MW; t += 1000) s = step(s, [up("s1"), miss("s2"), up("s3"), { kind: "slots", ok: false, detail: "x" }], t).state;
    const r = step(s, [up("s1"), miss("s2"), up("s3")], 9000);
    expect(log(r)).to.match(/server-fenced server=s2: known off by its disk heartbeat: its agent's last write says self-fencing/);
    expect(r.actions).to.deep.include({ kind: "start", guest: "vm2", server: "s1" });
  });
  it("a new boot in the slot (still cut off from the watchdog) ends the fence: the boot the pill was aimed at is over; no pill aimed at the new boot", () => {
    let s = createManagerState(poolOf(3, { method: "storage" }), [vm("vm2")], 0);
    for (const t of [0, 1000]) s = step(s, [up("s1"), up("s2", ["vm2"]), up("s3"), slots({ s1: slot(t), s2: slot(t), s3: slot(t) })], t).state;
    for (const t of [2000, 3000, 4000, 5000]) s = step(s, [up("s1"), miss("s2"), up("s3"), slots({ s1: slot(t), s2: slot(1000), s3: slot(t) })], t).state;
    expect(s.servers.s2.state).to.equal("fencing");
    const r = step(s, [up("s1"), miss("s2"), up("s3"), slots({ s1: slot(6000), s2: slot(1, "starting", "boot-b"), s3: slot(6000) })], 6000);
    expect(log(r)).to.match(/server-fenced server=s2: storage fence: its slot shows a new boot \(boot-b, not boot-a\)/);
    expect(r.actions.filter((a) => a.kind === "pill")).to.deep.equal([]);
    expect(r.actions.filter((a) => a.kind === "start")).to.have.length(1);
  });
  it("a pill not obeyed (the slot still renewed after it must have been read) fails the level, loudly", () => {
    let s = createManagerState(poolOf(3, { method: "storage" }), [vm("vm2")], 0);
    let seq = 0;
    for (const t of [0, 1000]) s = step(s, [up("s1"), up("s2", ["vm2"]), up("s3"), slots({ s2: slot(seq++) })], t).state;
    // s2's agent stalls three reads (network silent too), then writes again after the pill.
    for (const t of [2000, 3000, 4000, 5000, 6000]) s = step(s, [up("s1"), miss("s2"), up("s3"), slots({ s2: slot(seq) })], t).state;
    expect(s.servers.s2.state).to.equal("fencing");
    s = step(s, [up("s1"), miss("s2"), up("s3"), slots({ s2: slot(seq) }), { kind: "pill-result", server: "s2", outcome: "ok", sentAt: 5000, answeredAt: 5050 }], 6500).state;
    const r = step(s, [up("s1"), miss("s2"), up("s3"), slots({ s2: slot(seq + 1) })], 8000);
    expect(log(r)).to.match(/fence-failed !! server=s2: storage fence not obeyed/);
    expect(r.actions.filter((a) => a.kind === "start")).to.deep.equal([]);
  });
});

describe("cut off, not dead", () => {
  it("network silent while the disk heartbeat goes on: no fence, no restart, loud once; back to normal when the network returns", () => {
    const r = run({ until: 20000, silentFrom: 2000, fence: { method: "power" } });
    expect(r.actions.filter((a) => a.kind === "fence" || a.kind === "pill" || a.kind === "start")).to.deep.equal([]);
    expect(r.text.match(/server-cut-off !! server=s2: cut off \(disk heartbeat alive\)/g)).to.have.length(1);
    expect(r.s.guests.vm2.status).to.deep.include({ state: "held", server: "s2" });
    expect(r.actions).to.deep.include({ kind: "mark-server", server: "s2", state: "cut-off", reason: r.s.servers.s2.cutOff ? (r.all.flatMap((x) => x.actions).find((a) => a.kind === "mark-server" && a.state === "cut-off") as { reason: string }).reason : "" });
    const back = step(r.s, [up("s1"), up("s2", ["vm2"]), up("s3"), slots({ s1: slot(21), s2: slot(21), s3: slot(21) })], 21000);
    expect(back.state.guests.vm2.status).to.deep.include({ state: "running", server: "s2" });
    expect(back.state.servers.s2.cutOff).to.equal(undefined);
  });
  it("a cut-off server that then dies (its slot stops) is fenced by the storage fence", () => {
    const r = run({ until: 22000, silentFrom: 2000, s2Stops: 8000, pillAnswer: "ok" });
    expect(r.text).to.match(/server-cut-off !! server=s2/);
    expect(r.text).to.match(/server-fenced server=s2/);
    expect(r.actions.filter((a) => a.kind === "start")).to.have.length(1);
  });
});

describe("fencing levels (power, then storage)", () => {
  it("a failed power fence goes on to the storage level at once, each level logged", () => {
    const fence: FenceMethod = { method: "levels", levels: [{ method: "power" }, { method: "storage" }] };
    let s = createManagerState(poolOf(3, fence), [vm("vm2")], 0);
    for (const t of [0, 1000]) s = step(s, [up("s1"), up("s2", ["vm2"]), up("s3"), slots({ s2: slot(t) })], t).state;
    let r = step(s, [up("s1"), miss("s2"), up("s3"), slots({ s2: slot(1000) })], 2000);
    for (const t of [3000, 4000]) r = step(r.state, [up("s1"), miss("s2"), up("s3"), slots({ s2: slot(1000) })], t);
    expect(r.actions).to.deep.equal([{ kind: "fence", server: "s2" }]);
    expect(log(r)).to.match(/fence-start server=s2: power fence, level 1 of 2, attempt 1/);
    r = step(r.state, [{ kind: "fence-result", server: "s2", outcome: "failed", detail: "ipmitool: no session" }], 4300);
    expect(log(r)).to.match(/fence-level-failed !! server=s2: power fence failed: ipmitool: no session: level 1 of 2 \(power\) failed; trying level 2 \(storage\)/);
    expect(log(r)).to.match(/fence-start server=s2: storage fence, level 2 of 2, attempt 1/);
    expect(r.actions.filter((a) => a.kind === "pill")).to.have.length(1);
  });
  it("a power fence that works needs no storage level", () => {
    const fence: FenceMethod = { method: "levels", levels: [{ method: "power" }, { method: "storage" }] };
    let s = createManagerState(poolOf(3, fence), [vm("vm2")], 0);
    for (const t of [0, 1000, 2000, 3000, 4000]) s = step(s, [up("s1"), t < 2000 ? up("s2", ["vm2"]) : miss("s2"), up("s3")], t).state;
    const r = step(s, [{ kind: "fence-result", server: "s2", outcome: "off" }], 4300);
    expect(log(r)).to.match(/server-fenced server=s2: power fence confirmed off/);
    expect(r.actions.filter((a) => a.kind === "pill")).to.deep.equal([]);
  });
});

describe("exact half settled by disk evidence", () => {
  it("2 of 4 silent: held while nothing proves them off; once their armed slots are stale past the message wait, they are known off and their guest restarts once", () => {
    let s = createManagerState(poolOf(4, { method: "storage" }), [vm("vm2")], 0);
    const all: string[] = [];
    let starts = 0;
    for (let t = 0; t <= 20000; t += 1000) {
      const dead = t >= 2000;
      const obs: Untimed[] = [up("s1"), dead ? miss("s2") : up("s2", ["vm2"]), dead ? miss("s3") : up("s3"), up("s4")];
      obs.push(slots({ s1: slot(t), s2: slot(Math.min(t, 1000)), s3: slot(Math.min(t, 1000)), s4: slot(t) }));
      const r = step(s, obs, t);
      starts += r.actions.filter((a) => a.kind === "start").length;
      all.push(log(r));
      s = r.state;
    }
    const text = all.join("\n");
    expect(text).to.match(/quorum-lost !!: .*exact half/);
    expect(text).to.match(/quorum-regained: in contact with 2 of 2 servers \(s2, s3 known off by their disk heartbeat/);
    expect(text).to.match(/server-fenced server=s2: known off by its disk heartbeat/);
    expect(starts).to.equal(1);
    expect(s.guests.vm2.status.state).to.be.oneOf(["starting", "running", "in-doubt"]);
  });
  it("the watchdog cut off from everything (no read answers): holds, whatever the slots said before", () => {
    let s = createManagerState(poolOf(4, { method: "storage" }), [vm("vm2")], 0);
    for (const t of [0, 1000]) s = step(s, [up("s1"), up("s2", ["vm2"]), up("s3"), up("s4"), slots({ s1: slot(t), s2: slot(t), s3: slot(t), s4: slot(t) })], t).state;
    for (let t = 2000; t <= 20000; t += 1000) {
      const r = step(s, [miss("s1"), miss("s2"), miss("s3"), miss("s4"), { kind: "slots", ok: false, detail: "no server answers" }], t);
      expect(r.actions.filter((a) => a.kind === "pill" || a.kind === "start" || a.kind === "fence")).to.deep.equal([]);
      s = r.state;
    }
    expect(s.quorum).to.equal(false);
  });
});

describe("placement: seed 9.4 (a server with an agent is a target only while its slot says ready)", () => {
  it("the rule", () => {
    expect(slotAllowsTarget(true, undefined)).to.deep.include({ ok: false });
    expect(slotAllowsTarget(false, undefined)).to.deep.equal({ ok: true });
    expect(slotAllowsTarget(false, { state: "mismatch", renewed: true })).to.deep.equal({ ok: false, reason: "agent slot says mismatch, not ready" });
    expect(slotAllowsTarget(true, { state: "starting", renewed: true })).to.deep.include({ ok: false });
    expect(slotAllowsTarget(true, { state: "ready", renewed: false })).to.deep.include({ ok: false });
    expect(slotAllowsTarget(true, { state: "ready", renewed: true })).to.deep.equal({ ok: true });
  });
  it("the failed server's guest goes to the server whose slot is ready, not the one still starting", () => {
    let s = createManagerState(poolOf(3, { method: "storage" }), [vm("vm2", "auto")], 0);
    const obs = (t: number, s2: boolean): Untimed[] => [up("s1"), s2 ? up("s2", ["vm2"]) : miss("s2"), { ...up("s3"), freeMemoryMb: 8000 }, slots({ s1: slot(t / 1000), s2: slot(Math.min(t, 1000) / 1000), s3: slot(t / 1000, "starting") })];
    // s3 has the most free memory (auto) but its agent has not found its configuration propagated yet.
    let starts: unknown[] = [];
    for (let t = 0; t <= 12000; t += 1000) {
      const r = step(s, obs(t, t < 2000).map((o) => (o.server === "s1" && o.kind === "poll" ? { ...o, freeMemoryMb: 4096 } : o)), t);
      starts = starts.concat(r.actions.filter((a) => a.kind === "start"));
      s = r.state;
    }
    expect(starts).to.deep.equal([{ kind: "start", guest: "vm2", server: "s1" }]);
  });
});

describe("durable state with a storage fence in flight", () => {
  it("a restart drops the disk evidence (taken on another clock, maybe another machine) and re-writes the pill once the slots are read again", () => {
    const r = run({ until: 5000, s2Stops: 1000, silentFrom: 2000 });
    expect(r.s.servers.s2.state).to.equal("fencing");
    const back = restoreState(serializeState(r.s), 5100);
    expect(back.servers.s2.disk).to.equal(undefined);
    // No read yet: no pill, and no "impossible" either.
    const first = step(back, [up("s1"), miss("s2"), up("s3")], 5200);
    expect(first.actions.filter((a) => a.kind === "pill" || a.kind === "mark-server")).to.deep.equal([]);
    const next = step(first.state, [up("s1"), miss("s2"), up("s3"), slots({ s1: slot(6), s2: slot(1), s3: slot(6) })], 6000);
    expect(next.actions.filter((a) => a.kind === "pill")).to.deep.equal([{ kind: "pill", server: "s2", bootId: "boot-a", reason: "storage fence by the watchdog (attempt 2)" }]);
  });
});
