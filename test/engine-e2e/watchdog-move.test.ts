// Issue 5, "after the watchdog moved a guest, refresh + preview shows no change to that guest", with the REAL
// watchdog (in-process, fence = the lab's power switch, as in the demo) moving the guests of examples/nfs, applied
// through the engine harness: (1) a planned drain of ovs3 (`ovm-ha drain`'s drainServer: live migrations, ovs3
// stays up), then (2) a crash of ovs2 (fenced, its guests restarted on ovs1). After each: refresh records where
// the watchdog put every guest (checked against `xm list` on the servers), preview shows every Guest as "same",
// and a following up issues no Create/Update/Delete and restarts nothing.
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import pino from "pino";
import { OperationResult, Stack } from "../engine";
import { startTestLab, TestLab } from "../support/lab";
import { EXAMPLE_PROJECTS, labStackConfig } from "../../examples/lab-stack";
import { nfsPool } from "../../examples/nfs/program";
import { Watchdog } from "../../watchdog/daemon/watchdog";
import { parseWatchdogConfig, type WatchdogConfig } from "../../watchdog/daemon/config";
import { drainServer } from "../../watchdog/drain";
import type { LogLine } from "../../watchdog/core/types";
import { sleep, waitFor } from "../support/wait-for";
import { ok } from "../support/engine-ok";

const PROJECT_DIR = path.resolve(__dirname, "../../..");
const LAB_POWER = path.resolve(__dirname, "../../lab/power-cli.js");
const DRAINED = "ovs3";
const CRASHED = "ovs2";
// Strict preferred lists (the watchdog places on the first listed server that is a target):
// web1 starts on ovs2 and is restarted on ovs1 after the crash; db1 starts on ovs3 and migrates to ovs1 in the
// drain; app1 starts on ovs3, migrates to ovs2 in the drain, then is restarted on ovs1 after the crash.
const GUESTS = [
  { name: "web1", memory: 256, preferredServers: [CRASHED, "ovs1"] },
  { name: "db1", memory: 256, preferredServers: [DRAINED, "ovs1"], priority: 90 },
  { name: "app1", memory: 256, preferredServers: [DRAINED, CRASHED, "ovs1"] },
];
const GUEST_NAMES = GUESTS.map((g) => g.name);
const RESOURCES = ["cluster", "pool", ...GUEST_NAMES];
const TIMING = { heartbeatIntervalMs: 1000, heartbeatMisses: 3, stabilityMs: 3000, restartBudget: { max: 3, windowMs: 600000 }, fenceTimeoutMs: 15000, fenceRetryMs: 3000 };



