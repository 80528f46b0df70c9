// The real watchdog on a 3-server lab: crash, hang and partition of a server (power fence: guests restarted
// elsewhere within seconds of the detection bound, never twice), crash of the pool master, planned shutdown
// through the installed hook (guests migrate live, never stop), `ovm-ha drain`, and a server with no fence
// method (guests stay put, status says why). `lab check` after every case.
import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import pino from "pino";
import { promisify } from "util";
import { startTestLab, type TestLab } from "../support/lab";
import { LabPool, PROJECT_ROOT } from "./lab-pool";
import { Watchdog } from "../../watchdog/daemon/watchdog";
import type { LogLine } from "../../watchdog/core/types";
import { drainHookScript } from "../../watchdog/agent/drain-hook";
import { readStatusFile } from "../../watchdog/daemon/state-file";
import { statusFilePath, type WatchdogConfig } from "../../watchdog/daemon/config";
import { renderStatus } from "../../watchdog/status";
import { sleep, waitFor } from "../support/wait-for";

const execFileAsync = promisify(execFile);
const INTERVAL = 1000;
const MISSES = 3;
const BOUND = INTERVAL * MISSES;


describe("watchdog end to end on the lab", function () {
  this.timeout(240000);
  let lab: TestLab;
  let pool: LabPool;
  let wd: Watchdog;
  let config: WatchdogConfig;
  let configFile: string;
  let stateDir: string;
  const log: LogLine[] = [];

  const guestState = (g: string) => wd.state?.guests[g]?.status;
  const serverState = (s: string) => wd.state?.servers[s]?.state;
  const runningOn = (g: string) => {
    const st = guestState(g);
    return st?.state === "running" ? st.server : undefined;
  };
  const events = (event: string, who: { guest?: string; server?: string } = {}, since = 0) =>
    log.filter((l) => l.event === event && l.t >= since && (who.guest === undefined || l.guest === who.guest) && (who.server === undefined || l.server === who.server));

  async function expectCheckOk(): Promise<void> {
    const c = await lab.check();
    expect(c.ok, c.report).to.equal(true);
  }

  async function guestsOn(server: string, names: string[]): Promise<void> {
    for (const g of names) await pool.startGuest(g, server);
    await waitFor(`${names.join(",")} running on ${server} for the watchdog`, () => names.every((g) => runningOn(g) === server), 15000);
  }

  async function powerOnAndWaitUp(server: string): Promise<void> {
    await lab.fault("heal", server).catch(() => undefined);
    await lab.fault("power-on", server);
    await waitFor(`${server} up again`, () => serverState(server) === "up", 30000);
  }

  /** Crash-like fault with a power fence: guests restarted elsewhere, once, within seconds of the bound. */
  async function failoverCase(fault: "crash" | "crash-silent" | "hang" | "partition", server: string, guests: string[]): Promise<void> {
    for (const g of guests) pool.addGuest(g);
    await guestsOn(server, guests);
    const t0 = Date.now();
    await lab.fault(fault, server);
    await waitFor(`${guests.join(",")} running elsewhere`, () => guests.every((g) => runningOn(g) !== undefined && runningOn(g) !== server), 30000);
    const failed = events("server-failed", { server }, t0);
    expect(failed, "server-failed logged once").to.have.length(1);
    const detection = failed[0].t - t0;
    expect(detection, "detection within the bound plus one round").to.be.at.most(BOUND + INTERVAL + 500);
    expect(events("server-fenced", { server }, t0), "fenced before any restart").to.have.length(1);
    const fencedAt = events("server-fenced", { server }, t0)[0].t;
    for (const g of guests) {
      const starts = events("guest-start", { guest: g }, t0);
      expect(starts, `${g} started exactly once`).to.have.length(1);
      expect(starts[0].t, `${g} started only after the fence`).to.be.at.least(fencedAt);
      const running = events("guest-running", { guest: g }, t0);
      expect(running.at(-1)!.t - t0, `${g} running elsewhere within a few seconds of the bound`).to.be.at.most(BOUND + 8000);
      // The guest process really runs there: its latest run record comes from the new server, recently.
      const rec = await waitFor(`${g} records from its new server`, () => {
        const r = pool.lastRecord(g);
        return r && r.server === runningOn(g) && Date.now() - r.ms < 2000 ? r : undefined;
      }, 5000);
      expect(rec.server).to.not.equal(server);
    }
    await expectCheckOk();
    await powerOnAndWaitUp(server);
  }

  before(async () => {
    lab = await startTestLab({ servers: 3 });
    pool = new LabPool(lab);
    // ovs3 gets no fence method (the record says none, the config has no command for it).
    pool.writePool({ fence: { ovs3: { method: "none" } } });
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-wd-"));
    config = pool.config({ stateDir, fence: ["ovs1", "ovs2"], addresses: [lab.info.servers[0].address], metricsPort: 0 });
    configFile = path.join(stateDir, "config.json");
    fs.writeFileSync(configFile, JSON.stringify({ ...config, metrics: undefined }));
    const logger = pino({ level: "info" }, pino.destination({ dest: path.join(stateDir, "watchdog.log"), sync: true }));
    wd = new Watchdog({ config, logger, onLog: (l) => log.push(l), processMetrics: false });
    await wd.start();
    await waitFor("every server up", () => ["ovs1", "ovs2", "ovs3"].every((s) => wd.state?.servers[s]?.lastOkAt !== undefined), 15000);
  });

  after(async function () {
    if (this.currentTest?.state === "failed" || process.env.OVM_HA_E2E_LOG) {
      process.stderr.write(log.map((l) => JSON.stringify(l)).join("\n") + "\n");
    }
    await wd?.stop();
    await lab?.down();
    if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") {
      process.stderr.write(`--- watchdog log ---\n${fs.readFileSync(path.join(stateDir, "watchdog.log"), "utf8").split("\n").slice(-80).join("\n")}\n`);
    }
  });

  it("crash of a server: fenced, its guests restarted elsewhere once", async () => {
    const metricsText = async () => (await fetch(`http://127.0.0.1:${wd.metricsPort}/metrics`)).text();
    const count = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    const before = await metricsText();
    await failoverCase("crash", "ovs2", ["crash-a", "crash-b"]);
    const after = await metricsText();
    expect(count(after, /^ovmha_failovers_total (\d+)/m) - count(before, /^ovmha_failovers_total (\d+)/m), "failovers counted").to.equal(2);
    expect(count(after, /^ovmha_fence_results_total\{result="off"\} (\d+)/m) - count(before, /^ovmha_fence_results_total\{result="off"\} (\d+)/m), "fences counted").to.equal(1);
  });

  it("silent crash of a server (no connection reset, as a dead machine): fenced, its guests restarted elsewhere once", async () => {
    const t0 = Date.now();
    await failoverCase("crash-silent", "ovs2", ["silent-a", "silent-b"]);
    // Silence, not a reset, is what the watchdog saw: its misses were deadlines, never a refused or reset connection.
    const misses = fs.readFileSync(path.join(stateDir, "watchdog.log"), "utf8").split("\n").filter((l) => l.includes('"heartbeat-missed"') && l.includes('"server":"ovs2"') && JSON.parse(l).time >= t0);
    expect(misses.length, "heartbeats of ovs2 missed").to.be.at.least(1);
    for (const m of misses) expect(JSON.parse(m).err as string, "a silent crash resets nothing").to.not.match(/ECONNRESET|ECONNREFUSED/);
  });

  it("hang of a server: fenced, its guests restarted elsewhere once", async () => {
    await failoverCase("hang", "ovs2", ["hang-a", "hang-b"]);
  });

  it("partition of a server: fenced (its guests still ran), restarted elsewhere once", async () => {
    await failoverCase("partition", "ovs2", ["part-a", "part-b"]);
  });

  it("crash of the pool master: the watchdog keeps working and keeps reading the record", async () => {
    // The watchdog was given only the master's address; it reads the record from any answering server.
    await failoverCase("crash", "ovs1", ["master-a"]);
    const before = wd.state!.pool.generation;
    await lab.fault("crash", "ovs1");
    const t0 = Date.now();
    pool.writePool({ fence: { ovs3: { method: "none" } } });
    await waitFor("new generation read without the master", () => wd.state!.pool.generation > before, 10000);
    expect(events("config-updated", {}, t0).length).to.be.at.least(1);
    await powerOnAndWaitUp("ovs1");
    await expectCheckOk();
  });

  it("planned shutdown: the installed hook drains the server; guests migrate live and never stop", async () => {
    const guests = ["plan-a", "plan-b"];
    for (const g of guests) pool.addGuest(g);
    await guestsOn("ovs3", guests);
    const hook = drainHookScript({ server: "ovs3", clusterRoot: pool.root, timeoutS: 60 });
    const install = await lab.inServer("ovs3", ["sh", "-c", 'mkdir -p /etc/rc.d/rc0.d && cat > /etc/rc.d/rc0.d/K01ovm-ha-drain <<"EOF"\n' + hook + "EOF\nchmod 755 /etc/rc.d/rc0.d/K01ovm-ha-drain"]);
    expect(install.code, install.stderr).to.equal(0);
    const t0 = Date.now();
    await lab.fault("shutdown", "ovs3");
    for (const g of guests) {
      expect(runningOn(g), `${g} placed elsewhere`).to.be.oneOf(["ovs1", "ovs2"]);
      expect(events("guest-migrate", { guest: g }, t0), `${g} migrated`).to.have.length(1);
      expect(events("guest-start", { guest: g }, t0), `${g} never restarted`).to.have.length(0);
      // Run records continue across the move: no gap longer than ~2 s.
      await sleep(600);
      const recs = pool.runlog(g).filter((r) => r.ms >= t0 - 1000).sort((a, b) => a.ms - b.ms);
      expect(recs.some((r) => r.server === "ovs3") && recs.some((r) => r.server === runningOn(g))).to.equal(true);
      let gap = 0;
      for (let i = 1; i < recs.length; i++) gap = Math.max(gap, recs[i].ms - recs[i - 1].ms);
      expect(gap, `${g}: longest gap in its run records`).to.be.below(2000);
    }
    expect(events("server-drained", { server: "ovs3" }, t0)).to.have.length(1);
    await expectCheckOk();
    await powerOnAndWaitUp("ovs3");
  });

  it("no fence method: guests of a crashed server stay put and status says why", async () => {
    const guests = ["nofence-a"];
    for (const g of guests) pool.addGuest(g);
    await guestsOn("ovs3", guests);
    const t0 = Date.now();
    await lab.fault("crash", "ovs3");
    await waitFor("fence-unavailable", () => events("fence-unavailable", { server: "ovs3" }, t0).length > 0, BOUND + 5000);
    await sleep(3000);
    expect(guestState("nofence-a")?.state).to.equal("held");
    expect(events("guest-start", { guest: "nofence-a" }, t0)).to.have.length(0);
    // `ovm-ha status` (the CLI, from the status file) says why, loudly.
    const { stdout } = await execFileAsync(process.execPath, [path.join(PROJECT_ROOT, "dist", "cli", "watchdog-command.js"), "status", "--config", configFile]);
    expect(stdout).to.match(/ovs3 +member +none +failed !!.*no fence method configured/);
    expect(stdout).to.match(/nofence-a +held !! +ovs3 +running .*no fence method configured/);
    const json = readStatusFile(statusFilePath(config));
    expect(json.guests.find((g) => g.name === "nofence-a")).to.include({ state: "held", server: "ovs3", loud: true });
    // The server comes back without the guest: only then is it restarted (once).
    await powerOnAndWaitUp("ovs3");
    await waitFor("nofence-a restarted", () => runningOn("nofence-a"), 20000);
    expect(events("guest-start", { guest: "nofence-a" }, t0)).to.have.length(1);
    await expectCheckOk();
    process.stdout.write(renderStatus(readStatusFile(statusFilePath(config)), Date.now(), 5).replace(/^/gm, "      "));
  });

  it("watchdog restarted mid-failover: resumes from its state file, starts nothing twice", async () => {
    const guests = ["resume-a", "resume-b"];
    for (const g of guests) pool.addGuest(g);
    await guestsOn("ovs1", guests);
    const t0 = Date.now();
    await lab.fault("crash", "ovs1");
    await waitFor("ovs1 declared failed", () => events("server-failed", { server: "ovs1" }, t0).length > 0, BOUND + 5000);
    await wd.stop(); // graceful: finishes the turn, waits for the fence in flight, saves
    const logger = pino({ level: "info" }, pino.destination({ dest: path.join(stateDir, "watchdog.log"), sync: true }));
    wd = new Watchdog({ config, logger, onLog: (l) => log.push(l), processMetrics: false });
    await wd.start();
    await waitFor(`${guests.join(",")} running elsewhere after the restart`, () => guests.every((g) => runningOn(g) !== undefined && runningOn(g) !== "ovs1"), 30000);
    expect(events("watchdog-resumed", {}, t0)).to.have.length(1);
    for (const g of guests) expect(events("guest-start", { guest: g }, t0), `${g} started once`).to.have.length(1);
    await expectCheckOk();
    await powerOnAndWaitUp("ovs1");
  });

  it("ovm-ha drain: migrates a server's HA guests away and answers done", async () => {
    const guests = ["drain-a"];
    for (const g of guests) pool.addGuest(g);
    await guestsOn("ovs2", guests);
    const t0 = Date.now();
    const { stdout } = await execFileAsync(process.execPath, [path.join(PROJECT_ROOT, "dist", "cli", "watchdog-command.js"), "drain", "ovs2", "--config", configFile, "--timeout", "60"]);
    expect(stdout).to.match(/ovs2: done: drained/);
    expect(runningOn("drain-a")).to.be.oneOf(["ovs1", "ovs3"]);
    expect(events("guest-migrate", { guest: "drain-a" }, t0)).to.have.length(1);
    expect(serverState("ovs2")).to.equal("down");
    // What this drain alone makes the metrics say (the file's earlier cases may have run in another process).
    const metrics = await (await fetch(`http://127.0.0.1:${wd.metricsPort}/metrics`)).text();
    expect(metrics).to.match(/^ovmha_guest_migrations_total [1-9]/m);
    expect(metrics).to.match(/^ovmha_servers\{state="down"\} 1$/m);
    await expectCheckOk();
  });
});
