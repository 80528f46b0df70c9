// The lab's IPMI and a fence that lies, with the real CLI and the real watchdog:
// - `ovm-ha lab power status` prints what ipmitool prints; `lab power off` too.
// - `lab fence-lies SERVER on`: off exits 0 and prints "Chassis Power Control: Down/Off", the server stays on.
// - The watchdog's fence runner catches the lie (status still on): a failure, never "fenced".
// - End to end: a partitioned server whose fence lies keeps its guests (they still run there, by their run
//   records): no restart elsewhere while the fence lies, loud fence failures retried; once the fence works,
//   the server is fenced and each guest starts elsewhere exactly once.
import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import pino from "pino";
import { promisify } from "util";
import { startTestLab, type TestLab } from "../support/lab";
import { LabPool, PROJECT_ROOT } from "../watchdog-e2e/lab-pool";
import { fenceFor, type WatchdogConfig } from "../../watchdog/daemon/config";
import { runFence } from "../../watchdog/daemon/fence-runner";
import { Watchdog } from "../../watchdog/daemon/watchdog";
import type { LogLine } from "../../watchdog/core/types";
import { waitFor } from "../support/wait-for";

const execFileAsync = promisify(execFile);
const CLI = path.join(PROJECT_ROOT, "dist", "cli", "main.js");

