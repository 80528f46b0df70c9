// A fault the watchdog cannot see: the migration channel between two servers is cut while each of them still answers
// the watchdog (`lab partition T --from V`: only the traffic between V and T is dropped). xm's live migration from V
// to T goes over that channel (lab/hypervisor/migrate-out.ts: ssh from V's own address) and fails after xm's connect
// timeout; the guest stays on V. A drain must then move it live elsewhere, not retry T until the restart budget is
// spent and power it off (found in the simulator first: test/watchdog/scenarios/migration-channel-cut).
// What the world knows is asserted: run records (the guest never stopped, never ran on T), the lab's fence record,
// the migrations xm really ran on V, and `lab check`.
import { expect } from "chai";
import { ExactlyOnceWorld } from "./exactly-once-world";
import { shutdown as labShutdown } from "../../lab/lab";
import { waitFor } from "../support/wait-for";

const say = (s: string) => process.stdout.write(`      ${s}\n`);
// 1000 ms: under CI load a 500 ms heartbeat can miss once, and a suspect T would not be tried at all.
const INTERVAL = 1000;

describe(`migration channel cut between two servers (lab, heartbeat ${INTERVAL} ms x 3)`, function () {
  this.timeout(300000);
  const w = new ExactlyOnceWorld(INTERVAL);
  const caseStart = { t: 0 };

  before(async () => {
    await w.up();
  });

  after(async () => {
    await w.down();
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") {
      process.stderr.write(`--- core log of the case ---\n${w.log.filter((l) => l.t >= caseStart.t).map((l) => JSON.stringify(l)).join("\n")}\n--- watchdog log (tail) ---\n${w.tail()}\n`);
    }
  });

  it("a planned shutdown whose preferred target is cut from the source only: migrated live elsewhere, never stopped, nothing fenced", async () => {
    const V = "ovs4", T = "ovs2";
    const guests = ["mc-a", "mc-b"];
    await w.guestsOn(V, guests, { preferred: [T, "ovs1"] });
    await w.installDrainHook(V);
    await w.waitAllUp();
    caseStart.t = Date.now();
    const t0 = caseStart.t;
    await w.lab.partitionFrom(T, V);
    // The cut is between the two servers only: the watchdog still reaches T, which stays a target.
    const output = await labShutdown(w.lab.info, V, 180000);
    expect(output, `the drain hook was answered done: ${output}`).to.match(/drained: going ahead/);
    const drained = w.events("server-drained", { server: V }, t0);
    expect(drained, "drained once").to.have.length(1);

    // The fault did its work: xm on V tried T and failed (the command's own record, not the watchdog's belief).
    const toT = w.commands(V, new RegExp(`xm migrate -l mc-[ab] ${w.lab.info.servers.find((s) => s.name === T)!.address.replace(/\./g, "\\.")}`), t0);
    expect(toT.length, "a live migration toward the cut target was tried").to.be.at.least(1);
    expect(toT.every((d) => d.event === "command-failed"), `every migration toward ${T} failed: ${JSON.stringify(toT)}`).to.equal(true);
    expect(w.events("server-failed", { server: T }, t0), `${T} never failed to the watchdog`).to.have.length(0);

    for (const g of guests) {
      const where = await w.recordsFrom(g, { server: "ovs1" }, 20000);
      expect(where).to.equal("ovs1");
      expect(w.runningOn(g)).to.equal("ovs1");
      expect(w.pool.runlog(g).filter((r) => r.server === T && r.ms >= t0), `${g}: never ran on ${T}`).to.deep.equal([]);
      expect(w.events("guest-migrate", { guest: g }, t0).at(-1)?.reason, `${g}: the last attempt avoided ${T}, saying why`).to.match(new RegExp(`live to ovs1: .*not ${T}: a live migration there from ${V} did not happen`));
    }
    expect(guests.flatMap((g) => [...w.events("guest-stop", { guest: g }, t0), ...w.events("guest-start", { guest: g }, t0), ...w.events("guest-error", { guest: g }, t0)]), "no Power Off, no restart, no budget exhausted").to.deep.equal([]);
    expect(w.fenceCalls(t0), "nobody fenced").to.deep.equal([]);
    // What was sent: no xm shutdown or xm create anywhere, only live migrations.
    for (const s of w.lab.info.servers.map((x) => x.name)) expect(w.commands(s, /^xm (create|shutdown)/, t0), `no stop or start on ${s}`).to.deep.equal([]);
    const c = await w.lab.check({ guests, since: t0 });
    expect(c.ok, c.report).to.equal(true);
    say(`drain done ${drained[0].t - t0} ms after the shutdown began; ${toT.length} migrations toward ${T} failed (${toT.map((d) => `${d.ms} ms`).join(", ")})`);
    say(c.report.split("\n").slice(-guests.length).join("\n      "));
    await w.reset();
    await w.clearGuests(guests);
  });

  it("the channel cut mid-copy, after the target reserved the domain: the paused reservation is not taken for the guest; it runs once", async () => {
    const V = "ovs4", T = "ovs2";
    const g = "mc-copy";
    // 2048 MB: the lab copies memory at about 1 GB/s, so the copy lasts 2 s and the cut falls inside it.
    await w.guestsOn(V, [g], { preferred: [T, "ovs1"], memoryMb: 2048 });
    await w.installDrainHook(V);
    await w.waitAllUp();
    caseStart.t = Date.now();
    const t0 = caseStart.t;
    let cutAt: number | undefined;
    let watching = false;
    w.onLine = (l) => {
      if (l.event !== "guest-migrate" || l.guest !== g || watching) return;
      watching = true;
      // Cut as soon as T lists the incoming domain (xend's restore has begun: the source is copying memory).
      void (async () => {
        const until = Date.now() + 15000;
        while (Date.now() < until && !(await w.pool.listed(T))?.includes(g)) await new Promise((r) => setTimeout(r, 20));
        await w.lab.partitionFrom(T, V);
        cutAt = Date.now();
      })();
    };
    const output = await labShutdown(w.lab.info, V, 180000);
    expect(output, `the drain hook was answered done: ${output}`).to.match(/drained: going ahead/);
    expect(cutAt, "the channel was cut while T held the incoming domain").to.be.a("number");
    // The fault did its work: the migration toward T failed after the guest was suspended on V.
    const failed = w.commands(V, new RegExp(`^xm migrate -l ${g} `), t0).filter((d) => d.event === "command-failed");
    expect(failed.length, "the live migration toward T failed").to.be.at.least(1);
    // T drops the reservation when no `go` comes (30 s, as xend gives up the restore); then the guest is known to run
    // nowhere and is started once, off V.
    const where = await w.recordsFrom(g, { not: [V] }, 90000);
    await waitFor(`${g} running for the watchdog`, () => w.runningOn(g) === where, 20000);
    expect(w.events("guest-stopped", { guest: g }, t0), "never taken for stopped (a paused reservation that went away)").to.deep.equal([]);
    expect(w.fenceCalls(t0), "nobody fenced").to.deep.equal([]);
    const c = await w.lab.check({ guests: [g], since: t0 });
    expect(c.ok, c.report).to.equal(true);
    say(`cut ${cutAt! - t0} ms after the shutdown began; migration failed: ${String(failed[0].err ?? "").split("\n")[0]}`);
    say(c.report.split("\n").filter((l) => l.includes(g)).join(" | "));
    await w.reset();
    await w.clearGuests([g]);
  });
});
