// `ovm-ha agent` on the lab with no power fence at all: the disk heartbeat, the poison pill, storage loss (fail and
// hang), a hung dom0, and a clean stop. Asserted on what the world shows: the lab's own record of each hardware
// watchdog reset (hw-watchdog.resets, written by the timer on the host), the guests' run records and processes,
// the slots and pills on the shared storage. One lab for all cases; each fault on a server of its own where it can.
import { expect } from "chai";
import * as fs from "fs";
import { pillFile, Slot } from "../../ha/disk-heartbeat";
import { hang } from "../../lab/lab";
import { storageLoss, storageRestore } from "../../lab/storage-loss";
import { LabPool } from "../watchdog-e2e/lab-pool";
import { LabAgents, startAgents, writePill } from "../support/agents";
import { startTestLab, TestLab } from "../support/lab";
import { sleep, waitFor } from "../support/wait-for";
import { alive } from "../../lab/hw-watchdog-control";

const TIMING = { intervalMs: 1000, leaseMs: 3000, deviceTimeoutMs: 4000 };
// A generous bound for "reset within lease + device timeout" on a loaded 2-core machine (boots are not in it).
const HANG_BOUND_MS = 3 * (TIMING.leaseMs + TIMING.deviceTimeoutMs);


describe("lab: ovm-ha agent (self-fencing through the hardware watchdog)", function () {
  this.timeout(120000);
  let lab: TestLab;
  let pool: LabPool;
  let agents: LabAgents;

  before(async () => {
    lab = await startTestLab({ servers: 3 });
    pool = new LabPool(lab);
    pool.writePool({ fence: { ovs1: { method: "storage" }, ovs2: { method: "storage" }, ovs3: { method: "storage" } }, timing: { agent: TIMING } });
    agents = await startAgents(lab, { clusterRoot: pool.root, deviceTimeoutMs: TIMING.deviceTimeoutMs });
  });
  after(async () => {
    if (agents) await agents.stopAll();
    if (lab) await lab.down();
  });

  /** A guest running on `server`, with its first run record (its pid). */
  async function guestOn(name: string, server: string): Promise<{ pid: number }> {
    pool.addGuest(name);
    await pool.startGuest(name, server);
    return waitFor(`${name}'s first run record on ${server}`, () => pool.runlog(name).find((r) => r.server === server), 10000, 50);
  }

  /** Waits for the server's next hardware-watchdog reset after `since`, booted again. */
  async function nextReset(server: string, since: number) {
    return waitFor(`a hardware watchdog reset of ${server} after ${new Date(since).toISOString()} (resets: ${JSON.stringify(agents.resets(server))}; agent log: ${agents.log(server).split("\n").slice(-4).join(" | ")})`,
      () => agents.resets(server).find((r) => r.at >= since && r.bootedAt !== undefined), HANG_BOUND_MS + 30000, 50);
  }

  it("healthy: every agent renews its slot, feeds its device, and nothing resets over several intervals", async () => {
    const before = new Map(agents.servers.map((s) => [s, agents.slot(s)!]));
    for (const s of agents.servers) expect(agents.watchdog(s), s).to.include({ running: true, armed: true, open: true, timeoutMs: TIMING.deviceTimeoutMs });
    const fedBefore = new Map(agents.servers.map((s) => [s, agents.watchdog(s).lastKeepaliveAt!]));
    const after = await Promise.all(agents.servers.map((s) => agents.waitSlot(s, (x) => x.seq >= before.get(s)!.seq + 3, "three renewals later", 15000)));
    agents.servers.forEach((s, i) => {
      expect(after[i].bootId, s).to.equal(before.get(s)!.bootId);
      expect(after[i].state, s).to.equal("ready");
      expect(agents.watchdog(s).lastKeepaliveAt!, `${s} fed since`).to.be.greaterThan(fedBefore.get(s)!);
      expect(agents.resets(s), `${s} resets`).to.deep.equal([]);
    });
  });

  it("a poison pill aimed at this boot: guests destroyed, server reset; after the boot the pill is gone and the slot is ready", async () => {
    const g = await guestOn("pill-g", "ovs1");
    const old: Slot = agents.slot("ovs1")!;
    const written = Date.now();
    writePill(pool.root, "ovs1", old.bootId, "test: fence ovs1");
    const reset = await nextReset("ovs1", written);
    const last = pool.lastRecord("pill-g")!;
    console.log(`      pill -> reset ${reset.at - written} ms (last feed ${reset.lastKeepaliveAt - written} ms after the pill); guest's last record ${last.ms - written} ms after it; booted ${reset.bootedAt! - written} ms`);
    // The agent destroyed the guest before the device fired (not the reset): its records stop before it.
    expect(last.ms, "the guest's last run record").to.be.lessThan(reset.at);
    expect(alive(g.pid), "the guest's process").to.equal(false);
    expect(reset.at - written, "pill to reset").to.be.at.most(HANG_BOUND_MS);
    const now = await agents.waitSlot("ovs1", (x) => x.bootId !== old.bootId && x.state === "ready", "ready in the new boot");
    expect(now.seq).to.be.greaterThan(0);
    expect(fs.existsSync(pillFile(pool.root, "ovs1")), "the old pill removed at start").to.equal(false);
    expect(await pool.listed("ovs1")).to.deep.equal([]);
  });

  for (const mode of ["fail", "hang"] as const) {
    const server = mode === "fail" ? "ovs2" : "ovs3";
    it(`storage loss (${mode}) on ${server}: it fences itself within lease + device timeout; its guest ends`, async () => {
      const g = await guestOn(`storage-${mode}-g`, server);
      const old = agents.slot(server)!;
      const lost = Date.now();
      await storageLoss(lab.info, server, mode);
      // The passthrough took over somewhere between the call and its return (a FUSE mount takes a moment).
      const lostBy = Date.now();
      const reset = await nextReset(server, lost);
      console.log(`      storage loss (${mode}, in place ${lostBy - lost} ms after the call) -> reset ${reset.at - lostBy} ms after it was in place (last feed ${reset.lastKeepaliveAt - lostBy} ms after); booted ${reset.bootedAt! - lostBy} ms`);
      expect(reset.at - lost, "storage loss to reset").to.be.at.most(HANG_BOUND_MS);
      // Its last feed came within the lease of the loss (plus the timer's own lag): the agent stopped feeding.
      expect(reset.lastKeepaliveAt - lostBy, "last feed after the loss").to.be.at.most(TIMING.leaseMs + 1000);
      expect(alive(g.pid), "the guest's process after the reset").to.equal(false);
      // No record of the guest from this server after the reset began (the checker's view of "it ran").
      expect(pool.runlog(`storage-${mode}-g`).filter((r) => r.server === server && r.ms > reset.at)).to.deep.equal([]);
      // The boot remounted the storage: the agent is back and ready in a new boot.
      await agents.waitSlot(server, (x) => x.bootId !== old.bootId && x.state === "ready", "ready after the reset");
      await storageRestore(lab.info, server); // nothing left to restore after a reset; must not fail
    });
  }

  it("dom0 hang (ovs1) and whole-machine hang (ovs3): the agents are frozen, the hardware watchdogs reset both; dom0's guest ran until then", async () => {
    const g = await guestOn("hang-g", "ovs1");
    const gm = await guestOn("hang-machine-g", "ovs3");
    const old = [agents.slot("ovs1")!, agents.slot("ovs3")!];
    const hungAt = Date.now();
    await Promise.all([hang(lab.info, "ovs1", "dom0"), hang(lab.info, "ovs3", "machine")]);
    const [reset, resetMachine] = await Promise.all([nextReset("ovs1", hungAt), nextReset("ovs3", hungAt)]);
    console.log(`      dom0 hang -> reset ${reset.at - hungAt} ms, booted ${reset.bootedAt! - hungAt} ms; machine hang -> reset ${resetMachine.at - hungAt} ms`);
    for (const r of [reset, resetMachine]) expect(r.at - hungAt, `${r.server}: hang to reset`).to.be.at.most(TIMING.deviceTimeoutMs + 5000);
    const records = pool.runlog("hang-g").filter((r) => r.server === "ovs1");
    expect(records.some((r) => r.ms > hungAt + 500), "the guest ran on while dom0 was hung").to.equal(true);
    expect(records.filter((r) => r.ms > reset.killedAt!), "records after the reset").to.deep.equal([]);
    expect(alive(g.pid)).to.equal(false);
    // The machine hang froze its guest too; the reset ended it.
    expect(pool.runlog("hang-machine-g").filter((r) => r.server === "ovs3" && r.ms > resetMachine.killedAt!)).to.deep.equal([]);
    expect(alive(gm.pid)).to.equal(false);
    await agents.waitSlot("ovs1", (x) => x.bootId !== old[0].bootId && x.state === "ready", "ready after the reset");
    await agents.waitSlot("ovs3", (x) => x.bootId !== old[1].bootId && x.state === "ready", "ready after the reset");
  });

  it("a stop while self-fencing fails, quoting the self-fence (not a 15 s wait); the device stays armed and resets the server", async () => {
    const old: Slot = agents.slot("ovs1")!;
    const logBefore = agents.log("ovs1").length;
    const written = Date.now();
    writePill(pool.root, "ovs1", old.bootId, "test: fence ovs1, then stop it");
    await waitFor("ovs1's agent self-fencing", () => agents.log("ovs1").slice(logBefore).includes("SELF-FENCING"), HANG_BOUND_MS, 20);
    const t = Date.now();
    const stop = await lab.inServer("ovs1", ["/etc/rc.d/init.d/ovm-ha-agent", "stop"]);
    const took = Date.now() - t;
    console.log(`      stop while self-fencing: exit ${stop.code} in ${took} ms: ${stop.stdout.trim().split("\n").join(" | ")}`);
    expect(stop.code, stop.stdout + stop.stderr).to.equal(1);
    expect(stop.stdout).to.include("NOT cleanly").and.include("test: fence ovs1, then stop it");
    expect(took, "the stop did not wait for its 15 s bound").to.be.below(10000);
    // The timer stamps a feed when it reads it from the device, a scheduling delay after the agent wrote it: under
    // load a feed written before the self-fence was stamped 3 ms after the test saw SELF-FENCING (CI). Let feeds in
    // flight arrive, then none may come until the reset (the agent feeds every second; the reset is 4 s after).
    await sleep(300);
    const settled = agents.watchdog("ovs1").lastKeepaliveAt;
    expect(settled, "the device was fed before the pill").to.be.a("number");
    expect(settled!, "the last feed came before the self-fence, not a period after it").to.be.below(t + 300);
    const reset = await nextReset("ovs1", written);
    expect(reset.lastKeepaliveAt, "no feed after the self-fence").to.equal(settled);
    await agents.waitSlot("ovs1", (x) => x.bootId !== old.bootId && x.state === "ready", "ready after the reset");
  });

  it("a clean stop writes `stopped` and disarms the device: no reset", async () => {
    const resetsBefore = agents.resets("ovs2").length;
    await agents.stop("ovs2");
    const slot = agents.slot("ovs2")!;
    expect(slot.state).to.equal("stopped");
    // The timer takes the 'V' and the close from the device a moment after the agent has gone.
    await waitFor("ovs2's watchdog disarmed", () => !agents.watchdog("ovs2").armed && !agents.watchdog("ovs2").open, 5000, 20);
    await sleep(TIMING.deviceTimeoutMs + 1500);
    expect(agents.resets("ovs2").length, "resets after the stop").to.equal(resetsBefore);
    expect(agents.slot("ovs2")!.seq, "no write after stopped").to.equal(slot.seq);
    await agents.start("ovs2");
    await agents.waitSlot("ovs2", (x) => x.state === "ready" && x.seq > slot.seq, "ready again after start");
  });

  it("a planned shutdown (lab shutdown) stops the agent through its K02 link: slot stopped, no reset; a power on starts it again", async () => {
    const before = agents.slot("ovs3")!;
    const resets = agents.resets("ovs3").length;
    await lab.fault("shutdown", "ovs3");
    const slot = agents.slot("ovs3")!;
    expect([slot.bootId, slot.state]).to.deep.equal([before.bootId, "stopped"]);
    expect(agents.log("ovs3")).to.match(/stopped: slot says stopped, watchdog device disarmed \(magic close\)/);
    await lab.fault("power-on", "ovs3");
    const again = await agents.waitSlot("ovs3", (x) => x.bootId !== before.bootId && x.state === "ready", "ready after the power on");
    expect(again.seq).to.be.greaterThan(0);
    expect(agents.resets("ovs3").length, "resets").to.equal(resets);
  });
});
