// The lab's hostile faults, asserted on what the world shows: a hung dom0 whose guests keep running, xend down or
// slow while SSH answers, commands that run but whose answers never arrive, and a cut between one server and one
// address only.
import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { startTestLab, TestLab } from "../support/lab";
import { cgroupPids, dom0CgroupDir, guestsCgroupDir, isFrozen, serverCgroupDir } from "../../lab/cgroup";
import { heldXendAnswers, lostAnswers } from "../../lab/faults";
import { layout } from "../../lab/layout";
import { ConnectionLostError, ConnectTimeoutError, SshPool } from "../../provider/ssh";
import { sleep, waitFor } from "../support/wait-for";

const execFileAsync = promisify(execFile);

interface SshResult { code: number; stdout: string; stderr: string; ms: number }

/** OpenSSH's own client (optionally bound to a source address), so these tests depend on nothing of ours but the lab. */
async function ssh(lab: TestLab, server: string, command: string, opts: { timeoutS?: number; from?: string } = {}): Promise<SshResult> {
  const s = lab.info.servers.find((x) => x.name === server)!;
  const timeoutS = opts.timeoutS ?? 3;
  const started = Date.now();
  try {
    const { stdout, stderr } = await execFileAsync("ssh", [
      ...(opts.from ? ["-b", opts.from] : []),
      "-i", lab.info.privateKeyPath, "-o", `UserKnownHostsFile=${lab.info.knownHostsPath}`, "-o", "StrictHostKeyChecking=yes",
      "-o", "BatchMode=yes", "-o", `ConnectTimeout=${timeoutS}`, "-p", String(s.port), `root@${s.address}`, command,
    ], { timeout: (timeoutS + 10) * 1000 });
    return { code: 0, stdout, stderr, ms: Date.now() - started };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "", ms: Date.now() - started };
  }
}

