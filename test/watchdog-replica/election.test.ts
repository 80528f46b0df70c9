// Leader election, leadership-bound state writes and the fencing-token guard, on a real three-member etcd cluster
// (started here; fails with a clear message when etcd is not installed).
import { expect } from "chai";
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EtcdCluster } from "../support/etcd-cluster";
import { NotLeaderError, Replica } from "../../watchdog/replica/replica";
import { EtcdConfigSchema } from "../../watchdog/replica/etcd-config";
import { guardedCommand, nextTokenCommand, publishTokenCommand, GUARD_REFUSED } from "../../watchdog/replica/fencing-token";
import { probeEtcd } from "../../watchdog/replica/etcd-client";
import { readReplicasStatus } from "../../watchdog/replica/replica-status";
import { waitFor } from "../support/wait-for";

const quiet = { info: () => undefined, warn: () => undefined };

describe("watchdog replicas: election and leadership-bound writes on a real etcd", function () {
  this.timeout(120000);
  let etcd: EtcdCluster;
  const replicas: Replica[] = [];
  let prefix = "";
  const cfg = (name: string, ttl = 2) => EtcdConfigSchema.parse({ endpoints: etcd.endpoints, prefix, name, leaseTtlSeconds: ttl });
  const replica = (name: string, ttl = 2) => {
    const r = new Replica(cfg(name, ttl), quiet, 500);
    replicas.push(r);
    return r;
  };

  before(async () => {
    etcd = await EtcdCluster.start();
  });
  after(async () => {
    for (const r of replicas) await r.close().catch(() => undefined);
    await etcd?.stop();
  });
  beforeEach(() => {
    prefix = `/ovm-ha/test-${Date.now()}`;
  });

  it("elects exactly one leader; its writes land; a deposed leader can write nothing; the standby takes over", async () => {
    const a = replica("a");
    const b = replica("b");
    const first = await Promise.race([a.awaitLeadership().then(() => a), b.awaitLeadership().then(() => b)]);
    const second = first === a ? b : a;
    await new Promise((r) => setTimeout(r, 1500));
    expect(second.leading, "the other replica stands by").to.equal(false);
    await first.commit(JSON.stringify({ servers: {}, guests: { g: { status: { state: "starting" } } } }), false);
    expect(await first.loadState()).to.contain("starting");
    // Writes on change only: the same durable view again is not written.
    const writes = () => Number((first.metrics.stateWrites as unknown as { hashMap: Record<string, { value: number }> }).hashMap[""]?.value ?? 0);
    const before = writes();
    await first.commit(JSON.stringify({ servers: { s: { lastOkAt: 5 } }, guests: { g: { status: { state: "starting" } } } }), false);
    await first.commit(JSON.stringify({ servers: { s: { lastOkAt: 6 } }, guests: { g: { status: { state: "starting" } } } }), false);
    expect(writes() - before, "volatile changes only: one write").to.equal(1);
    // Depose the first behind its back: its key is deleted (as when its lease expires while it is frozen).
    const oldToken = first.token!;
    await first.client.delete().key(first.keys.leader).exec();
    await waitFor("the standby leads", () => second.leading, 10000);
    expect(BigInt(second.token!) > BigInt(oldToken), "the new token is newer").to.equal(true);
    let err: unknown;
    try {
      await first.commit(JSON.stringify({ servers: {}, guests: { g: { status: { state: "running" } } } }), true);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(NotLeaderError);
    expect(first.leading).to.equal(false);
    expect(await second.loadState(), "the deposed write did not land").to.contain("starting");
  });

  it("a leader frozen (SIGSTOP) past its lease: a standby leads within TTL + a poll; resumed, it writes nothing", async () => {
    const child = spawn(process.execPath, [path.join(__dirname, "campaigner.js"), etcd.endpoints.join(","), prefix, "frozen", "2"], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (d) => (out += d.toString()));
    try {
      await waitFor("the child leads", () => out.includes("LEADING"), 20000);
      const b = replica("standby");
      const bLeads = b.awaitLeadership();
      const t0 = Date.now();
      child.kill("SIGSTOP");
      await bLeads;
      const took = Date.now() - t0;
      expect(took, "takeover within TTL (2 s) + one poll (0.5 s) + etcd's own lease granularity").to.be.at.most(2000 + 500 + 2000);
      await b.commit(JSON.stringify({ servers: {}, guests: { mine: { status: { state: "running" } } } }), true);
      child.kill("SIGCONT");
      child.stdin!.write("commit\n");
      await waitFor("the resumed child's write answered", () => out.includes("COMMITTED") || out.includes("REFUSED"), 20000);
      expect(out).to.contain("REFUSED");
      expect(out).to.not.contain("COMMITTED");
      expect(await b.loadState(), "the new leader's state stands").to.contain("mine");
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("`ovm-ha status` in etcd mode shows the leader, each replica with when it was last seen, and etcd's members", async () => {
    // The default TTL here: a 2 s lease can lapse on this loaded machine while two CLIs start (a real, safe step-down).
    const a = replica("status-a", 5);
    await a.awaitLeadership();
    await a.commit(JSON.stringify({ servers: { ovs1: { state: "up", since: 1, misses: 0 } }, guests: { g1: { status: { state: "running", server: "ovs1", since: 1 }, attempts: [], sightings: {} } } }), true);
    replica("status-b", 5);
    const b = replicas[replicas.length - 1];
    void b.awaitLeadership();
    await new Promise((r) => setTimeout(r, 1000));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-status-"));
    try {
      const file = path.join(dir, "wd.json");
      fs.writeFileSync(file, JSON.stringify({ pool: { addresses: ["127.0.0.1"] }, ssh: { agent: true, hostKeyFingerprints: { x: "SHA256:x" } }, stateFile: path.join(dir, "state.json"), etcd: { endpoints: etcd.endpoints, prefix, name: "cli" } }));
      const cli = path.join(__dirname, "..", "..", "cli", "watchdog-command.js");
      // Not spawnSync: this process keeps the replicas' leases alive, and a blocked event loop lets them lapse.
      const run = (args: string[]) =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
          const p = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
          let stdout = "";
          let stderr = "";
          p.stdout!.on("data", (d) => (stdout += d.toString()));
          p.stderr!.on("data", (d) => (stderr += d.toString()));
          p.on("close", (status) => resolve({ status, stdout, stderr }));
        });
      const text = await run(["status", "--config", file]);
      expect(text.status, text.stderr).to.equal(0);
      expect(text.stdout).to.match(/etcd: quorum \(3\/3 members answer\)/);
      expect(text.stdout).to.match(/leader: status-a \(pid \d+/);
      expect(text.stdout).to.match(/standby status-b pid \d+ on .*, last seen \d+ s ago/);
      // The leader's view, from etcd, with when it was written.
      expect(text.stdout).to.match(/the leader's view of the pool, as written to etcd at \S+Z, \d+ s ago/);
      expect(text.stdout).to.contain("guest g1: running (ovs1)");
      const json = await run(["status", "--config", file, "--json"]);
      const doc = JSON.parse(json.stdout) as { replicas: { leader: { name: string; token: string }; replicas: { name: string; lastSeenAgoMs?: number }[]; etcd: { quorum: boolean } } };
      expect(doc.replicas.leader?.name, json.stdout.slice(-600)).to.equal("status-a");
      expect(doc.replicas.leader.token).to.equal(a.token);
      expect(doc.replicas.replicas.map((r) => r.name).sort()).to.deep.equal(["status-a", "status-b"]);
      expect(doc.replicas.replicas.every((r) => typeof r.lastSeenAgoMs === "number")).to.equal(true);
      expect(doc.replicas.etcd.quorum).to.equal(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("one member of three down changes nothing; two down: no quorum, nobody can be elected", async () => {
    await etcd.kill("etcd3");
    const h1 = await probeEtcd(cfg("x"));
    expect(h1.quorum, JSON.stringify(h1)).to.equal(true);
    const a = replica("one-down");
    await a.awaitLeadership();
    await a.commit(JSON.stringify({ servers: {}, guests: { z: {} } }), true);
    await a.close();
    await etcd.kill("etcd2");
    const h2 = await probeEtcd(cfg("x"));
    expect(h2.quorum, "two of three down: no quorum").to.equal(false);
    const st = await readReplicasStatus(cfg("x"));
    expect(st.problems.join("\n")).to.match(/no quorum/);
    const b = replica("no-quorum");
    const won = await Promise.race([b.awaitLeadership().then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
    expect(won, "no leadership without quorum").to.equal(false);
    etcd.startMember("etcd2");
    etcd.startMember("etcd3");
    await etcd.waitHealthy(["etcd1", "etcd2", "etcd3"], 30000);
    await waitFor("elected once quorum is back", () => b.leading, 20000);
  });
});

describe("fencing-token guard (sh + flock on a local file standing in for the shared storage)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-guard-"));
  const file = path.join(dir, ".ovm-ha", "leader-token");
  const run = (argv: string[]) => spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("runs the command for the newest token, refuses an older one, and never lowers the recorded token", () => {
    expect(run(guardedCommand(file, "5", ["true"])).status, "no token file: refused").to.equal(GUARD_REFUSED);
    expect(run(publishTokenCommand(file, "7")).status).to.equal(0);
    const ok = run(guardedCommand(file, "7", ["sh", "-c", 'echo "ran $1"', "x", "it's"]));
    expect(ok.status).to.equal(0);
    expect(ok.stdout.trim()).to.equal("ran it's");
    const old = run(guardedCommand(file, "5", ["touch", path.join(dir, "should-not-exist")]));
    expect(old.status).to.equal(GUARD_REFUSED);
    expect(old.stderr).to.match(/older than 7/);
    expect(fs.existsSync(path.join(dir, "should-not-exist"))).to.equal(false);
    expect(run(publishTokenCommand(file, "6")).status, "a lower token is not recorded").to.equal(GUARD_REFUSED);
    expect(fs.readFileSync(file, "utf8").trim()).to.equal("7");
  });

  it("a new token waits for a guarded command still running under the old one (no check-then-run race)", () => {
    execFileSync(publishTokenCommand(file, "10")[0], publishTokenCommand(file, "10").slice(1));
    const marker = path.join(dir, "slow-done");
    const slow = guardedCommand(file, "10", ["sh", "-c", 'sleep 1; echo done > "$1"', "x", marker]);
    const t0 = Date.now();
    const child = require("child_process").spawn(slow[0], slow.slice(1));
    // Give the guard time to take its shared lock, then publish a newer token.
    execFileSync("sleep", ["0.3"]);
    const pub = run(publishTokenCommand(file, "11"));
    expect(pub.status).to.equal(0);
    expect(fs.existsSync(marker), "the token was written only after the old command ended").to.equal(true);
    expect(Date.now() - t0).to.be.at.least(900);
    child.kill();
  });

  it("a single watchdog's next token: one more than the recorded one, printed; taken only after a guarded command ends", () => {
    const single = path.join(dir, "single", ".ovm-ha", "leader-token");
    const first = run(nextTokenCommand(single));
    expect([first.status, first.stdout.trim()], "no file yet: 1").to.deep.equal([0, "1"]);
    expect(run(nextTokenCommand(single)).stdout.trim()).to.equal("2");
    const marker = path.join(dir, "single-done");
    const slow = guardedCommand(single, "2", ["sh", "-c", 'sleep 1; echo done > "$1"', "x", marker]);
    const child = require("child_process").spawn(slow[0], slow.slice(1));
    execFileSync("sleep", ["0.3"]);
    const next = run(nextTokenCommand(single));
    expect(next.stdout.trim()).to.equal("3");
    expect(fs.existsSync(marker), "the old process's command had ended when the next token was taken").to.equal(true);
    const stale = run(guardedCommand(single, "2", ["touch", path.join(dir, "single-stale")]));
    expect(stale.status, "the previous process's token is refused").to.equal(GUARD_REFUSED);
    expect(fs.existsSync(path.join(dir, "single-stale"))).to.equal(false);
    child.kill();
  });
});
