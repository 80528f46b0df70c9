// The xm stand-in's commands against a temporary "server" (identity, lab.json and /run/xend in a temp dir),
// with real guest processes; migration runs the real xm-receive as a child process instead of over ssh.
import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LabInfo } from "../../lab/layout";
import { HostContext, loadHostContext } from "../../lab/hypervisor/host-context";
import { XmError } from "../../lab/hypervisor/xm-error";
import { ReceiverConnector, connectError, runXm } from "../../lab/standins/xm";

const RECEIVER = path.resolve(__dirname, "../../lab/standins/xm-receive.js");

describe("lab xm: commands on a temporary server", function () {
  this.timeout(30000);
  let dir: string;
  const ctxs: Record<string, HostContext> = {};
  const envs: Record<string, NodeJS.ProcessEnv> = {};

  /** Receiver run locally with the target's environment, standing in for the ssh session. */
  const local: ReceiverConnector = (_ctx, target) =>
    spawn(process.execPath, [RECEIVER], { env: { ...process.env, ...envs[target] }, stdio: ["pipe", "pipe", "pipe"] });

  let connector: ReceiverConnector = local;

  async function xm(server: string, ...argv: string[]): Promise<{ out: string; code: number; err: string }> {
    let out = "";
    try {
      await runXm(argv, ctxs[server], { out: (t) => (out += t) }, connector);
      return { out, code: 0, err: "" };
    } catch (e) {
      if (!(e instanceof XmError)) throw e;
      return { out, code: e.exitCode, err: e.message };
    }
  }

  function writeCfg(name: string, memory: number, disk = true): string {
    const img = path.join(dir, "storage", "nfs", "running_pool", name, "System.img");
    fs.mkdirSync(path.dirname(img), { recursive: true });
    if (disk) fs.writeFileSync(img, "");
    const cfg = path.join(path.dirname(img), "vm.cfg");
    fs.writeFileSync(cfg, `name = '${name}'\nmemory = ${memory}\nvcpus = 1\ndisk = ['file:${img},xvda,w']\n`);
    return cfg;
  }

  function guestPids(server: string): number[] {
    const domains = path.join(dir, "run", server, "domains");
    if (!fs.existsSync(domains)) return [];
    return fs.readdirSync(domains).filter((f) => f.endsWith(".json")).map((f) => JSON.parse(fs.readFileSync(path.join(domains, f), "utf8")).pid);
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeEach(() => {
    connector = local;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-xm-"));
    const lab: LabInfo = {
      dir,
      slot: 1,
      servers: ["ovs1", "ovs2"].map((name, i) => ({
        name, address: `127.77.1.${i + 1}`, port: 22, hostKeyFingerprint: "", totalMemoryMb: 2048, dom0MemoryMb: 512, nrCpus: 2,
      })),
      privateKeyPath: "", knownHostsPath: "", sudoUser: "ovm",
      storage: { iscsi: { portal: "", portalAddress: "", port: 3260, targets: [] }, san: [], nfs: { export: "", host: "", path: "" } },
      runtime: { node: process.execPath, dist: path.resolve(__dirname, "../..") },
    };
    fs.writeFileSync(path.join(dir, "lab.json"), JSON.stringify(lab));
    for (const s of lab.servers) {
      const identity = path.join(dir, `${s.name}.json`);
      fs.writeFileSync(identity, JSON.stringify({ name: s.name, address: s.address, labDir: dir }));
      envs[s.name] = { OVM_LAB_SERVER_JSON: identity, OVM_LAB_XEND_DIR: path.join(dir, "run", s.name) };
      ctxs[s.name] = loadHostContext(envs[s.name]);
    }
  });

  afterEach(() => {
    for (const s of Object.keys(ctxs)) for (const pid of guestPids(s)) if (pid > 0) try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("creates a guest that records its runs, lists it, accounts its memory and refuses a duplicate", async () => {
    const cfg = writeCfg("vm1", 512);
    const c = await xm("ovs1", "create", cfg);
    expect(c).to.deep.equal({ out: `Using config file "${cfg}".\nStarted domain vm1 (id=1)\n`, code: 0, err: "" });
    const list = (await xm("ovs1", "list")).out.split("\n");
    expect(list[0]).to.match(/^Name +ID +Mem +VCPUs +State +Time\(s\)$/);
    expect(list[1]).to.match(/^Domain-0 +0 +512 +2 +r----- +\d+\.\d$/);
    expect(list[2]).to.match(/^vm1 +1 +512 +1 +-b---- +\d+\.\d$/);
    expect((await xm("ovs1", "info")).out).to.contain("free_memory            : 1024\n");
    expect(await xm("ovs1", "create", cfg)).to.deep.include({ code: 1, err: "Domain 'vm1' already exists with ID '1'" });
    await sleep(700);
    const runlog = fs.readFileSync(path.join(dir, "storage/nfs/running_pool/vm1/System.img.runlog"), "utf8").trim().split("\n");
    expect(runlog.length).to.be.within(2, 6);
    expect(runlog[0]).to.match(new RegExp(`^ovs1 ${guestPids("ovs1")[0]} \\d{13}$`));
  });

  it("refuses a guest that does not fit in free memory or whose disk image is missing", async () => {
    expect(await xm("ovs1", "create", writeCfg("big", 1600))).to.deep.include({ code: 1 });
    expect((await xm("ovs1", "create", writeCfg("big2", 1600))).err).to.match(/I need 1638400 KiB but only have 1572864/);
    const r = await xm("ovs1", "create", writeCfg("nodisk", 128, false));
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/^Device 51712 \(vbd\) could not be connected\. .*nodisk\/System\.img does not exist\.$/);
    expect((await xm("ovs1", "list")).out.trim().split("\n")).to.have.length(2);
  });

  it("exits 3 for unknown domains and drops records of guests that died", async () => {
    expect(await xm("ovs1", "list", "nope")).to.deep.include({ code: 3, err: "Domain 'nope' does not exist." });
    expect((await xm("ovs1", "shutdown", "nope")).code).to.equal(3);
    expect((await xm("ovs1", "destroy", "nope")).code).to.equal(3);
    expect((await xm("ovs1", "migrate", "nope", "ovs2")).code).to.equal(3);
    await xm("ovs1", "create", writeCfg("vm1", 256));
    process.kill(guestPids("ovs1")[0], "SIGKILL");
    await sleep(100);
    expect((await xm("ovs1", "list", "vm1")).code).to.equal(3);
  });

  it("shuts down (waiting with -w) and destroys", async () => {
    await xm("ovs1", "create", writeCfg("vm1", 256));
    await xm("ovs1", "create", writeCfg("vm2", 256));
    const [p1, p2] = guestPids("ovs1");
    expect(await xm("ovs1", "shutdown", "vm1", "-w")).to.deep.equal({ out: "", code: 0, err: "" });
    expect(fs.existsSync(`/proc/${p1}`)).to.equal(false);
    expect(await xm("ovs1", "destroy", "vm2")).to.deep.equal({ out: "", code: 0, err: "" });
    expect(fs.existsSync(`/proc/${p2}`)).to.equal(false);
    expect((await xm("ovs1", "list")).out.trim().split("\n")).to.have.length(2);
    // Ids keep increasing after domains went away.
    expect((await xm("ovs1", "create", writeCfg("vm3", 256))).out).to.contain("(id=3)");
  });

  it("migrates: the guest stops on the source before it starts on the target", async () => {
    await xm("ovs1", "create", writeCfg("vm1", 512));
    await sleep(500);
    expect(await xm("ovs1", "migrate", "-l", "vm1", "ovs2")).to.deep.equal({ out: "", code: 0, err: "" });
    expect((await xm("ovs1", "list", "vm1")).code).to.equal(3);
    expect((await xm("ovs2", "list", "vm1")).out).to.match(/\nvm1 +1 +512 +1 +-b----/);
    expect((await xm("ovs2", "info")).out).to.contain("free_memory            : 1024\n");
    await sleep(500);
    const lines = fs.readFileSync(path.join(dir, "storage/nfs/running_pool/vm1/System.img.runlog"), "utf8").trim().split("\n");
    const servers = lines.map((l) => l.split(" ")[0]);
    // All ovs1 records come before all ovs2 records.
    expect(servers.lastIndexOf("ovs1")).to.be.lessThan(servers.indexOf("ovs2"));
    expect(servers.indexOf("ovs2")).to.be.greaterThan(0);
  });

  it("refuses a migration when the target lacks memory, the domain is paused, or the name is taken", async () => {
    await xm("ovs1", "create", writeCfg("vm1", 1024));
    await xm("ovs2", "create", writeCfg("hog", 768));
    const r = await xm("ovs1", "migrate", "vm1", "ovs2");
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/I need 1048576 KiB but only have 786432\.$/);
    expect((await xm("ovs1", "list", "vm1")).out).to.match(/\nvm1 +1 +1024 +1 +-b----/);
    expect((await xm("ovs2", "info")).out).to.contain("free_memory            : 768\n");

    await xm("ovs2", "destroy", "hog");
    await xm("ovs2", "create", writeCfg("vm1", 256)); // same name on the target
    expect((await xm("ovs1", "migrate", "vm1", "ovs2")).err).to.equal("Domain 'vm1' already exists with ID '2'");

    await xm("ovs1", "pause", "vm1");
    expect((await xm("ovs1", "list", "vm1")).out).to.contain("--p---");
    expect(await xm("ovs1", "migrate", "vm1", "ovs2")).to.deep.include({ code: 1, err: "Domain is not running" });
    await xm("ovs1", "unpause", "vm1");
    expect((await xm("ovs1", "list", "vm1")).out).to.contain("-b----");
  });

  it("loses the guest, and says so, when the target dies after ready and before started", async () => {
    await xm("ovs1", "create", writeCfg("vm1", 256));
    const [pid] = guestPids("ovs1");
    // A target that reserves, answers ready, then dies (its server crashed mid-migration).
    connector = () => spawn("sh", ["-c", "read offer; echo ready; read go; exit 1"], { stdio: ["pipe", "pipe", "pipe"] });
    const r = await xm("ovs1", "migrate", "vm1", "ovs2");
    expect(r.code).to.equal(1);
    expect(r.err).to.equal("Migration of domain vm1 failed: connection to ovs2 lost after suspend");
    expect(fs.existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, "utf8"))).to.equal(false);
    expect((await xm("ovs1", "list", "vm1")).code).to.equal(3);
  });

  it("keeps the guest running when ssh cannot connect", async () => {
    await xm("ovs1", "create", writeCfg("vm1", 256));
    connector = () => spawn("sh", ["-c", "echo 'ssh: connect to host 127.77.1.2 port 22: Connection refused' >&2; exit 255"], { stdio: ["pipe", "pipe", "pipe"] });
    expect(await xm("ovs1", "migrate", "vm1", "ovs2")).to.deep.include({ code: 1, err: "can't connect: (111, 'Connection refused')" });
    expect((await xm("ovs1", "list", "vm1")).out).to.match(/\nvm1 +1 +256 +1 +-b----/);
    expect(await xm("ovs1", "migrate", "vm1", "nowhere")).to.deep.include({ code: 1, err: "can't connect: (-2, 'Name or service not known')" });
    expect((await xm("ovs1", "list", "vm1")).out).to.contain("-b----");
  });

  it("serialises concurrent creates: unique ids, one winner per name", async () => {
    const cfgs = ["a", "b", "c", "d"].map((n) => writeCfg(n, 128));
    const dup = writeCfg("same", 128);
    const results = await Promise.all([...cfgs.map((c) => xm("ovs1", "create", c)), xm("ovs1", "create", dup), xm("ovs1", "create", dup)]);
    const ids = results.slice(0, 4).map((r) => Number(/id=(\d+)/.exec(r.out)?.[1]));
    expect(new Set(ids).size).to.equal(4);
    expect(results.slice(4).map((r) => r.code).sort()).to.deep.equal([0, 1]);
    expect((await xm("ovs1", "list")).out.trim().split("\n")).to.have.length(2 + 5);
  });

  it("words ssh connection failures like xend's socket errors", () => {
    expect(connectError("ssh: connect to host 127.77.1.2 port 22: Connection refused\n")).to.equal("can't connect: (111, 'Connection refused')");
    expect(connectError("ssh: connect to host 127.77.1.2 port 22: Connection timed out\n")).to.equal("can't connect: (110, 'Connection timed out')");
  });
});
