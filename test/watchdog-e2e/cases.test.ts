// Issue 8 cases whose faults the lab can already produce, end to end, at heartbeat 1000 ms and 500 ms (x 3):
// a crash, a partition (fenced, its guests still ran until then), and a watchdog killed right after issuing
// `xm create` (the restarted one settles the start by asking, within about a heartbeat, and starts nothing twice).
// Each case ends with the lab's split-brain check AND an explicit list of guests that must have run records in
// the case's window, so the check cannot pass on nothing.
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import pino from "pino";
import { startTestLab, type TestLab } from "../support/lab";
import { LabPool } from "./lab-pool";
import { Watchdog } from "../../watchdog/daemon/watchdog";
import type { LogLine } from "../../watchdog/core/types";
import type { WatchdogConfig } from "../../watchdog/daemon/config";
import { waitFor } from "../support/wait-for";

for (const INTERVAL of [1000, 500]) {
  describe(`watchdog issue-8 cases on the lab, heartbeat ${INTERVAL} ms x 3`, function () {
    this.timeout(240000);
    let lab: TestLab;
    let pool: LabPool;
    let wd: Watchdog;
    let config: WatchdogConfig;
    let stateDir: string;
    const log: LogLine[] = [];
    /** Called on every log line of the current watchdog (a test may act at an exact moment of the failover). */
    let onLine: (l: LogLine) => void = () => {};

    const runningOn = (g: string) => {
      const st = wd.state?.guests[g]?.status;
      return st?.state === "running" ? st.server : undefined;
    };
    const events = (event: string, who: { guest?: string; server?: string } = {}, since = 0) =>
      log.filter((l) => l.event === event && l.t >= since && (who.guest === undefined || l.guest === who.guest) && (who.server === undefined || l.server === who.server));

    function newWatchdog(): Watchdog {
      const logger = pino({ level: "info" }, pino.destination({ dest: path.join(stateDir, "watchdog.log"), sync: true }));
      return new Watchdog({ config, logger, onLog: (l) => { log.push(l); onLine(l); }, processMetrics: false });
    }

    /** The split-brain check, plus: every guest listed has run records in the window, on the server expected. */
    async function check(since: number, ran: Record<string, string | undefined>): Promise<void> {
      const c = await lab.check();
      expect(c.ok, c.report).to.equal(true);
      for (const [g, server] of Object.entries(ran)) {
        const recs = pool.runlog(g).filter((r) => r.ms >= since);
        expect(recs.length, `${g} has run records since the fault`).to.be.greaterThan(0);
        if (server) expect(recs.at(-1)!.server, `${g} last ran on`).to.equal(server);
      }
    }

    async function guestsOn(server: string, names: string[]): Promise<void> {
      for (const g of names) {
        pool.addGuest(g);
        await pool.startGuest(g, server);
      }
      await waitFor(`${names.join(",")} running on ${server}`, () => names.every((g) => runningOn(g) === server), 15000);
    }

    async function backUp(server: string): Promise<void> {
      await lab.fault("heal", server).catch(() => undefined);
      await lab.fault("power-on", server);
      await waitFor(`${server} up again`, () => wd.state?.servers[server]?.state === "up", 30000);
    }

    before(async () => {
      lab = await startTestLab({ servers: 3 });
      pool = new LabPool(lab);
      pool.writePool({ timing: { heartbeatIntervalMs: INTERVAL, heartbeatMisses: 3 } });
      stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-cases-"));
      config = pool.config({ stateDir, fence: true, addresses: [lab.info.servers[0].address] });
      wd = newWatchdog();
      await wd.start();
      await waitFor("every server up", () => ["ovs1", "ovs2", "ovs3"].every((s) => wd.state?.servers[s]?.lastOkAt !== undefined), 15000);
    });

    after(async function () {
      if (this.currentTest?.state === "failed" || process.env.OVM_HA_E2E_LOG) process.stderr.write(log.map((l) => JSON.stringify(l)).join("\n") + "\n");
      await wd?.stop();
      await lab?.down();
      if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
    });

    for (const fault of ["crash", "partition"] as const) {
      it(`${fault} of a server: fenced, then each guest started once elsewhere; never two copies`, async () => {
        const guests = [`${fault}${INTERVAL}-a`, `${fault}${INTERVAL}-b`];
        await guestsOn("ovs2", guests);
        const t0 = Date.now();
        await lab.fault(fault, "ovs2");
        await waitFor("guests running elsewhere", () => guests.every((g) => runningOn(g) !== undefined && runningOn(g) !== "ovs2"), 30000);
        const fencedAt = events("server-fenced", { server: "ovs2" }, t0)[0]?.t;
        expect(fencedAt, "fenced").to.be.a("number");
        for (const g of guests) {
          const starts = events("guest-start", { guest: g }, t0);
          expect(starts, `${g} started exactly once`).to.have.length(1);
          expect(starts[0].t, `${g} started only after the fence`).to.be.at.least(fencedAt);
        }
        await waitFor("run records from the new servers", () => guests.every((g) => pool.lastRecord(g)?.server === runningOn(g)), 5000);
        await check(t0, Object.fromEntries(guests.map((g) => [g, runningOn(g)])));
        await backUp("ovs2");
      });
    }

    it("watchdog killed right after issuing xm create: the restart settles the start by asking, starts nothing twice", async () => {
      const guests = [`restart${INTERVAL}-a`];
      await guestsOn("ovs1", guests);
      const t0 = Date.now();
      let issued!: () => void;
      const startIssued = new Promise<void>((r) => (issued = r));
      onLine = (l) => {
        if (l.event === "guest-start" && l.t >= t0) issued();
      };
      await lab.fault("crash", "ovs1");
      await startIssued;
      onLine = () => {};
      // Stop right away: the state saved before the command was sent says "starting"; its answer dies with us.
      await wd.stop();
      const resumedAt = Date.now();
      wd = newWatchdog();
      await wd.start();
      await waitFor("guest running after the restart", () => guests.every((g) => runningOn(g) !== undefined && runningOn(g) !== "ovs1"), 30000);
      expect(events("watchdog-resumed", {}, t0)).to.have.length(1);
      for (const g of guests) {
        expect(events("guest-start", { guest: g }, t0), `${g} started once`).to.have.length(1);
        const settled = events("guest-running", { guest: g }, resumedAt)[0];
        // Settled by the first listing after the restart, not by waiting out a timeout.
        expect(settled.t - resumedAt, `${g} settled within a few heartbeats of the restart`).to.be.below(5 * INTERVAL + 3000);
      }
      await check(t0, Object.fromEntries(guests.map((g) => [g, runningOn(g)])));
      await backUp("ovs1");
    });
  });
}
