// Unit tests of the watchdog daemon's pure pieces: config validation, record reading, heartbeat parsing and
// memory accounting, fence commands, effective pool, drain hook script, status rendering.
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseWatchdogConfig, ConfigError, fenceFor } from "../../watchdog/daemon/config";
import { parseRecords, readRecordsCommand, splitTailOutput } from "../../watchdog/daemon/record-reader";
import { heartbeatCommand, parseHeartbeat, pollObservation } from "../../watchdog/daemon/heartbeat";
import { fenceArgv, runFence } from "../../watchdog/daemon/fence-runner";
import { effectivePool } from "../../watchdog/daemon/effective-pool";
import { drainHookScript } from "../../watchdog/agent/drain-hook";
import { DrainRequestSchema } from "../../watchdog/daemon/drain-request";
import { renderCommand } from "../../provider/ssh";
import { createManagerState, step } from "../../watchdog/core/manager";
import { PoolRecordSchema, GuestRecordSchema } from "../../ha/ha-record";
import { buildStatus, renderStatus } from "../../watchdog/status";

const baseConfig = () => ({
  pool: { addresses: ["192.0.2.11"] },
  ssh: { privateKeyFile: "/k", knownHostsFile: "/kh" },
});

const poolJson = {
  schemaVersion: 1,
  name: "p1",
  haEnabled: true,
  generation: 3,
  servers: [
    { name: "ovs1", address: "192.0.2.11", role: "master", fence: { method: "power" } },
    { name: "ovs2", address: "192.0.2.12", role: "member", fence: { method: "none" } },
  ],
};
const guestJson = (name: string) => ({ schemaVersion: 1, name, ha: true, preferred: "auto", memoryMb: 512, vmCfgPath: `/OVS/running_pool/${name}/vm.cfg` });

describe("watchdog config", () => {
  it("fills defaults and resolves relative paths against the config's directory", () => {
    const c = parseWatchdogConfig({ ...baseConfig(), ssh: { privateKeyFile: "key", knownHostsFile: "kh" }, stateFile: "state.json" }, "/etc/ovm-ha");
    expect(c.pool.clusterRoot).to.equal("/OVS");
    expect(c.pool.addresses).to.deep.equal([{ address: "192.0.2.11", port: 22 }]);
    expect(c.ssh.privateKeyFile).to.equal("/etc/ovm-ha/key");
    expect(c.stateFile).to.equal("/etc/ovm-ha/state.json");
    expect(c.commands.startTimeoutMs).to.equal(20000);
  });

  const bad: [string, unknown, RegExp][] = [
    ["no addresses", { ...baseConfig(), pool: { addresses: [] } }, /pool\.addresses: .*at least one/],
    ["relative cluster root", { ...baseConfig(), pool: { addresses: ["a"], clusterRoot: "OVS" } }, /pool\.clusterRoot: .*absolute/],
    ["no key", { pool: { addresses: ["a"] }, ssh: { knownHostsFile: "/kh" } }, /ssh\.privateKeyFile: give ssh\.privateKeyFile or ssh\.agent/],
    ["no host keys", { pool: { addresses: ["a"] }, ssh: { privateKeyFile: "/k" } }, /ssh\.knownHostsFile: .*host keys are always verified/],
    ["unknown key", { ...baseConfig(), stateFiel: "/x" }, /stateFiel/],
    ["fence argv as string", { ...baseConfig(), fence: { ovs1: { off: "ipmitool power off", status: ["s"] } } }, /fence\.ovs1\.off: off must be a list/],
    ["password placeholder without secret", { ...baseConfig(), fence: { ovs1: { off: ["x"], status: ["s"], env: { IPMI_PASSWORD: "{password}" } } } }, /fence\.ovs1: uses \{password\}/],
    ["heartbeat too slow", { ...baseConfig(), timing: { heartbeatIntervalMs: 5000 } }, /timing\.heartbeatIntervalMs: .*at most 1000/],
    ["start timeout beyond the core's", { ...baseConfig(), commands: { startTimeoutMs: 40000 } }, /commands\.startTimeoutMs: .*at most 25000/],
    ["bad metrics port", { ...baseConfig(), metrics: { port: 70000 } }, /metrics\.port: .*0\.\.65535/],
  ];
  for (const [what, raw, message] of bad) {
    it(`rejects ${what}, naming the key`, () => {
      expect(() => parseWatchdogConfig(raw)).to.throw(ConfigError, message);
    });
  }

  it("the example configs are valid", () => {
    for (const f of ["watchdog.json", "watchdog-lab.json"]) {
      const file = path.resolve(__dirname, "../../../examples/watchdog", f);
      expect(() => parseWatchdogConfig(JSON.parse(fs.readFileSync(file, "utf8"))), f).to.not.throw();
    }
  });

  it("a server's own fence entry wins over '*'", () => {
    const c = parseWatchdogConfig({ ...baseConfig(), fence: { "*": { off: ["a"], status: ["s"] }, ovs2: { off: ["b"], status: ["s"] } } });
    expect(fenceFor(c, "ovs1")!.off).to.deep.equal(["a"]);
    expect(fenceFor(c, "ovs2")!.off).to.deep.equal(["b"]);
  });
});