describe("lab fence: power status and a fence that lies", function () {
  this.timeout(240000);
  let lab: TestLab;
  let pool: LabPool;
  let stateDir: string;

  const cli = async (...args: string[]) => {
    try {
      const r = await execFileAsync(process.execPath, [CLI, "lab", ...args, "--dir", lab.dir], { timeout: 60000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      return { code: err.code ?? -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
    }
  };
  const answers = async (server: string) => (await lab.inServer(server, ["echo", "alive"]).catch(() => ({ stdout: "" }))).stdout.trim() === "alive";

  before(async () => {
    lab = await startTestLab({ servers: 3 });
    pool = new LabPool(lab);
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-fence-lab-"));
  });
  after(async () => {
    await lab?.down();
    if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
  });

  /** The lab's fence method as the watchdog config has it, with a shorter deadline for the lying cases. */
  const labFence = (timeoutMs: number) => ({ ...fenceFor(pool.config({ stateDir }), "ovs3")!, timeoutMs });

  it("power status prints ipmitool's line; power off and on too", async () => {
    expect(await cli("power", "status", "ovs3")).to.deep.equal({ code: 0, stdout: "Chassis Power is on\n", stderr: "" });
    expect((await cli("power", "off", "ovs3")).stdout).to.equal("Chassis Power Control: Down/Off\n");
    expect((await cli("power", "status", "ovs3")).stdout).to.equal("Chassis Power is off\n");
    expect(await answers("ovs3")).to.equal(false);
    expect((await cli("power", "on", "ovs3")).stdout).to.equal("Chassis Power Control: Up/On\n");
    expect((await cli("power", "status", "ovs3")).stdout).to.equal("Chassis Power is on\n");
    const bad = await cli("power", "reboot", "ovs3");
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.match(/power takes 'on', 'off' or 'status', got 'reboot'/);
  });

  it("fence-lies on: power off exits 0 and prints Down/Off, but the server stays on; status tells the truth", async () => {
    expect((await cli("fence-lies", "ovs3", "on")).code).to.equal(0);
    try {
      const off = await cli("power", "off", "ovs3");
      expect(off).to.deep.equal({ code: 0, stdout: "Chassis Power Control: Down/Off\n", stderr: "" });
      expect(await answers("ovs3"), "ovs3 still runs").to.equal(true);
      expect((await cli("power", "status", "ovs3")).stdout).to.equal("Chassis Power is on\n");
    } finally {
      await cli("fence-lies", "ovs3", "off");
    }
  });

  it("the watchdog's fence runner catches the lie: failed, not confirmed; with the lie off: confirmed off", async () => {
    await cli("fence-lies", "ovs3", "on");
    const s = { name: "ovs3", address: lab.info.servers[2].address };
    const lied = await runFence(labFence(5000), s, 15000);
    expect(lied.outcome).to.equal("failed");
    expect(lied.detail).to.match(/not confirmed: .*power-cli\.js off ovs3 .*exited 0 but the server is still on .*Chassis Power is on.*may be lying/);
    expect(await answers("ovs3")).to.equal(true);
    await cli("fence-lies", "ovs3", "off");
    const real = await runFence(labFence(15000), s, 15000);
    expect(real.outcome, real.detail).to.equal("off");
    expect(real.detail).to.match(/confirmed by status: Chassis Power is off/);
    expect(await answers("ovs3")).to.equal(false);
    process.stdout.write(`      lab fence off + confirmed by status: ${real.ms} ms\n`);
    await cli("power", "on", "ovs3");
  });

  describe("end to end: the watchdog with a fence that lies, or whose status query hangs", () => {
    let wd: Watchdog;
    const log: LogLine[] = [];
    const events = (event: string, who: { guest?: string; server?: string } = {}, since = 0) =>
      log.filter((l) => l.event === event && l.t >= since && (who.guest === undefined || l.guest === who.guest) && (who.server === undefined || l.server === who.server));
    const runningOn = (g: string) => {
      const st = wd.state?.guests[g]?.status;
      return st?.state === "running" ? st.server : undefined;
    };

    before(async () => {
      pool.writePool();
      const config: WatchdogConfig = pool.config({ stateDir });
      // A lying attempt lasts until the fence's deadline: keep it short (the core's own deadline is 15 s).
      config.fence["*"] = { ...config.fence["*"], timeoutMs: 6000 };
      const logger = pino({ level: "info" }, pino.destination({ dest: path.join(stateDir, "watchdog.log"), sync: true }));
      wd = new Watchdog({ config, logger, onLog: (l) => log.push(l), processMetrics: false });
      await wd.start();
      await waitFor("every server up", () => ["ovs1", "ovs2", "ovs3"].every((s) => wd.state?.servers[s]?.state === "up"), 30000);
    });
    after(async function () {
      if (this.currentTest?.state === "failed" || process.env.OVM_HA_E2E_LOG) process.stderr.write(log.map((l) => JSON.stringify(l)).join("\n") + "\n");
      await wd?.stop();
      await cli("fence-lies", "ovs3", "off");
      await cli("fence-status-hang", "ovs2", "off");
    });

    it("no restart elsewhere while the fence lies (loud failures, retried); exactly one once it works", async () => {
      const guests = ["lie-a", "lie-b"];
      for (const g of guests) pool.addGuest(g);
      for (const g of guests) await pool.startGuest(g, "ovs3");
      await waitFor("guests running on ovs3 for the watchdog", () => guests.every((g) => runningOn(g) === "ovs3"), 30000);
      await cli("fence-lies", "ovs3", "on");
      const t0 = Date.now();
      await lab.fault("partition", "ovs3");

      // Two fence attempts fail as lies, loudly; meanwhile the guests start nowhere and still run on ovs3.
      await waitFor("two failed fence attempts", () => events("fence-failed", { server: "ovs3" }, t0).length >= 2, 90000);
      const failures = events("fence-failed", { server: "ovs3" }, t0);
      for (const f of failures) {
        expect(f.loud, "a fence failure is loud").to.equal(true);
        expect(f.reason).to.match(/not confirmed: .*still on.*may be lying/);
      }
      expect(events("server-fenced", { server: "ovs3" }, t0), "never fenced while the fence lies").to.have.length(0);
      for (const g of guests) {
        expect(events("guest-start", { guest: g }, t0), `${g} not started elsewhere while its server may run it`).to.have.length(0);
        const rec = pool.lastRecord(g)!;
        expect(rec.server, `${g} still runs on ovs3 (its run record)`).to.equal("ovs3");
        expect(Date.now() - rec.ms, `${g}'s run record is fresh`).to.be.below(5000);
        expect(pool.runlog(g).filter((r) => r.ms >= t0).every((r) => r.server === "ovs3"), `${g} ran nowhere else`).to.equal(true);
      }
      const metrics = await wd.metrics.registry.metrics();
      expect(metrics).to.match(/^ovmha_fence_results_total\{result="unconfirmed"\} [2-9]/m);

      // The fence works again: the next retry powers ovs3 off for real, confirmed, and each guest starts once.
      const tFix = Date.now();
      await cli("fence-lies", "ovs3", "off");
      await waitFor("guests running elsewhere", () => guests.every((g) => runningOn(g) !== undefined && runningOn(g) !== "ovs3"), 60000);
      const fenced = events("server-fenced", { server: "ovs3" }, t0);
      expect(fenced).to.have.length(1);
      expect(fenced[0].t).to.be.at.least(tFix);
      expect(fenced[0].reason).to.match(/confirmed by status: Chassis Power is off/);
      expect((await cli("power", "status", "ovs3")).stdout).to.equal("Chassis Power is off\n");
      for (const g of guests) {
        const starts = events("guest-start", { guest: g }, t0);
        expect(starts, `${g} started exactly once`).to.have.length(1);
        expect(starts[0].t).to.be.at.least(fenced[0].t);
        const rec = await waitFor(`${g} records from its new server`, () => {
          const r = pool.lastRecord(g);
          return r && r.server === runningOn(g) && Date.now() - r.ms < 2000 ? r : undefined;
        }, 10000);
        // No overlap: every record from ovs3 is older than the first record from the new server.
        const firstNew = pool.runlog(g).filter((r) => r.server === rec.server && r.ms >= t0).map((r) => r.ms).sort((a, b) => a - b)[0];
        const lastOld = pool.runlog(g).filter((r) => r.server === "ovs3").map((r) => r.ms).sort((a, b) => b - a)[0];
        expect(lastOld, `${g}: ovs3's last record before the new server's first`).to.be.below(firstNew);
      }
      const c = await lab.check();
      expect(c.ok, c.report).to.equal(true);
      process.stdout.write(`      lying fence: ${failures.length} failed attempts; fixed -> fenced ${fenced[0].t - tFix} ms\n`);
    });

    it("a fence whose status query hangs: each attempt ends at its deadline (its process killed), nothing starts unconfirmed; once status answers, each guest once", async () => {
      // ovs3, fenced by the case before, back: its partition healed, powered on.
      await lab.fault("heal", "ovs3");
      await lab.fault("power-on", "ovs3");
      await waitFor("ovs3 up again for the watchdog", () => wd.state?.servers.ovs3?.state === "up", 60000);
      const V = "ovs2";
      const address = lab.info.servers.find((s) => s.name === V)!.address;
      const guests = ["hang-a", "hang-b"];
      for (const g of guests) pool.addGuest(g);
      for (const g of guests) await pool.startGuest(g, V);
      await waitFor(`guests running on ${V} for the watchdog`, () => guests.every((g) => runningOn(g) === V), 30000);
      // The status queries of the fence for V still running (the lab's power tool, by its arguments).
      const hungQueries = () =>
        fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
          try {
            const argv = fs.readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
            return argv.some((a) => a.endsWith("power-cli.js")) && argv.includes("status") && (argv.includes(V) || argv.includes(address));
          } catch {
            return false;
          }
        });
      await cli("fence-status-hang", V, "on");
      const t0 = Date.now();
      await lab.fault("partition", V);
      await waitFor("two fence attempts timed out", () => events("fence-failed", { server: V }, t0).length >= 2, 90000);
      const failures = events("fence-failed", { server: V }, t0);
      for (const f of failures) {
        expect(f.loud, "a fence failure is loud").to.equal(true);
        expect(f.reason).to.match(/timed out/);
      }
      expect(hungQueries().length, "the first attempt's hung status query was ended at its deadline").to.be.at.most(1);
      expect(events("server-fenced", { server: V }, t0), "never fenced while status does not answer").to.have.length(0);
      for (const g of guests) expect(events("guest-start", { guest: g }, t0), `${g} not started while ${V} is not confirmed off`).to.have.length(0);

      const tFix = Date.now();
      await cli("fence-status-hang", V, "off");
      await waitFor("guests running elsewhere", () => guests.every((g) => runningOn(g) !== undefined && runningOn(g) !== V), 60000);
      const fenced = events("server-fenced", { server: V }, t0);
      expect(fenced).to.have.length(1);
      expect(fenced[0].reason).to.match(/confirmed by status: Chassis Power is off/);
      for (const g of guests) {
        const starts = events("guest-start", { guest: g }, t0);
        expect(starts, `${g} started exactly once`).to.have.length(1);
        expect(starts[0].t).to.be.at.least(fenced[0].t);
      }
      await waitFor("no status query left running", () => hungQueries().length === 0, 5000);
      const c = await lab.check({ guests, since: t0 });
      expect(c.ok, c.report).to.equal(true);
      process.stdout.write(`      hung status query: ${failures.length} timed-out attempts; answering again -> fenced ${fenced[0].t - tFix} ms\n`);
      await cli("fence-status-hang", V, "off");
    });
  });
});
