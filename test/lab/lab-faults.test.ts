// The lab itself: servers are real sshd processes with their own files, and every fault command does what it says.
import { expect } from "chai";
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { startTestLab, TestLab } from "../support/lab";
import { serverCgroupDir, cgroupPids } from "../../lab/cgroup";
import { LoopRecord } from "../../lab/lab";
import { layout } from "../../lab/layout";
import { holdSlot, releaseSlot } from "../../lab/slots";

const execFileAsync = promisify(execFile);

/** Alive = exists and not a zombie (a killed server's orphans may wait for the sandbox's init to reap them). */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

interface SshResult { code: number; stdout: string; stderr: string; ms: number }

/** OpenSSH's own client, so these tests depend on nothing of ours but the lab. */
async function ssh(lab: TestLab, server: string, command: string, timeoutS = 3): Promise<SshResult> {
  const s = lab.info.servers.find((x) => x.name === server)!;
  const started = Date.now();
  try {
    const { stdout, stderr } = await execFileAsync("ssh", [
      "-i", lab.info.privateKeyPath, "-o", `UserKnownHostsFile=${lab.info.knownHostsPath}`, "-o", "StrictHostKeyChecking=yes",
      "-o", "BatchMode=yes", "-o", `ConnectTimeout=${timeoutS}`, "-p", String(s.port), `root@${s.address}`, command,
    ], { timeout: (timeoutS + 5) * 1000 });
    return { code: 0, stdout, stderr, ms: Date.now() - started };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "", ms: Date.now() - started };
  }
}

