// The storage fence end to end on a 4-server lab with NO power fence at all: every server runs `ovm-ha agent`
// (installed as ServerPool does it) feeding the lab's hardware watchdog, and the real watchdog (in-process, bound
// to the lab's watchdog address) fences by poison pill and reads the disk heartbeat. Asserted on what the world
// shows: run records (`lab check` given the guests that must have run, which cannot pass on nothing), the lab's own
// record of each hardware-watchdog reset, where each guest's process runs; and each start counted in the core log.
import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { messageWaitMs } from "../../ha/disk-heartbeat";
import { storageLoss, storageRestore, storageLossState } from "../../lab/storage-loss";
import { describeDisk } from "../../watchdog/core/disk-evidence";
import { startAgents, type LabAgents } from "../support/agents";
import { startTestLab } from "../support/lab";
import { sleep, waitFor } from "../support/wait-for";
import { ExactlyOnceWorld, SERVERS } from "./exactly-once-world";
import { LabPool, PROJECT_ROOT } from "./lab-pool";

const run = promisify(execFile);
const say = (s: string) => process.stdout.write(`      ${s}\n`);
const AGENT = { intervalMs: 1000, leaseMs: 3000, deviceTimeoutMs: 4000 };
const MESSAGE_WAIT = messageWaitMs(AGENT);

/** ExactlyOnceWorld with storage fences only: no fence command in the config, agents on every server. */
class StorageWorld extends ExactlyOnceWorld {
  agents!: LabAgents;

  constructor() {
    super(1000);
    this.timing = { ...this.timing, agent: AGENT } as typeof this.timing;
  }

  override async up(): Promise<void> {
    this.lab = await startTestLab({ servers: 4 });
    this.pool = new LabPool(this.lab);
    this.pool.writePool({ fence: Object.fromEntries(SERVERS.map((s) => [s, { method: "storage" as const }])), timing: this.timing });
    this.agents = await startAgents(this.lab, { clusterRoot: this.pool.root, deviceTimeoutMs: AGENT.deviceTimeoutMs });
    this.stateDir = fs.mkdtempSync(path.join(require("os").tmpdir(), "ovm-ha-e2e-storage-"));
    this.fenceLog = path.join(this.stateDir, "fence-calls.log");
    this.gate = path.join(this.stateDir, "fence.gate");
    fs.writeFileSync(this.fenceLog, "");
    // No power fence anywhere: the config has no fence command.
    const config = this.pool.config({ stateDir: this.stateDir, fence: [] });
    config.ssh.localAddress = this.lab.watchdogAddress;
    this.config = config;
    this.configFile = path.join(this.stateDir, "config.json");
    fs.writeFileSync(this.configFile, JSON.stringify({ ...config, metrics: undefined, log: { level: "info", file: path.join(this.stateDir, "cli.log") } }));
    await this.startWatchdog();
    await this.waitAllUp();
    await this.waitDiskReady();
  }

  override async down(): Promise<void> {
    await this.wd?.stop().catch(() => undefined);
    if (this.agents) await this.agents.stopAll();
    await this.lab?.down();
    if (this.stateDir) fs.rmSync(this.stateDir, { recursive: true, force: true });
  }

  /** Every agent's slot ready and renewed, as the watchdog reads it (so every server is a failover target). */
  async waitDiskReady(timeoutMs = 60000): Promise<void> {
    await waitFor("every server's disk heartbeat alive and ready for the watchdog", () => SERVERS.every((s) => {
      const st = this.wd?.state?.servers[s];
      return st !== undefined && describeDisk(st, this.wd!.state!.pool.timing, Date.now()) === "alive (ready)";
    }), timeoutMs);
  }

  override async reset(): Promise<void> {
    for (const s of SERVERS) if (storageLossState(this.lab.dir, s)?.mode !== undefined && storageLossState(this.lab.dir, s)?.mode !== "ok") await storageRestore(this.lab.info, s);
    await super.reset();
    // A reset or powered-on server boots, and its agent starts again (rc3.d): wait for its slot to be ready.
    for (const s of SERVERS) await this.agents.waitSlot(s, (x) => x.state === "ready", "ready", 60000);
    await this.waitDiskReady();
  }

  resetsSince(server: string, t0: number) {
    return this.agents.resets(server).filter((r) => r.at >= t0);
  }

