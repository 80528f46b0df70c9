// The daemon's disk-heartbeat commands, run by a real shell on a real directory (what sshd would run): reading
// every slot in one command, writing a pill atomically; the parsing of what they print; the pool as the core sees
// it with storage and levels; the status lines.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { parsePill, renderSlot, type Slot } from "../../ha/disk-heartbeat";
import { DEFAULT_TIMING, PoolRecordSchema } from "../../ha/ha-record";
import { parseSlots, pillFor, readSlotsCommand, writePillCommand } from "../../watchdog/daemon/disk-heartbeat-io";
import { effectivePool } from "../../watchdog/daemon/effective-pool";
import { parseWatchdogConfig } from "../../watchdog/daemon/config";
import { createManagerState, step } from "../../watchdog/core/manager";
import { buildStatus, renderStatus } from "../../watchdog/status";
import type { Observation } from "../../watchdog/core/types";

function run(argv: readonly string[], input?: string): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(argv[0], argv.slice(1), { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    return { code: 0, stdout, stderr: "" };
  } catch (e) {
    const x = e as { status: number; stdout: string; stderr: string };
    return { code: x.status, stdout: x.stdout, stderr: x.stderr };
  }
}

const slot = (server: string, seq: number, state: Slot["state"] = "ready"): Slot => ({ schemaVersion: 1, server, bootId: `boot-${server}`, seq, writtenAt: 1, state });

describe("daemon: disk heartbeat commands (real shell)", () => {
  let root: string;
  beforeEach(() => {
    // A cluster root whose path needs quoting: it travels as an argument, never pasted into the script.
    root = fs.mkdtempSync(path.join(os.tmpdir(), "ovm ha 'root' $x-"));
    fs.mkdirSync(path.join(root, ".ovm-ha"));
    fs.writeFileSync(path.join(root, ".ovm-ha/pool.json"), "{}\n");
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it("reads every slot in one command; a missing slot is null, a damaged one unreadable (absent)", () => {
    const dir = path.join(root, ".ovm-ha/slots");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "s1.json"), renderSlot(slot("s1", 7)));
    fs.writeFileSync(path.join(dir, "s2.json"), "{not json");
    fs.writeFileSync(path.join(dir, "s4.json"), renderSlot(slot("s3", 1))); // names another server
    fs.writeFileSync(path.join(dir, "s1.pill"), "{}"); // pills are not slots
    const r = run(readSlotsCommand(root));
    expect(r.code).to.equal(0);
    const { slots, problems } = parseSlots(r.stdout, ["s1", "s2", "s3", "s4"]);
    expect(slots).to.deep.equal({ s1: { bootId: "boot-s1", seq: 7, state: "ready" }, s3: null });
    expect(problems.join("\n")).to.match(/slot s2\.json is not JSON/).and.match(/slot s4\.json: names server 's3'; ignored/);
  });
  it("no slots directory yet: every server has no slot; no pool record (storage not mounted there): an error, not 'no slots'", () => {
    expect(parseSlots(run(readSlotsCommand(root)).stdout, ["s1"]).slots).to.deep.equal({ s1: null });
    fs.rmSync(path.join(root, ".ovm-ha/pool.json"));
    const r = run(readSlotsCommand(root));
    expect(r.code).to.equal(4);
    expect(r.stderr).to.match(/is the shared storage mounted here/);
  });
  it("writes a pill atomically (temporary file, then rename) and it parses", () => {
    const pill = pillFor("s2", "boot-s2", "watchdog", "storage fence", 1234);
    const r = run(writePillCommand(root, "s2"), JSON.stringify(pill) + "\n");
    expect(r.code).to.equal(0);
    const files = fs.readdirSync(path.join(root, ".ovm-ha/slots"));
    expect(files).to.deep.equal(["s2.pill"]);
    const back = parsePill(fs.readFileSync(path.join(root, ".ovm-ha/slots/s2.pill"), "utf8"));
    expect(back).to.deep.equal({ ok: true, value: pill });
  });
  it("the scripts are fixed text: paths are arguments", () => {
    const a = readSlotsCommand("/OVS/x'; rm -rf /");
    expect(a[2]).to.not.include("/OVS");
    expect(a).to.include("/OVS/x'; rm -rf /");
    const w = writePillCommand("/OVS/$(reboot)", "s1");
    expect(w[2]).to.not.include("reboot");
    expect(w[w.length - 1]).to.equal("/OVS/$(reboot)/.ovm-ha/slots/s1.pill");
  });
});