describe("lab: servers and faults", function () {
  this.timeout(120000);
  let lab: TestLab;

  before(async () => {
    lab = await startTestLab({ servers: 3 });
  });
  after(async () => {
    await lab?.down();
  });

  it("writes lab.json describing every server, the key and the shared storage", () => {
    const json = JSON.parse(fs.readFileSync(path.join(lab.dir, "lab.json"), "utf8"));
    expect(json.servers.map((s: { name: string }) => s.name)).to.deep.equal(["ovs1", "ovs2", "ovs3"]);
    const addresses = new Set(json.servers.map((s: { address: string }) => s.address));
    expect(addresses.size).to.equal(3);
    for (const s of json.servers) {
      expect(s.address).to.match(/^127\.\d+\.\d+\.\d+$/);
      const printed = execFileSync("ssh-keygen", ["-lf", path.join(layout.serverDir(lab.dir, s.name), "ssh_host_ed25519_key.pub")], { encoding: "utf8" });
      expect(printed.split(" ")[1]).to.equal(s.hostKeyFingerprint);
    }
    expect(fs.existsSync(json.privateKeyPath)).to.equal(true);
    expect(json.storage.iscsi.targets.length).to.be.greaterThan(0);
    expect(json.storage.san[0].device).to.equal("/dev/sdb");
    expect(json.storage.nfs.export).to.match(/^127\.[\d.]+:\/export\/ovs$/);
  });

  it("each server answers over SSH with its own host name and its own files at the real paths", async () => {
    const r1 = await ssh(lab, "ovs1", "hostname; echo 'ovs1-only /OVS/x ocfs2 _netdev 0 0' >> /etc/fstab; mkdir -p /etc/ocfs2 && echo mine > /etc/ocfs2/marker");
    expect(r1.code, r1.stderr).to.equal(0);
    expect(r1.stdout.trim()).to.equal("ovs1");
    const r2 = await ssh(lab, "ovs2", "hostname; grep -c ovs1-only /etc/fstab; test -e /etc/ocfs2/marker && echo leaked || echo clean");
    expect(r2.stdout.split("\n")).to.deep.equal(["ovs2", "0", "clean", ""]);
    // The host's own files are untouched.
    expect(fs.readFileSync("/etc/fstab", "utf8")).to.not.contain("ovs1-only");
    const parts = await ssh(lab, "ovs1", "cat /proc/partitions");
    expect(parts.stdout.split("\n")[0]).to.match(/^major minor\s+#blocks\s+name$/);
    expect(fs.readFileSync(layout.serverPartitions(lab.dir, "ovs1"), "utf8")).to.equal(parts.stdout);
  });

  it("hang --machine freezes every process of the server; heal thaws it", async () => {
    const before = await ssh(lab, "ovs2", "sh -c 'sleep 600 >/dev/null 2>&1 &' ; echo started");
    expect(before.stdout.trim()).to.equal("started");
    await lab.fault("hang-machine", "ovs2");
    const pids = cgroupPids(serverCgroupDir(lab.info.slot, "ovs2"));
    expect(pids.length).to.be.greaterThan(1);
    const events = fs.readFileSync(path.join(serverCgroupDir(lab.info.slot, "ovs2"), "cgroup.events"), "utf8");
    expect(events).to.match(/^frozen 1$/m);
    const hung = await ssh(lab, "ovs2", "true", 2);
    expect(hung.code).to.not.equal(0);
    expect(hung.stderr).to.match(/timed out/i);
    await lab.fault("heal", "ovs2");
    const healed = await ssh(lab, "ovs2", "hostname");
    expect(healed.stdout.trim()).to.equal("ovs2");
  });

  it("partition cuts the network both ways while the server and its processes keep running", async () => {
    const sleeper = Number((await ssh(lab, "ovs3", "sleep 600 >/dev/null 2>&1 & echo $!")).stdout.trim());
    await lab.fault("partition", "ovs3");
    const cut = await ssh(lab, "ovs3", "true", 2);
    expect(cut.code).to.not.equal(0);
    expect(cut.stderr).to.match(/timed out/i);
    // Still alive: the same processes run, and it answers inside.
    expect(cgroupPids(serverCgroupDir(lab.info.slot, "ovs3"))).to.include(sleeper);
    const inside = await lab.inServer("ovs3", ["hostname"]);
    expect(inside.stdout.trim()).to.equal("ovs3");
    // Outbound from its own address is cut too.
    const ovs1 = lab.info.servers[0];
    const out = await lab.inServer("ovs3", ["ssh", "-b", lab.info.servers[2].address, "-i", lab.info.privateKeyPath, "-o", `UserKnownHostsFile=${lab.info.knownHostsPath}`,
      "-o", "BatchMode=yes", "-o", "ConnectTimeout=2", `root@${ovs1.address}`, "true"]);
    expect(out.code).to.not.equal(0);
    await lab.fault("heal", "ovs3");
    expect((await ssh(lab, "ovs3", "hostname")).stdout.trim()).to.equal("ovs3");
  });

  it("crash kills the server at once; power on boots it again with its disk but empty of processes", async () => {
    const started = await ssh(lab, "ovs3", "echo persisted > /etc/ovs/marker; touch /run/volatile; sleep 600 >/dev/null 2>&1 & echo $!");
    const sleeper = Number(started.stdout.trim());
    expect(alive(sleeper)).to.equal(true);
    await lab.fault("crash", "ovs3");
    expect(cgroupPids(serverCgroupDir(lab.info.slot, "ovs3"))).to.deep.equal([]);
    const down = await ssh(lab, "ovs3", "true", 2);
    expect(down.code).to.not.equal(0);
    expect(down.stderr).to.match(/refused/i);
    await lab.fault("power-on", "ovs3");
    const up = await ssh(lab, "ovs3", "cat /etc/ovs/marker; test -e /run/volatile && echo run-kept || echo run-fresh");
    expect(up.stdout.split("\n").slice(0, 2)).to.deep.equal(["persisted", "run-fresh"]);
    expect(alive(sleeper)).to.equal(false);
  });

  it("crash --silent: nothing answers, not even a refusal, until power on; then it boots and answers", async () => {
    await lab.fault("crash-silent", "ovs3");
    expect(cgroupPids(serverCgroupDir(lab.info.slot, "ovs3"))).to.deep.equal([]);
    const down = await ssh(lab, "ovs3", "true", 2);
    expect(down.code).to.not.equal(0);
    // A dead machine is silent: the connection times out (about the 2 s asked), it is not refused.
    expect(down.stderr).to.match(/timed out/i);
    expect(down.stderr).to.not.match(/refused|reset/i);
    expect(down.ms).to.be.at.least(1500);
    await lab.fault("power-on", "ovs3");
    const up = await ssh(lab, "ovs3", "hostname");
    expect(up.code, up.stderr).to.equal(0);
    expect(up.stdout.trim()).to.equal("ovs3");
  });

  it("shutdown runs the server's shutdown hooks before it stops", async () => {
    const marker = path.join(lab.dir, "shutdown-marker");
    const hook = `#!/bin/sh\n[ "$1" = stop ] && hostname > ${marker}\n`;
    // Put the hook in place directly inside the server (EL5's rc0.d: K scripts run with "stop" at shutdown).
    await lab.inServer("ovs2", ["sh", "-c", `printf '%s' "$1" > /etc/rc.d/rc0.d/K01mark && chmod +x /etc/rc.d/rc0.d/K01mark`, "sh", hook]);
    await lab.fault("shutdown", "ovs2");
    expect(fs.readFileSync(marker, "utf8").trim()).to.equal("ovs2");
    expect(cgroupPids(serverCgroupDir(lab.info.slot, "ovs2"))).to.deep.equal([]);
    await lab.fault("power-on", "ovs2");
  });

  it("CLI: check fails on nothing, saying so; the fault commands set what status shows; bad input is refused", async () => {
    const cli = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await execFileAsync(process.execPath, [path.resolve(__dirname, "../../cli/main.js"), "lab", ...args, "--dir", lab.dir]);
        return { code: 0, stdout, stderr };
      } catch (e) {
        const err = e as { code?: number; stdout?: string; stderr?: string };
        return { code: err.code ?? -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
      }
    };
    const check = await cli("check");
    expect(check.code).to.equal(1);
    expect(check.stdout.split("\n")[0]).to.equal("FAILED");
    expect(check.stdout).to.contain("no expected guests").and.contain("no run records at all");
    const ovs2 = lab.info.servers[1].address;
    expect((await cli("xend", "ovs1", "slow", "200", "--stale")).code).to.equal(0);
    expect((await cli("lose-answers", "ovs1", "2", "--at", "start")).code).to.equal(0);
    expect((await cli("partition", "ovs1", "--from", "ovs2")).code).to.equal(0);
    const status = JSON.parse((await cli("status")).stdout);
    expect(status.watchdogAddress).to.equal(lab.info.watchdogAddress);
    expect(status.servers.ovs1).to.deep.include({ xend: { mode: "slow", ms: 200, stale: true }, loseAnswersLeft: 2, cutFrom: [ovs2] });
    expect((await cli("xend", "ovs1", "sideways")).stderr).to.contain("xend takes 'down', 'slow MS' or 'up', got 'sideways'");
    expect((await cli("lose-answers", "ovs1", "x")).stderr).to.contain("lose-answers takes a whole number of commands");
    for (const args of [["heal", "ovs1"], ["xend", "ovs1", "up"], ["lose-answers", "ovs1", "0"]]) expect((await cli(...args)).code).to.equal(0);
    const healed = JSON.parse((await cli("status")).stdout).servers.ovs1;
    expect([healed.xend, healed.loseAnswersLeft, healed.cutFrom]).to.deep.equal([undefined, 0, undefined]);
  });

  it("a second lab runs beside this one without colliding", async () => {
    const other = await startTestLab({ servers: 1 });
    try {
      expect(other.info.slot).to.not.equal(lab.info.slot);
      expect(other.info.servers[0].address).to.not.equal(lab.info.servers[0].address);
      expect((await ssh(other, "ovs1", "hostname")).stdout.trim()).to.equal("ovs1");
      expect((await ssh(lab, "ovs1", "hostname")).stdout.trim()).to.equal("ovs1");
    } finally {
      await other.down();
    }
  });

  it("down leaves nothing behind and is idempotent", async () => {
    const extra = await startTestLab({ servers: 2 });
    const loops: Record<string, LoopRecord> = JSON.parse(fs.readFileSync(layout.loopsJson(extra.dir), "utf8"));
    const loopDevs = Object.values(loops).map((l) => l.loop);
    expect(loopDevs.length).to.be.greaterThan(0);
    const slot = extra.info.slot;
    // Labs of other test files start meanwhile: one could take the slot as soon as down gives it back and make its
    // cgroup and firewall table anew, or attach a freed loop device again. So the slot goes to a holder first, and
    // loop devices are told apart by their backing files (this lab's dir).
    expect(execFileSync("losetup", ["-a"], { encoding: "utf8" })).to.contain(`(${extra.dir}/`);
    const holder = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-slot-holder-"));
    holdSlot(slot, extra.dir, holder);
    try {
      const { labDown } = await import("../../lab/lab");
      await labDown(extra.dir);
      await labDown(extra.dir); // again: nothing to do, no error
      expect(fs.existsSync(serverCgroupDir(slot, "ovs1"))).to.equal(false);
      const attached = execFileSync("losetup", ["-a"], { encoding: "utf8" });
      expect(attached).to.not.contain(`(${extra.dir}/`);
      const tables = execFileSync("nft", ["list", "tables"], { encoding: "utf8" });
      expect(tables).to.not.contain(`ovm_ha_lab_${slot}\n`);
      const sshds = execFileSync("sh", ["-c", "pgrep -af sshd || true"], { encoding: "utf8" });
      expect(sshds).to.not.contain(extra.dir);
      expect(fs.existsSync(path.join(extra.dir, "slot")), "the lab dir no longer names a slot").to.equal(false);
    } finally {
      releaseSlot(slot, holder);
      fs.rmSync(holder, { recursive: true, force: true });
    }
    await extra.down();
  });

  it("refuses to run without root, with a clear message", () => {
    let out = "";
    try {
      execFileSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, path.resolve(__dirname, "../../cli/main.js"), "lab", "up", "--servers", "1", "--dir", "/tmp/ovm-ha-nonroot"], { encoding: "utf8", stdio: "pipe" });
    } catch (e) {
      out = String((e as { stderr?: string }).stderr);
    }
    expect(out).to.contain("the lab needs root");
  });
});