describe("lab: dom0 hang, xend, lost answers, one-address partitions", function () {
  this.timeout(120000);
  let lab: TestLab;
  let pool: string;

  function guestCfg(name: string): string {
    const d = path.join(pool, name);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, "System.img"), "");
    const cfg = path.join(d, "vm.cfg");
    fs.writeFileSync(cfg, `name = '${name}'\nmemory = 256\nvcpus = 1\ndisk = ['file:${d}/System.img,xvda,w']\n`);
    return cfg;
  }
  const records = (name: string) => {
    const p = path.join(pool, name, "System.img.runlog");
    return fs.existsSync(p) ? fs.readFileSync(p, "utf8").split("\n").filter(Boolean) : [];
  };
  const listed = async (server: string) => (await lab.inServer(server, ["xm", "list"])).stdout.split("\n").slice(1).map((l) => l.split(/\s+/)[0]).filter(Boolean);
  const guestPid = (name: string, server: string) => Number(records(name).filter((l) => l.startsWith(server + " ")).pop()?.split(" ")[1]);

  before(async () => {
    lab = await startTestLab({ servers: 3 });
    pool = path.join(layout.nfsRoot(lab.dir), "export", "ovs", "running_pool");
  });
  after(async () => {
    await lab?.down();
  });

  describe("hang", () => {
    it("freezes dom0 only: SSH and xm stop answering while the guests keep writing run records; heal restores", async () => {
      expect((await lab.inServer("ovs1", ["xm", "create", guestCfg("hg1")])).code).to.equal(0);
      await waitFor("hg1's first run record", () => records("hg1").length > 0, 5000);
      const pid = guestPid("hg1", "ovs1");
      expect(cgroupPids(guestsCgroupDir(lab.info.slot, "ovs1"))).to.include(pid);
      expect(cgroupPids(dom0CgroupDir(lab.info.slot, "ovs1"))).to.not.include(pid);

      await lab.fault("hang", "ovs1");
      expect(isFrozen(dom0CgroupDir(lab.info.slot, "ovs1"))).to.equal(true);
      expect(isFrozen(guestsCgroupDir(lab.info.slot, "ovs1"))).to.equal(false);
      const during = records("hg1").length;
      const cut = await ssh(lab, "ovs1", "xm list", { timeoutS: 2 });
      expect(cut.code).to.not.equal(0);
      expect(cut.stderr).to.match(/timed out/i);
      // The 2 s the ssh attempt took: the guest wrote about ten records meanwhile, from the same process.
      const after = records("hg1").slice(during);
      expect(after.length).to.be.greaterThan(3);
      expect(new Set(after.map((l) => l.split(" ").slice(0, 2).join(" ")))).to.deep.equal(new Set([`ovs1 ${pid}`]));
      let inside = "";
      await lab.inServer("ovs1", ["true"]).catch((e: Error) => (inside = e.message));
      expect(inside).to.equal("server ovs1 is hung: nothing runs in its dom0 until `lab heal ovs1`");

      await lab.fault("heal", "ovs1");
      expect(await listed("ovs1")).to.include("hg1");
      expect((await ssh(lab, "ovs1", "hostname")).stdout.trim()).to.equal("ovs1");
    });

    it("--machine freezes the guests too; crash kills dom0 and guests alike", async () => {
      await lab.fault("hang-machine", "ovs1");
      expect(isFrozen(serverCgroupDir(lab.info.slot, "ovs1"))).to.equal(true);
      // A record being written as the freeze came may still land: settle, then count.
      await sleep(300);
      const frozenAt = records("hg1").length;
      await sleep(1000);
      expect(records("hg1").length).to.equal(frozenAt);
      await lab.fault("heal", "ovs1");
      await waitFor("hg1 to write again after heal", () => records("hg1").length > frozenAt, 5000);

      const pid = guestPid("hg1", "ovs1");
      await lab.fault("hang", "ovs1");
      await lab.fault("crash", "ovs1");
      expect(cgroupPids(serverCgroupDir(lab.info.slot, "ovs1"))).to.deep.equal([]);
      expect(fs.existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, "utf8"))).to.equal(false);
      await lab.fault("power-on", "ovs1");
    });
  });

  describe("xend", () => {
    afterEach(() => lab.xend("ovs2", undefined));

    it("down: every xm command fails with xm's own message while SSH keeps working; up: it answers again", async () => {
      await lab.xend("ovs2", { mode: "down" });
      const list = await ssh(lab, "ovs2", "xm list");
      expect(list).to.deep.include({ code: 1, stdout: "", stderr: "Error: Unable to connect to xend: No such file or directory. Is xend running?\n" });
      const cfg = guestCfg("xd1");
      const create = await ssh(lab, "ovs2", `xm create ${cfg}`);
      expect(create).to.deep.include({ code: 1, stdout: `Using config file "${cfg}".\n` });
      expect(create.stderr).to.equal("Error: Unable to connect to xend: No such file or directory. Is xend running?\n");
      expect((await ssh(lab, "ovs2", "hostname")).stdout).to.equal("ovs2\n");
      expect(records("xd1")).to.deep.equal([]);
      await lab.xend("ovs2", undefined);
      expect((await ssh(lab, "ovs2", "xm list")).code).to.equal(0);
    });

    it("down on a migration target: the source's xm migrate is refused and its guest keeps running", async () => {
      expect((await lab.inServer("ovs3", ["xm", "create", guestCfg("xd2")])).code).to.equal(0);
      await lab.xend("ovs2", { mode: "down" });
      const r = await ssh(lab, "ovs3", "xm migrate -l xd2 ovs2", { timeoutS: 10 });
      expect(r).to.deep.include({ code: 1, stderr: "Error: can't connect: (111, 'Connection refused')\n" });
      expect(await listed("ovs3")).to.include("xd2");
      await lab.inServer("ovs3", ["xm", "destroy", "xd2"]);
    });

    it("slow: xm answers late; --stale: the late answer describes the world as it was when asked", async () => {
      await lab.xend("ovs2", { mode: "slow", ms: 1500 });
      const slow = await ssh(lab, "ovs2", "xm list");
      expect(slow.code).to.equal(0);
      expect(slow.ms).to.be.at.least(1500);

      await lab.xend("ovs2", { mode: "slow", ms: 3000, stale: true });
      const held = heldXendAnswers(lab.dir, "ovs2").length;
      const asked = ssh(lab, "ovs2", "xm list");
      await waitFor("the list to be handled, its answer held back", () => heldXendAnswers(lab.dir, "ovs2").length > held, 10000, 20);
      await lab.xend("ovs2", undefined);
      expect((await lab.inServer("ovs2", ["xm", "create", guestCfg("xs1")])).code).to.equal(0);
      expect(await listed("ovs2")).to.include("xs1");
      const answer = await asked;
      expect(answer.code).to.equal(0);
      expect(answer.stdout).to.match(/^Domain-0 /m);
      expect(answer.stdout).to.not.match(/^xs1 /m);
      await lab.inServer("ovs2", ["xm", "destroy", "xs1"]);
    });
  });

  describe("lose-answers", () => {
    it("the next N commands run to the end but their connection is cut before any answer; then answers come again", async () => {
      const cfg = guestCfg("la1");
      await lab.loseAnswers("ovs2", 1);
      const lost = await ssh(lab, "ovs2", `xm create ${cfg}`);
      expect(lost.code).to.equal(255);
      expect(lost.stdout).to.equal("");
      expect(lost.stderr).to.match(/closed by remote host|Connection reset/);
      // It ran: the guest exists and writes run records.
      expect(await listed("ovs2")).to.include("la1");
      await waitFor("la1's run records", () => records("la1").length > 0, 5000);
      expect(lostAnswers(lab.dir, "ovs2").map((l) => [l.exitCode, l.command])).to.deep.equal([[0, `xm create ${cfg}`]]);
      expect((await ssh(lab, "ovs2", "hostname")).stdout).to.equal("ovs2\n");
      await lab.inServer("ovs2", ["xm", "destroy", "la1"]);
    });

    it("through our SSH layer a lost answer is a ConnectionLostError, and the command still ran", async () => {
      const sshPool = new SshPool({ credentials: { user: "root", privateKey: fs.readFileSync(lab.info.privateKeyPath), knownHostsPath: lab.info.knownHostsPath } });
      const s2 = lab.info.servers[1];
      const marker = path.join(lab.dir, "ran-la2");
      try {
        expect((await sshPool.exec(s2, ["hostname"])).stdout).to.equal("ovs2\n");
        await lab.loseAnswers("ovs2", 1);
        let error: unknown;
        try {
          await sshPool.exec(s2, ["touch", marker]);
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(ConnectionLostError);
        expect(fs.existsSync(marker)).to.equal(true);
        expect((await sshPool.exec(s2, ["hostname"])).stdout).to.equal("ovs2\n");
      } finally {
        sshPool.close();
      }
    });

    it("counts the sudo user's commands too: the command ran as root, its answer lost", async () => {
      const marker = path.join(lab.dir, "ran-sudo");
      await lab.loseAnswers("ovs2", 1);
      const s2 = lab.info.servers[1];
      const lost = await execFileAsync("ssh", ["-i", lab.info.privateKeyPath, "-o", `UserKnownHostsFile=${lab.info.knownHostsPath}`, "-o", "BatchMode=yes",
        `${lab.info.sudoUser}@${s2.address}`, `sudo -n touch ${marker}`]).then(() => 0, (e: { code?: number }) => e.code);
      expect(lost).to.equal(255);
      expect(fs.statSync(marker).uid).to.equal(0);
      expect(lostAnswers(lab.dir, "ovs2").pop()).to.deep.include({ exitCode: 0, command: `sudo -n touch ${marker}` });
    });

    it("--at start cuts the connection while the command still runs; it runs on to its end", async () => {
      const marker = path.join(lab.dir, "ran-la3");
      await lab.loseAnswers("ovs2", 1, "start");
      const lost = await ssh(lab, "ovs2", `sleep 3; touch ${marker}`);
      expect(lost.code).to.equal(255);
      expect(fs.existsSync(marker)).to.equal(false);
      await waitFor("the cut command to finish on its own", () => fs.existsSync(marker), 10000);
    });
  });

  describe("partition --from", () => {
    afterEach(() => lab.fault("heal", "ovs3"));

    it("cuts only the traffic between the server and one address: other servers and addresses still reach it", async () => {
      const wd = lab.watchdogAddress;
      expect(wd).to.match(/^127\.77\.\d+\.240$/);
      await lab.partitionFrom("ovs3", wd);
      const cut = await ssh(lab, "ovs3", "true", { from: wd, timeoutS: 2 });
      expect(cut.code).to.not.equal(0);
      expect(cut.stderr).to.match(/timed out/i);
      expect((await ssh(lab, "ovs2", "hostname", { from: wd })).stdout).to.equal("ovs2\n");
      expect((await ssh(lab, "ovs3", "hostname", { from: lab.info.clientAddresses![1] })).stdout).to.equal("ovs3\n");
      // Server to server (what xm migrate and o2cb use) still works, both ways.
      const s1 = lab.info.servers[0];
      const s3 = lab.info.servers[2];
      const viaOvs1 = await lab.inServer("ovs1", ["ssh", "-b", s1.address, "-i", lab.info.privateKeyPath, "-o", `UserKnownHostsFile=${lab.info.knownHostsPath}`,
        "-o", "BatchMode=yes", "-o", "ConnectTimeout=3", `root@${s3.address}`, "hostname"]);
      expect(viaOvs1.stdout).to.equal("ovs3\n");
      await lab.fault("heal", "ovs3");
      expect((await ssh(lab, "ovs3", "hostname", { from: wd })).stdout).to.equal("ovs3\n");
    });

    it("our SSH layer binds localAddress: the watchdog's connections to the cut server time out, the others do not", async () => {
      await lab.partitionFrom("ovs3", lab.watchdogAddress);
      const sshPool = new SshPool({ localAddress: lab.watchdogAddress, connectTimeoutMs: 1500, credentials: { user: "root", privateKey: fs.readFileSync(lab.info.privateKeyPath), knownHostsPath: lab.info.knownHostsPath } });
      try {
        expect((await sshPool.exec(lab.info.servers[1], ["hostname"])).stdout).to.equal("ovs2\n");
        let error: unknown;
        try {
          await sshPool.exec(lab.info.servers[2], ["hostname"]);
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(ConnectTimeoutError);
      } finally {
        sshPool.close();
      }
    });

    it("refuses the server's own address and a malformed one, naming what is allowed", async () => {
      let err = "";
      try { await lab.partitionFrom("ovs3", lab.info.servers[2].address); } catch (e) { err = (e as Error).message; }
      expect(err).to.contain("the server's own address");
      try { await lab.partitionFrom("ovs3", "10.0.0"); } catch (e) { err = (e as Error).message; }
      expect(err).to.contain("--from takes an IPv4 address or a server name");
    });
  });
});