describe("examples/nfs: guests moved by the real watchdog show no change in refresh + preview", function () {
  this.timeout(240000);
  let lab: TestLab;
  let stack: Stack;
  let tmp: string;
  let config: WatchdogConfig;
  let wd: Watchdog | undefined;
  const log: LogLine[] = [];

  const runningOn = (g: string) => {
    const st = wd?.state?.guests[g]?.status;
    return st?.state === "running" ? st.server : undefined;
  };
  const events = (event: string, since: number, guest?: string) => log.filter((l) => l.event === event && l.t >= since && (guest === undefined || l.guest === guest));
  /** Every domain the servers list (`xm list` in each server; a crashed server lists nothing): guest -> where and id. */
  const xmList = async (): Promise<Record<string, { server: string; id: string }[]>> => {
    const out: Record<string, { server: string; id: string }[]> = {};
    for (const s of lab.info.servers.map((x) => x.name)) {
      const r = await lab.inServer(s, ["xm", "list"]).catch(() => undefined);
      if (!r || r.code !== 0) continue;
      for (const line of r.stdout.split("\n").slice(1)) {
        const [name, id] = line.trim().split(/\s+/);
        if (name && name !== "Domain-0") (out[name] ??= []).push({ server: s, id });
      }
    }
    return out;
  };
  /** guest -> "server/domain id", asserting each guest runs exactly once. */
  const domains = async (): Promise<Record<string, string>> => {
    const all = await xmList();
    const out: Record<string, string> = {};
    for (const g of GUEST_NAMES) {
      expect(all[g] ?? [], `${g} runs on exactly one server`).to.have.length(1);
      out[g] = `${all[g][0].server}/${all[g][0].id}`;
    }
    return out;
  };

  /**
   * After the watchdog moved guests: refresh sees them where the watchdog and `xm list` say, preview shows every
   * Guest as "same", and up changes no guest and restarts none. Returns the three results for stack-level checks.
   */
  async function refreshPreviewUp(
    moved: string[],
    expected: Record<string, string>,
  ): Promise<{ refresh: OperationResult; plan: OperationResult; up: OperationResult }> {
    const placed = Object.fromEntries(GUEST_NAMES.map((g) => [g, runningOn(g)]));
    expect(placed, "the watchdog's placement").to.deep.equal(expected);
    const before = await domains();
    for (const g of GUEST_NAMES) expect(before[g].split("/")[0], `xm list: ${g}`).to.equal(expected[g]);

    const refresh = await stack.refresh();
    expect(refresh.errors, JSON.stringify(refresh.errors)).to.deep.equal([]);
    for (const g of GUEST_NAMES) {
      const outs = stack.resource(g)!.outputs;
      expect(outs.runningOn, `${g}.runningOn after refresh`).to.equal(expected[g]);
      expect(`${outs.runningOn}/${outs.domainId}`, `${g}: refreshed domain is the one xm lists`).to.equal(before[g]);
      expect(outs.running, `${g}.running`).to.equal(true);
    }
    // Refresh did observe the moves: the moved guests' outputs changed (runningOn, domainId).
    for (const g of moved) expect(refresh.step(g)?.op, `refresh of moved ${g}`).to.equal("update");

    const plan = ok(await stack.preview(nfsPool));
    expect(plan.steps.map((s) => s.name)).to.have.members(RESOURCES);
    for (const g of GUEST_NAMES) expect(plan.step(g)?.op, `preview of ${g}`).to.equal("same");

    const up = ok(await stack.up(nfsPool));
    for (const g of GUEST_NAMES) expect(up.step(g)?.op, `up of ${g}`).to.equal("same");
    // Nothing restarted, nothing moved: same server, same domain id.
    expect(await domains(), "domains after up").to.deep.equal(before);
    for (const g of GUEST_NAMES) expect(stack.resource(g)!.outputs.runningOn, `${g}.runningOn after up`).to.equal(expected[g]);
    return { refresh, plan, up };
  }

  before(async () => {
    lab = await startTestLab({ servers: 3, memoryMb: 2048 });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-watchdog-move-"));
    stack = new Stack({ project: EXAMPLE_PROJECTS.nfs, projectDir: PROJECT_DIR, stateFile: path.join(tmp, "state.json") });
    for (const [k, v] of Object.entries(labStackConfig(lab.info, "nfs", { guests: GUESTS, timing: TIMING }))) stack.setConfig(k, v.value, { secret: v.secret });
    ok(await stack.up(nfsPool));
    const clusterRoot = stack.resource("cluster")!.outputs.clusterRoot as string;
    expect(Object.fromEntries(GUEST_NAMES.map((g) => [g, stack.resource(g)!.outputs.runningOn]))).to.deep.equal({ web1: CRASHED, db1: DRAINED, app1: DRAINED });

    config = parseWatchdogConfig({
      pool: { addresses: lab.info.servers.map((s) => s.address), clusterRoot },
      ssh: { user: "root", privateKeyFile: lab.info.privateKeyPath, knownHostsFile: lab.info.knownHostsPath },
      // The lab's IPMI, as in the demo: `ovm-ha lab power off SERVER`, confirmed by `lab power status`.
      fence: { "*": { off: [process.execPath, LAB_POWER, "off", "{server}", "--dir", lab.dir], status: [process.execPath, LAB_POWER, "status", "{server}", "--dir", lab.dir], timeoutMs: 15000 } },
      stateFile: path.join(tmp, "watchdog-state.json"),
      log: { level: "info" },
    });
    const logger = pino({ level: "info" }, pino.destination({ dest: path.join(tmp, "watchdog.log"), sync: true }));
    wd = new Watchdog({ config, logger, onLog: (l) => log.push(l), processMetrics: false });
    await wd.start();
    await waitFor("the watchdog to see every guest running", () => GUEST_NAMES.every((g) => runningOn(g)), 20000);
  });

  after(async function () {
    if (this.currentTest?.state === "failed" || process.env.OVM_HA_E2E_LOG) process.stderr.write(log.map((l) => JSON.stringify(l)).join("\n") + "\n");
    await wd?.stop();
    await lab?.down();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it(`planned drain of ${DRAINED}: its guests migrate live, and refresh + preview + up show no guest change`, async () => {
    const t0 = Date.now();
    const r = await drainServer(config, { server: DRAINED, timeoutMs: 60000 });
    expect(r.state, r.reason).to.equal("done");
    await waitFor("db1 and app1 running elsewhere", () => runningOn("db1") === "ovs1" && runningOn("app1") === CRASHED, 20000);
    for (const g of ["db1", "app1"]) {
      expect(events("guest-migrate", t0, g), `${g} migrated`).to.have.length(1);
      expect(events("guest-start", t0, g), `${g} never restarted`).to.have.length(0);
    }
    // ovs3 stays up (drained, not powered off): it still answers.
    expect((await lab.inServer(DRAINED, ["xm", "list"])).code).to.equal(0);

    const { plan, up } = await refreshPreviewUp(["db1", "app1"], { web1: CRASHED, db1: "ovs1", app1: CRASHED });
    // Every server still answers, so the pool and the cluster are unchanged too: the whole stack is "same"
    // and up makes no write call at all.
    expect(plan.steps.map((s) => s.op)).to.deep.equal(RESOURCES.map(() => "same"));
    expect(up.calls.Create + up.calls.Update + up.calls.Delete, JSON.stringify(up.calls)).to.equal(0);
  });

  it(`crash of ${CRASHED}: fenced, its guests restarted on ovs1, and refresh + preview + up show no guest change`, async () => {
    const t0 = Date.now();
    await lab.fault("crash", CRASHED);
    await waitFor("web1 and app1 restarted on ovs1", () => runningOn("web1") === "ovs1" && runningOn("app1") === "ovs1", 40000);
    expect(events("server-fenced", t0).map((l) => l.server), "fenced").to.deep.equal([CRASHED]);
    for (const g of ["web1", "app1"]) expect(events("guest-start", t0, g), `${g} restarted once`).to.have.length(1);

    // Every resource refreshes cleanly with ovs2 off: the Cluster and the pool keep their last known facts for it
    // and list it in `unreachableServers`.
    const { refresh, plan, up } = await refreshPreviewUp(["web1", "app1"], { web1: "ovs1", db1: "ovs1", app1: "ovs1" });
    console.log(`      refresh after the crash: ${refresh.steps.map((s) => `${s.name}:${s.op}`).join(" ")}${refresh.errors.length ? `; errors: ${refresh.errors.map((e) => e.message.replace(/\s+/g, " ")).join("; ")}` : ""}`);
    console.log(`      preview after the crash: ${plan.steps.map((s) => `${s.name}:${s.op}`).join(" ")}`);
    // What the pool shows with ovs2 powered off: refresh keeps its last known facts and lists it in the
    // `unreachableServers` output (an output change, so refresh reports the pool as changed), but none of the
    // pool's inputs differ, so preview and up show it (and the cluster) as "same": a server down is not a
    // change of the pool. Guests likewise list ovs2 as unreachable, an output only.
    expect(stack.resource("pool")!.outputs.unreachableServers).to.deep.equal([CRASHED]);
    expect(refresh.step("pool")?.op).to.equal("update");
    for (const g of GUEST_NAMES) expect(stack.resource(g)!.outputs.unreachableServers, g).to.deep.equal([CRASHED]);
    expect(plan.steps.map((s) => `${s.name}:${s.op}`)).to.have.members(RESOURCES.map((n) => `${n}:same`));
    expect(up.calls.Create + up.calls.Update + up.calls.Delete, JSON.stringify(up.calls)).to.equal(0);

    const check = await lab.check();
    expect(check.ok, check.report).to.equal(true);
  });
});