  /** Each guest started exactly once since t0, on a server other than `not`; returns when each ran there first. */
  async recoveredOnce(guests: string[], not: string, t0: number, timeoutMs = 60000): Promise<number[]> {
    await waitFor(`${guests.join(",")} running outside ${not}`, () => guests.every((g) => { const on = this.runningOn(g); return on !== undefined && on !== not; }), timeoutMs);
    const times: number[] = [];
    for (const g of guests) {
      await this.recordsFrom(g, { not: [not] });
      const starts = this.events("guest-start", { guest: g }, t0);
      expect(starts.map((x) => x.server).filter((s) => s !== not), `${g}: started once, outside ${not}`).to.have.length(1);
      expect(starts.length, `${g}: one start in all`).to.equal(1);
      const running = this.events("guest-running", { guest: g }, t0).find((l) => l.server === starts[0].server)!;
      times.push(running.t - t0);
    }
    return times;
  }
}

describe("storage fence on the lab: no power fence at all (4 servers, agents, hardware watchdogs)", function () {
  this.timeout(600000);
  const w = new StorageWorld();
  let caseGuests: string[] = [];
  let caseStart = 0;
  const recovery: number[] = [];

  before(async () => {
    await w.up();
  });
  after(async () => {
    if (recovery.length) {
      const sorted = [...recovery].sort((a, b) => a - b);
      say(`crash or hang to guest running elsewhere, storage fence only (${sorted.length} guests): min ${(sorted[0] / 1000).toFixed(2)} s, median ${(sorted[Math.floor(sorted.length / 2)] / 1000).toFixed(2)} s, max ${(sorted[sorted.length - 1] / 1000).toFixed(2)} s (message wait ${MESSAGE_WAIT} ms)`);
    }
    await w.down();
  });
  beforeEach(() => {
    caseStart = Date.now();
  });
  afterEach(async function () {
    if (this.currentTest?.state === "failed") {
      process.stderr.write(`--- core log of the case ---\n${w.log.filter((l) => l.t >= caseStart).map((l) => JSON.stringify(l)).join("\n")}\n--- watchdog log (tail) ---\n${w.tail()}\n`);
    }
    await w.reset();
    await w.clearGuests(caseGuests);
    caseGuests = [];
  });

  it("crash: the silent server's slot stays the same; known off after the message wait; its guests start elsewhere once", async () => {
    const V = "ovs2";
    const guests = (caseGuests = ["sf-crash-a", "sf-crash-b"]);
    await w.guestsOn(V, guests);
    const t0 = Date.now();
    await w.lab.fault("crash", V);
    const times = await w.recoveredOnce(guests, V, t0);
    recovery.push(...times);
    const fenced = w.events("server-fenced", { server: V }, t0);
    expect(fenced.map((l) => l.reason).join("\n"), "known off by the storage fence or its disk heartbeat").to.match(/storage fence|known off by its disk heartbeat/);
    expect(w.fenceCalls(t0), "no power fence").to.deep.equal([]);
    expect(w.events("fence-start", { server: V }, t0).map((l) => l.reason).join("\n")).to.match(/^storage fence/);
    // Never before the message wait after the last time the crashed server could have written its slot.
    for (const t of times) expect(t, "no guest started elsewhere before the message wait").to.be.greaterThan(MESSAGE_WAIT - AGENT.intervalMs);
    const report = await w.expectCheck(guests, t0);
    say(`crash -> running elsewhere: ${times.map((t) => `${(t / 1000).toFixed(2)} s`).join(", ")}`);
    say(report.split("\n").slice(-guests.length).join("\n      "));
  });

  for (const [fault, label] of [["hang", "dom0 hang"], ["hang-machine", "whole-machine hang"]] as const) {
    it(`${label}: the agent stops feeding, the hardware watchdog resets the server; its guests run elsewhere once, never two copies`, async () => {
      const V = fault === "hang" ? "ovs3" : "ovs4";
      const guests = (caseGuests = [`sf-${fault}-a`, `sf-${fault}-b`]);
      await w.guestsOn(V, guests);
      const t0 = Date.now();
      await w.lab.fault(fault, V);
      const times = await w.recoveredOnce(guests, V, t0, 90000);
      recovery.push(...times);
      await waitFor(`a hardware watchdog reset of ${V}`, () => w.resetsSince(V, t0).length > 0, 30000);
      expect(w.fenceCalls(t0), "no power fence").to.deep.equal([]);
      const report = await w.expectCheck(guests, t0);
      say(`${label} -> running elsewhere: ${times.map((t) => `${(t / 1000).toFixed(2)} s`).join(", ")}; ${V} reset by its watchdog device ${((w.resetsSince(V, t0)[0].at - t0) / 1000).toFixed(2)} s after the fault`);
      say(report.split("\n").slice(-guests.length).join("\n      "));
    });
  }

  it("partition from the watchdog only: alive and cut off (disk heartbeat alive): no fence, no restart; its guests keep running once; status says so", async () => {
    const V = "ovs2";
    const guests = (caseGuests = ["sf-cut-a", "sf-cut-b"]);
    await w.guestsOn(V, guests);
    const t0 = Date.now();
    await w.lab.partitionFrom(V, w.lab.watchdogAddress);
    await waitFor(`${V} said cut off`, () => w.events("server-cut-off", { server: V }, t0).length > 0, 30000);
    const row = w.wd!.status().servers.find((r) => r.name === V)!;
    expect(row.note, "status").to.match(/^cut off \(disk heartbeat alive\)/);
    expect(row.loud).to.equal(true);
    expect(row.disk).to.match(/^alive/);
    // Well past the message wait: still nothing done, still running there.
    await sleep(MESSAGE_WAIT + 3000);
    for (const g of guests) {
      expect(w.events("guest-start", { guest: g }, t0), `${g}: not started elsewhere`).to.deep.equal([]);
      await w.recordsFrom(g, { server: V });
    }
    expect(w.events("fence-start", { server: V }, t0), "no fence").to.deep.equal([]);
    expect(w.resetsSince(V, t0), "no reset of the cut-off server").to.deep.equal([]);
    await w.lab.fault("heal", V);
    await waitFor(`${guests.join(",")} confirmed on ${V} again`, () => guests.every((g) => w.runningOn(g) === V), 30000);
    const report = await w.expectCheck(guests, t0);
    say(`cut off for ${((Date.now() - t0) / 1000).toFixed(1)} s: ${w.events("server-cut-off", { server: V }, t0).length} cut-off alarm, 0 starts, 0 resets`);
    say(report.split("\n").slice(-guests.length).join("\n      "));
  });

  it("storage loss: the agent loses its lease, destroys its guests and stops feeding; they are restarted elsewhere once", async () => {
    const V = "ovs3";
    const guests = (caseGuests = ["sf-storage-a", "sf-storage-b"]);
    await w.guestsOn(V, guests);
    const t0 = Date.now();
    await storageLoss(w.lab.info, V, "fail");
    const times = await w.recoveredOnce(guests, V, t0, 90000);
    await waitFor(`a hardware watchdog reset of ${V}`, () => w.resetsSince(V, t0).length > 0, 30000);
    expect(w.fenceCalls(t0), "no power fence").to.deep.equal([]);
    const report = await w.expectCheck(guests, t0);
    say(`storage loss -> running elsewhere: ${times.map((t) => `${(t / 1000).toFixed(2)} s`).join(", ")}`);
    say(report.split("\n").slice(-guests.length).join("\n      "));
  });

  it("a poison pill while partitioned (ovm-ha fence SERVER --storage): the agent self-fences; its guests start elsewhere once", async () => {
    const V = "ovs2";
    const guests = (caseGuests = ["sf-pill-a", "sf-pill-b"]);
    await w.guestsOn(V, guests);
    const t0 = Date.now();
    await w.lab.partitionFrom(V, w.lab.watchdogAddress);
    await waitFor(`${V} said cut off`, () => w.events("server-cut-off", { server: V }, t0).length > 0, 30000);
    const tPill = Date.now();
    const r = await run(process.execPath, [path.join(PROJECT_ROOT, "dist", "cli", "main.js"), "fence", V, "--storage", "--config", w.configFile, "--reason", "e2e: pill while partitioned"], { timeout: 60000 }).catch((e: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`ovm-ha fence ${V} --storage failed: ${e.message} (code ${(e as { code?: unknown }).code}, signal ${(e as { signal?: unknown }).signal})\nstdout: ${e.stdout}\nstderr: ${e.stderr}`);
    });
    expect(r.stdout).to.match(new RegExp(`^${V}: poison pill written through \\S+, aimed at boot [0-9a-f-]+; ${V} is off within ${MESSAGE_WAIT} ms`));
    const times = await w.recoveredOnce(guests, V, t0, 90000);
    await waitFor(`a hardware watchdog reset of ${V}`, () => w.resetsSince(V, tPill).length > 0, 30000);
    expect(w.events("guest-start", {}, t0).filter((l) => guests.includes(l.guest!)).every((l) => l.t >= tPill), "nothing started before the pill").to.equal(true);
    const report = await w.expectCheck(guests, t0);
    say(`pill -> running elsewhere: ${times.map((t) => `${((t - (tPill - t0)) / 1000).toFixed(2)} s`).join(", ")}`);
    say(report.split("\n").slice(-guests.length).join("\n      "));
  });
});