describe("watchdog record reader", () => {
  const tail = (files: Record<string, unknown>) => Object.entries(files).map(([f, v]) => `==> ${f} <==\n${typeof v === "string" ? v : JSON.stringify(v, null, 1)}\n`).join("\n");

  it("reads the pool, guest records and requests from one tail -v output", () => {
    const snap = parseRecords(
      tail({
        ".ovm-ha/pool.json": poolJson,
        "running_pool/vm1/ha.json": guestJson("vm1"),
        "running_pool/vm2/ha.json": guestJson("other"),
        "running_pool/vm3/ha.json": "{not json",
        ".ovm-ha/requests/ovs2.json": { schemaVersion: 1, server: "ovs2", op: "shutdown", id: "1-x" },
        ".ovm-ha/requests/ovs2.response.json": { schemaVersion: 1, server: "ovs2", id: "0-y", state: "done", reason: "r", at: 1 },
      }),
    );
    expect(snap.pool?.generation).to.equal(3);
    expect(snap.guests.map((g) => g.name)).to.deep.equal(["vm1"]);
    expect(snap.requests).to.have.length(1);
    expect(snap.responses[0].id).to.equal("0-y");
    expect(snap.problems.join("\n")).to.match(/vm2\/ha\.json: name 'other' differs/).and.match(/vm3\/ha\.json: not valid JSON/);
  });

  it("reports a missing or invalid pool record, and the hash follows record contents only", () => {
    expect(parseRecords("").problems).to.deep.equal([".ovm-ha/pool.json: missing"]);
    expect(parseRecords(tail({ ".ovm-ha/pool.json": { ...poolJson, haEnabled: "yes" } })).problems[0]).to.match(/haEnabled: haEnabled must be true or false/);
    const a = parseRecords(tail({ ".ovm-ha/pool.json": poolJson }));
    const b = parseRecords(tail({ ".ovm-ha/pool.json": poolJson, ".ovm-ha/requests/ovs1.json": { schemaVersion: 1, server: "ovs1", op: "restart", id: "2" } }));
    const c = parseRecords(tail({ ".ovm-ha/pool.json": { ...poolJson, generation: 4 } }));
    expect(a.recordsHash).to.equal(b.recordsHash);
    expect(a.recordsHash).to.not.equal(c.recordsHash);
  });

  it("runs against real files with the real tail", function () {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "wd-records-"));
    try {
      fs.mkdirSync(path.join(root, ".ovm-ha"));
      fs.mkdirSync(path.join(root, "running_pool", "vm1"), { recursive: true });
      fs.writeFileSync(path.join(root, ".ovm-ha", "pool.json"), JSON.stringify(poolJson)); // no trailing newline
      fs.writeFileSync(path.join(root, "running_pool", "vm1", "ha.json"), JSON.stringify(guestJson("vm1")));
      const line = renderCommand(readRecordsCommand(root)).line;
      const out = execFileSync("sh", ["-c", line], { encoding: "utf8" });
      expect(splitTailOutput(out).map((f) => f.file)).to.deep.equal([".ovm-ha/pool.json", "running_pool/vm1/ha.json"]);
      const snap = parseRecords(out);
      expect(snap.problems).to.deep.equal([]);
      expect(snap.guests.map((g) => g.name)).to.deep.equal(["vm1"]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("watchdog heartbeat", () => {
  const LIST = "Name                                        ID   Mem VCPUs      State   Time(s)\nDomain-0                                     0  1024     4     r-----     12.0\nvm1                                          3   512     1     -b----      1.0\n";
  const INFO = "host                   : ovs1\nnr_cpus                : 4\ntotal_memory           : 16384\nfree_memory            : 14848\n";

  it("one command: xm list, and xm info behind a marker when asked", () => {
    expect(renderCommand(heartbeatCommand(false)).line).to.equal("xm list");
    expect(renderCommand(heartbeatCommand(true)).line).to.equal("xm list && echo '==ovm-ha-xm-info==' && xm info");
  });

  it("free memory follows the listed guests between two xm info", () => {
    const t = { sentAt: 10, answeredAt: 20 };
    const first = pollObservation("ovs1", parseHeartbeat(`${LIST}==ovm-ha-xm-info==\n${INFO}`), undefined, t)!;
    expect(first.obs).to.deep.equal({ kind: "poll", server: "ovs1", ok: true, guests: [{ name: "vm1", memoryMb: 512 }], totalMemoryMb: 16384, freeMemoryMb: 14848, dom0CpuSeconds: 12, sentAt: 10, answeredAt: 20 });
    const more = LIST + "vm2                                          4   256     1     -b----      1.0\n";
    const second = pollObservation("ovs1", parseHeartbeat(more), first.baseline, t)!;
    expect(second.obs).to.include({ freeMemoryMb: 14848 - 256 });
    expect(pollObservation("ovs1", parseHeartbeat(LIST), undefined, t)).to.equal(undefined);
  });

  it("the source copy of a live migration (xend's migrating-NAME) is the guest, still on this server", () => {
    const mid = LIST + "migrating-vm2                                4   256     1     -b----      1.0\n";
    expect(parseHeartbeat(mid).guests).to.deep.equal([{ name: "vm1", memoryMb: 512 }, { name: "vm2", memoryMb: 256, migrating: true }]);
  });
});

describe("watchdog fence runner", () => {
  // The runner's outcomes (confirmation, lying fences, secrets) are tested in fence-runner.test.ts.
  it("fills placeholders in both actions; the display shows no password", () => {
    const f = { off: ["ipmitool", "-H", "bmc-{server}", "-E", "chassis", "power", "off", "{address}"], status: ["ipmitool", "-H", "bmc-{server}", "-E", "chassis", "power", "status"], env: { IPMI_PASSWORD: "{password}" } };
    expect(fenceArgv(f, { name: "ovs1", address: "10.0.0.1" }, "s3cret")).to.deep.equal({
      argv: ["ipmitool", "-H", "bmc-ovs1", "-E", "chassis", "power", "off", "10.0.0.1"],
      display: "ipmitool -H bmc-ovs1 -E chassis power off 10.0.0.1 (env IPMI_PASSWORD); confirmed by ipmitool -H bmc-ovs1 -E chassis power status (env IPMI_PASSWORD)",
    });
  });

  it("off exit 0 confirmed by status is off; other exits failed; no exit by the deadline a timeout", async () => {
    const s = { name: "ovs1", address: "a" };
    expect((await runFence({ off: ["true"], status: ["echo", "Chassis Power is off"] }, s, 2000)).outcome).to.equal("off");
    const failed = await runFence({ off: ["sh", "-c", "echo no route to the BMC >&2; exit 3"], status: ["true"] }, s, 2000);
    expect(failed.outcome).to.equal("failed");
    expect(failed.detail).to.match(/exited 3: no route to the BMC/);
    const t0 = Date.now();
    const slow = await runFence({ off: ["sleep", "10"], status: ["true"], timeoutMs: 200 }, s, 2000);
    expect(slow.outcome).to.equal("timeout");
    expect(Date.now() - t0).to.be.below(2000);
  });
});

describe("watchdog effective pool", () => {
  it("a configured command makes a power fence; a record's power fence without one becomes none, said loudly", () => {
    const record = PoolRecordSchema.parse({ ...poolJson, servers: [...poolJson.servers, { name: "ovs3", address: "192.0.2.13", role: "member", fence: { method: "power" } }] });
    const config = parseWatchdogConfig({ ...baseConfig(), fence: { ovs2: { off: ["fence", "{server}"], status: ["fence-status", "{server}"] } }, timing: { heartbeatMisses: 2 } });
    const { pool, problems } = effectivePool(record, config);
    expect(pool.servers.map((s) => s.fence.method)).to.deep.equal(["none", "power", "none"]);
    expect(pool.timing.heartbeatMisses).to.equal(2);
    expect(problems.join("\n")).to.match(/server ovs1: .*no fence command/).and.match(/server ovs3: /);
  });
});

describe("watchdog drain hook", () => {
  it("refuses unsafe names and paths", () => {
    expect(() => drainHookScript({ server: "a;rm", clusterRoot: "/OVS", timeoutS: 10 })).to.throw(/server name/);
    expect(() => drainHookScript({ server: "ovs1", clusterRoot: "/OVS/$(x)", timeoutS: 10 })).to.throw(/clusterRoot/);
    expect(() => drainHookScript({ server: "ovs1", clusterRoot: "/OVS", timeoutS: 0 })).to.throw(/timeoutS/);
  });

  it("writes a valid request, waits for the response with its id, and gives up after the timeout", function () {
    this.timeout(20000);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "wd-hook-"));
    try {
      const script = path.join(root, "K01ovm-ha-drain");
      fs.writeFileSync(script, drainHookScript({ server: "ovs1", clusterRoot: root, timeoutS: 2 }), { mode: 0o755 });
      expect(execFileSync("sh", ["-n", script]).toString()).to.equal("");
      // No watchdog answers: the hook returns after ~2 s and removes its request.
      const t0 = Date.now();
      const out = execFileSync(script, ["stop"], { encoding: "utf8" });
      expect(Date.now() - t0).to.be.within(1500, 6000);
      expect(out).to.match(/no answer from the watchdog within 2 s/);
      expect(fs.existsSync(path.join(root, ".ovm-ha/requests/ovs1.json"))).to.equal(false);
      // A watchdog that answers done: the hook sees its request id and returns at once.
      const child = require("child_process").spawn(script, ["stop"]);
      const reqFile = path.join(root, ".ovm-ha/requests/ovs1.json");
      const deadline = Date.now() + 5000;
      while (!fs.existsSync(reqFile) && Date.now() < deadline) execFileSync("sleep", ["0.05"]);
      const req = DrainRequestSchema.parse(JSON.parse(fs.readFileSync(reqFile, "utf8")));
      expect(req).to.include({ server: "ovs1", op: "shutdown" });
      fs.writeFileSync(path.join(root, ".ovm-ha/requests/ovs1.response.json"), JSON.stringify({ schemaVersion: 1, server: "ovs1", id: req.id, state: "done", reason: "drained", at: 1 }) + "\n");
      return new Promise<void>((resolve, reject) => {
        let text = "";
        child.stdout.on("data", (d: Buffer) => (text += d));
        child.on("exit", (code: number) => {
          try {
            expect(code).to.equal(0);
            expect(text).to.match(/drained: going ahead with the shutdown/);
            resolve();
          } catch (e) {
            reject(e);
          }
        });
      });
    } finally {
      setTimeout(() => fs.rmSync(root, { recursive: true, force: true }), 3000);
    }
  });
});

describe("watchdog status", () => {
  it("a table with servers, guests (held and why), problems and events; loud rows marked !!", () => {
    // Three servers: with one silent, the watchdog is still in contact with a majority (2 of 3).
    const three = [...poolJson.servers, { name: "ovs3", address: "192.0.2.13", role: "member" }];
    const pool = PoolRecordSchema.parse({ ...poolJson, servers: three.map((s) => ({ ...s, fence: { method: "none" } })) });
    let state = createManagerState(pool, [GuestRecordSchema.parse(guestJson("vm1"))], 0);
    const ok = (server: string, guests: { name: string; memoryMb: number }[]) => ({ kind: "poll" as const, server, ok: true as const, guests, totalMemoryMb: 4096, freeMemoryMb: 2048, sentAt: 0, answeredAt: 0 });
    state = step(state, [ok("ovs1", []), ok("ovs2", [{ name: "vm1", memoryMb: 512 }]), ok("ovs3", [])], 1000).state;
    const events = [];
    const marks = { servers: {}, guests: {} } as Parameters<typeof buildStatus>[1];
    for (let t = 2000; t <= 5000; t += 1000) {
      const r = step(state, [{ ...ok("ovs1", []), sentAt: t - 100 }, { kind: "poll", server: "ovs2", ok: false, contact: "none", sentAt: t - 100, answeredAt: t - 10 }, { ...ok("ovs3", []), sentAt: t - 100 }], t);
      state = r.state;
      events.push(...r.log);
      for (const a of r.actions) {
        if (a.kind === "mark") marks.guests[a.guest] = { state: a.state, reason: a.reason };
        if (a.kind === "mark-server") marks.servers[a.server] = { state: a.state, reason: a.reason };
      }
    }
    const s = buildStatus(state, marks, events, ["a problem"], { pid: 1, startedAt: 0, heartbeatIntervalMs: 1000 }, 5000);
    expect(s.servers.find((r) => r.name === "ovs2")).to.include({ state: "failed", loud: true });
    expect(s.guests[0]).to.include({ name: "vm1", state: "held", server: "ovs2", wanted: "running", loud: true });
    const text = renderStatus(s, 5500);
    expect(text).to.match(/^pool p1 \(generation 3\): HA on, majority in contact/);
    expect(text).to.match(/^ovs2 +member +none +failed !! .*no fence method configured/m);
    expect(text).to.match(/^vm1 +held !! +ovs2 +running .*must stay on it/m);
    expect(text).to.match(/!! a problem/);
    expect(text).to.match(/fence-unavailable !! server=ovs2/);
    expect(renderStatus(s, 60000)).to.match(/STALE: is the watchdog running\?/);
    expect(renderStatus({ ...s, daemon: { ...s.daemon, stoppedAt: 5200 } }, 6000)).to.match(/watchdog !! STOPPED at/);
    expect(text, "no raw epochs").not.to.match(/t=\d{4,}/);
  });
});