const loadWatchdogConfigFromObject = (extra: Record<string, unknown>) =>
  parseWatchdogConfig({ pool: { addresses: ["192.0.2.11"] }, ssh: { privateKeyFile: "/etc/ovm-ha/key", knownHostsFile: "/etc/ovm-ha/known_hosts" }, ...extra }, "/etc/ovm-ha");

describe("daemon: the pool with storage fences and levels", () => {
  const record = PoolRecordSchema.parse({
    schemaVersion: 1,
    name: "p",
    haEnabled: true,
    generation: 1,
    timing: DEFAULT_TIMING,
    servers: [
      { name: "s1", address: "192.0.2.1", role: "master", fence: { method: "storage" } },
      { name: "s2", address: "192.0.2.2", role: "member", fence: { method: "levels", levels: [{ method: "power" }, { method: "storage" }] } },
      { name: "s3", address: "192.0.2.3", role: "member", fence: { method: "none" } },
    ],
  });
  it("storage stays storage; levels keep the power level only with a fence command in this config", () => {
    const without = effectivePool(record, loadWatchdogConfigFromObject({}));
    expect(without.pool.servers.map((s) => s.fence)).to.deep.equal([{ method: "storage" }, { method: "levels", levels: [{ method: "storage" }] }, { method: "none" }]);
    expect(without.problems.join("\n")).to.match(/server s2: .*no fence command for it: storage level only/);
    const withCmd = effectivePool(record, loadWatchdogConfigFromObject({ fence: { "*": { off: ["/bin/fence-off", "{address}"], status: ["/bin/fence-status", "{address}"] } } }));
    expect(withCmd.pool.servers[0].fence).to.deep.equal({ method: "storage" });
    const lv = withCmd.pool.servers[1].fence;
    expect(lv.method === "levels" && lv.levels.map((l) => l.method)).to.deep.equal(["power", "storage"]);
  });
  it("status shows each server's disk heartbeat and a storage fence in progress with the message wait left", () => {
    // As this watchdog sees it: no fence command, so s2's levels are the storage level only.
    let s = createManagerState(effectivePool(record, loadWatchdogConfigFromObject({})).pool, [{ schemaVersion: 1, name: "vm2", ha: true, preferred: "auto", priority: 0, memoryMb: 512, vcpus: 1, vmCfgPath: "/OVS/running_pool/vm2/vm.cfg" }], 0);
    // s2 runs vm2; its network and its agent stop at 4000.
    const obs = (t: number): Observation[] => [
      { kind: "poll", server: "s1", ok: true, guests: [], totalMemoryMb: 4096, freeMemoryMb: 4096, sentAt: t - 100, answeredAt: t - 50 },
      t < 4000
        ? { kind: "poll", server: "s2", ok: true, guests: [{ name: "vm2", memoryMb: 512 }], totalMemoryMb: 4096, freeMemoryMb: 3584, sentAt: t - 100, answeredAt: t - 50 }
        : { kind: "poll", server: "s2", ok: false, contact: "none", sentAt: t - 100, answeredAt: t - 50 },
      { kind: "poll", server: "s3", ok: true, guests: [], totalMemoryMb: 4096, freeMemoryMb: 4096, sentAt: t - 100, answeredAt: t - 50 },
      { kind: "slots", via: "s1", ok: true, slots: { s3: null, s1: { bootId: "b1", seq: t, state: "ready" }, s2: { bootId: "b2", seq: Math.min(t, 4000), state: "ready" } }, sentAt: t - 100, answeredAt: t - 50 },
    ];
    for (let t = 1000; t <= 8000; t += 1000) s = step(s, obs(t), t).state;
    const st = buildStatus(s, { servers: {}, guests: {} }, [], [], { pid: 1, startedAt: 0, heartbeatIntervalMs: 1000 }, 8000);
    expect(st.servers.map((r) => r.disk)).to.deep.equal(["alive (ready)", "stale for 4 s (ready)", "no slot"]);
    expect(st.servers[1].fence).to.equal("storage");
    expect(st.servers[1].state).to.equal("fencing");
    // Known off by the stale slot at 3950 + 7700 = 11650: 3650 ms left.
    expect(st.servers[1].storageFence).to.deep.equal({ pillWrittenAt: undefined, remainingMs: 3650 });
    expect(st.servers[1].note).to.equal("storage fence (attempt 1): poison pill being written; known off in 4 s (message wait 7.7 s)");
    const text = renderStatus(st, 8000);
    expect(text).to.match(/DISK HEARTBEAT/).and.match(/s2 .*fencing .*stale for 4 s \(ready\) +storage fence/);
  });
});
