// The stand-in hypervisor on real lab servers: xm over ssh, guests as processes writing run logs to shared
// storage, migration over server-to-server ssh (bound to the source's address, so partitions cut it), and the
// split-brain checker on what the guests wrote.
import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { startTestLab, TestLab } from "../support/lab";
import { layout } from "../../lab/layout";

const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Result { code: number; stdout: string; stderr: string }

describe("lab: xm stand-in, guests and the split-brain checker", function () {
  this.timeout(120000);
  let lab: TestLab;
  let pool: string;
  const MEMORY = 4096; // dom0 keeps 1024: 3072 MB free on an empty server

  /** xm run on a server over OpenSSH, as a driver would. */
  async function xm(server: string, ...args: string[]): Promise<Result> {
    const s = lab.info.servers.find((x) => x.name === server)!;
    try {
      const { stdout, stderr } = await execFileAsync("ssh", [
        "-i", lab.info.privateKeyPath, "-o", `UserKnownHostsFile=${lab.info.knownHostsPath}`, "-o", "StrictHostKeyChecking=yes",
        "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-p", String(s.port), `root@${s.address}`, "xm", ...args,
      ], { timeout: 60000 });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
    }
  }

  /** A guest config whose disk image is on the shared NFS export (same path in every server). */
  function guestCfg(name: string, memory: number): string {
    const d = path.join(pool, name);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, "System.img"), "");
    const cfg = path.join(d, "vm.cfg");
    fs.writeFileSync(cfg, `name = '${name}'\nmemory = ${memory}\nvcpus = 1\ndisk = ['file:${d}/System.img,xvda,w']\nvif = ['bridge=xenbr0']\non_crash = 'restart'\n`);
    return cfg;
  }

  function runlog(name: string): string[] {
    const p = path.join(pool, name, "System.img.runlog");
    return fs.existsSync(p) ? fs.readFileSync(p, "utf8").trim().split("\n") : [];
  }

  const row = (list: string, name: string) => list.split("\n").find((l) => l.split(/\s+/)[0] === name);
  const free = (info: string) => Number(/^free_memory +: (\d+)$/m.exec(info)?.[1]);

  before(async () => {
    lab = await startTestLab({ servers: 3, memoryMb: MEMORY });
    pool = path.join(layout.nfsRoot(lab.dir), "export", "ovs", "running_pool");
  });
  after(async () => {
    await lab?.down();
  });

  it("creates a guest: listed on its server only, memory accounted, records written from that server", async () => {
    const cfg = guestCfg("vm1", 512);
    const c = await xm("ovs1", "create", cfg);
    expect(c).to.deep.include({ code: 0, stdout: `Using config file "${cfg}".\nStarted domain vm1 (id=1)\n` });
    const list = (await xm("ovs1", "list")).stdout;
    expect(list.split("\n")[0]).to.equal(`${"Name".padEnd(40)}    ID   Mem VCPUs      State   Time(s)`);
    expect(row(list, "Domain-0")).to.match(/^Domain-0 +0 +1024 +4 +r----- +\d+\.\d$/);
    expect(row(list, "vm1")).to.match(/^vm1 +1 +512 +1 +-b---- +\d+\.\d$/);
    expect(row((await xm("ovs2", "list")).stdout, "vm1")).to.equal(undefined);
    const info = (await xm("ovs1", "info")).stdout;
    expect(info).to.match(/^host +: ovs1$/m).and.match(/^total_memory +: 4096$/m).and.match(/^nr_cpus +: 4$/m);
    expect(free(info)).to.equal(3072 - 512);
    await sleep(1000);
    const lines = runlog("vm1");
    expect(lines.length).to.be.at.least(3);
    expect(lines.every((l) => /^ovs1 \d+ \d{13}$/.test(l))).to.equal(true);
    expect(await xm("ovs1", "create", cfg)).to.deep.include({ code: 1, stderr: "Error: Domain 'vm1' already exists with ID '1'\n" });
  });

  it("migrates live to another server over ssh: silent, never both running, checker passes", async () => {
    const m = await xm("ovs1", "migrate", "-l", "vm1", "ovs2");
    expect(m).to.deep.equal({ code: 0, stdout: "", stderr: "" });
    expect(await xm("ovs1", "list", "vm1")).to.deep.include({ code: 3, stderr: "Error: Domain 'vm1' does not exist.\n" });
    expect(row((await xm("ovs2", "list", "vm1")).stdout, "vm1")).to.match(/^vm1 +\d+ +512 +1 +-b----/);
    expect(free((await xm("ovs1", "info")).stdout)).to.equal(3072);
    expect(free((await xm("ovs2", "info")).stdout)).to.equal(3072 - 512);
    await sleep(800);
    const servers = runlog("vm1").map((l) => l.split(" ")[0]);
    expect(servers.lastIndexOf("ovs1")).to.be.lessThan(servers.indexOf("ovs2"));
    // By address works too, and back again.
    expect((await xm("ovs2", "migrate", "vm1", lab.info.servers[0].address)).code).to.equal(0);
    expect(row((await xm("ovs1", "list")).stdout, "vm1")).to.match(/-b----/);
    const check = await lab.check({ guests: ["vm1"] });
    expect(check.ok, check.report).to.equal(true);
    expect(check.result.expected.map((g) => [g.name, g.servers])).to.deep.equal([["vm1", ["ovs1", "ovs2"]]]);
  });

  it("refuses a migration when the target lacks memory, leaving both sides unchanged", async () => {
    await xm("ovs3", "create", guestCfg("hog", 2800));
    const r = await xm("ovs1", "migrate", "vm1", "ovs3");
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/^Error: Not enough free memory.*I need 524288 KiB but only have 278528\.\n$/);
    expect(row((await xm("ovs1", "list")).stdout, "vm1")).to.match(/-b----/);
    expect(row((await xm("ovs3", "list")).stdout, "vm1")).to.equal(undefined);
    expect(free((await xm("ovs3", "info")).stdout)).to.equal(3072 - 2800);
    expect((await xm("ovs3", "destroy", "hog")).code).to.equal(0);
    expect(free((await xm("ovs3", "info")).stdout)).to.equal(3072);
  });

  it("refuses a migration to a partitioned target (timeout) and to a server whose sshd is down (refused)", async () => {
    await lab.fault("partition", "ovs3");
    try {
      const r = await xm("ovs1", "migrate", "vm1", "ovs3");
      expect(r.code).to.equal(1);
      expect(r.stderr).to.equal("Error: can't connect: (110, 'Connection timed out')\n");
    } finally {
      await lab.fault("heal", "ovs3");
    }
    expect(row((await xm("ovs1", "list")).stdout, "vm1")).to.match(/-b----/);
    await lab.fault("crash", "ovs3");
    try {
      const r = await xm("ovs1", "migrate", "vm1", "ovs3");
      expect(r).to.deep.include({ code: 1, stderr: "Error: can't connect: (111, 'Connection refused')\n" });
    } finally {
      await lab.fault("power-on", "ovs3");
    }
    expect(row((await xm("ovs1", "list")).stdout, "vm1")).to.match(/-b----/);
  });

  it("refuses to migrate an unknown (exit 3) or paused (exit 1) domain", async () => {
    expect(await xm("ovs1", "migrate", "nope", "ovs2")).to.deep.include({ code: 3, stderr: "Error: Domain 'nope' does not exist.\n" });
    expect((await xm("ovs1", "pause", "vm1")).code).to.equal(0);
    expect(row((await xm("ovs1", "list")).stdout, "vm1")).to.match(/--p---/);
    expect(await xm("ovs1", "migrate", "vm1", "ovs2")).to.deep.include({ code: 1, stderr: "Error: Domain is not running\n" });
    expect((await xm("ovs1", "unpause", "vm1")).code).to.equal(0);
    expect(row((await xm("ovs2", "list")).stdout, "vm1")).to.equal(undefined);
  });

  it("shuts down (-w waits) and destroys; both exit 3 for unknown domains", async () => {
    await xm("ovs2", "create", guestCfg("vm2", 256));
    expect(await xm("ovs1", "shutdown", "vm1", "-w")).to.deep.equal({ code: 0, stdout: "", stderr: "" });
    expect((await xm("ovs1", "list", "vm1")).code).to.equal(3);
    const last = runlog("vm1").length;
    expect(await xm("ovs2", "destroy", "vm2")).to.deep.equal({ code: 0, stdout: "", stderr: "" });
    expect((await xm("ovs2", "list", "vm2")).code).to.equal(3);
    expect((await xm("ovs1", "shutdown", "vm1")).code).to.equal(3);
    expect((await xm("ovs2", "destroy", "vm2")).code).to.equal(3);
    await sleep(500);
    expect(runlog("vm1").length).to.equal(last);
    const check = await lab.check({ guests: ["vm1"] });
    expect(check.ok, check.report).to.equal(true);
  });

  it("the checker catches one guest started on two servers at once", async () => {
    const cfg = guestCfg("twice", 256);
    expect((await xm("ovs1", "create", cfg)).code).to.equal(0);
    expect((await xm("ovs2", "create", cfg)).code).to.equal(0);
    await sleep(1000);
    const check = await lab.check({ guests: ["twice"] });
    expect(check.ok).to.equal(false);
    const lines = check.report.split("\n").filter((l) => l.startsWith("OVERLAP"));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.contain("twice/System.img.runlog").and.contain("ovs1 pid").and.contain("ovs2 pid");
    await xm("ovs1", "destroy", "twice");
    await xm("ovs2", "destroy", "twice");
  });
});
