// Watchdog replicas (separate processes) on a 3-server lab with a real 3-member etcd: the leader SIGKILLed
// mid-failover, the leader frozen (SIGSTOP) past its lease right after deciding a start, one etcd member lost, two
// lost (quorum gone: nobody acts), the leader and a server crashing together, the leader cut from etcd, a standby
// cut from etcd (it cannot lead, says so, and stands by again once back), the leader frozen at the instant its
// power fence leaves (the guard refuses it: the lab's power switch never moves). After each: every guest runs on
// exactly one server, started once after the fault (its run records, written by the guest processes themselves),
// and `lab check` passes with run records present for each guest (so it cannot pass on nothing).
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startTestLab, type TestLab } from "../support/lab";
import { EtcdCluster } from "../support/etcd-cluster";
import { LabPool } from "../watchdog-e2e/lab-pool";
import { ReplicaProcs } from "./replica-procs";
import { BlackholeProxy } from "./blackhole-proxy";
import { readReplicasStatus } from "../../watchdog/replica/replica-status";
import { EtcdConfigSchema } from "../../watchdog/replica/etcd-config";
import { sleep, waitFor } from "../support/wait-for";
import { powerStatus } from "../../lab/power";
import * as net from "net";

/** A free loopback port (for a replica's metrics endpoint). */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** The process is stopped (SIGSTOP): state T in /proc/PID/stat. */
function stopped(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] === "T";
  } catch {
    return false;
  }
}

async function getText(url: string): Promise<string> {
  const r = await fetch(url);
  return r.text();
}

const TTL_S = 3;

describe("watchdog replicas on the lab with a real etcd", function () {
  this.timeout(300000);
  let lab: TestLab;
  let etcd: EtcdCluster;
  let pool: LabPool;
  let procs: ReplicaProcs;
  let dir: string;

  /** Each guest: listed on exactly one server, not `gone`; one new run (server, pid) since t0; lab check ok. */
  async function expectEachOnceElsewhere(guests: string[], gone: string, t0: number): Promise<void> {
    await waitFor(`${guests.join(",")} running elsewhere`, async () => {
      const lists = await Promise.all(["ovs1", "ovs2", "ovs3"].filter((s) => s !== gone).map(async (s) => [s, (await pool.listed(s)) ?? []] as const));
      return guests.every((g) => lists.filter(([, l]) => l.includes(g)).length === 1);
    }, 60000);
    await sleep(3000); // a late duplicate start would show in this window
    for (const g of guests) {
      const runs = new Set(pool.runlog(g).filter((r) => r.ms > t0 && r.server !== gone).map((r) => `${r.server}/${r.pid}`));
      expect([...runs], `${g} started exactly once after the fault`).to.have.length(1);
      const where: string[] = [];
      for (const s of ["ovs1", "ovs2", "ovs3"].filter((x) => x !== gone)) if ((await pool.listed(s))?.includes(g)) where.push(s);
      expect(where, `${g} listed on one server`).to.have.length(1);
    }
    const c = await lab.check();
    expect(c.ok, c.report).to.equal(true);
    for (const g of guests) expect(pool.runlog(g).length, `${g} has run records (the check is not vacuous)`).to.be.greaterThan(0);
  }

  async function guestsOn(server: string, names: string[]): Promise<void> {
    for (const g of names) {
      pool.addGuest(g);
      await pool.startGuest(g, server);
    }
  }

  async function leaderName(): Promise<string> {
    return (await waitFor("a leader", () => procs.leader(), 30000)).name;
  }

  async function leaderReady(): Promise<string> {
    const name = await leaderName();
    await waitFor(`${name} published its token`, () => procs.events(name, "token-published").length > 0, 30000);
    await sleep(3000); // a few heartbeats: the guests are known running
    return name;
  }

  const crashed = new Set<string>();
  async function crash(server: string): Promise<void> {
    crashed.add(server);
    await lab.fault("crash", server);
  }
  async function powerBack(server: string): Promise<void> {
    crashed.delete(server);
    await lab.fault("power-on", server);
    await waitFor(`${server} answers`, async () => (await pool.listed(server)) !== undefined, 30000);
    await sleep(4000);
  }

  before(async () => {
    etcd = await EtcdCluster.start();
    lab = await startTestLab({ servers: 3 });
    pool = new LabPool(lab);
    pool.writePool();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-replicas-"));
    const base = pool.config({ stateDir: dir });
    base.etcd = EtcdConfigSchema.parse({ endpoints: etcd.endpoints, leaseTtlSeconds: TTL_S });
    procs = new ReplicaProcs(base, dir, `/ovm-ha/lab-${Date.now()}`);
    procs.start("r1");
    procs.start("r2");
    await leaderReady();
  });

  // A failed case must not leave its server down for the next one (2 of 3 down is a hold, by design).
  afterEach(async function () {
    if (this.currentTest?.state === "failed") {
      for (const p of new Set(procs.procs.map((x) => x.logFile))) process.stderr.write(`--- ${p} ---\n${fs.existsSync(p) ? fs.readFileSync(p, "utf8").split("\n").filter((l) => !/heartbeat-|server-degraded|server-healthy/.test(l)).slice(-50).join("\n") : ""}\n`);
    }
    for (const s of [...crashed]) await powerBack(s).catch(() => undefined);
  });

  after(async function () {
    if (this.currentTest?.state === "failed" || process.env.OVM_HA_E2E_LOG) {
      for (const p of procs?.procs ?? []) process.stderr.write(`--- ${p.name} ---\n${fs.existsSync(p.logFile) ? fs.readFileSync(p.logFile, "utf8").split("\n").slice(-60).join("\n") : ""}\n`);
    }
    await procs?.stopAll();
    await lab?.down();
    await etcd?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the leader SIGKILLed mid-failover: the standby completes it, each guest once", async () => {
    await guestsOn("ovs2", ["k1", "k2", "k3"]);
    const leader = await leaderReady();
    const standby = leader === "r1" ? "r2" : "r1";
    const t0 = Date.now();
    await crash("ovs2");
    await waitFor(`${leader} decides a start`, () => procs.events(leader, "guest-start", t0).length > 0, 30000, 20);
    procs.get(leader).proc.kill("SIGKILL");
    await waitFor(`${standby} leads`, async () => (await procs.leader())?.name === standby, (TTL_S + 10) * 1000);
    await expectEachOnceElsewhere(["k1", "k2", "k3"], "ovs2", t0);
    procs.start(leader); // back as a standby
    await powerBack("ovs2");
  });

  it("the leader frozen (SIGSTOP) right after deciding, past its lease, then resumed: it does nothing; the new leader carries on", async () => {
    await guestsOn("ovs3", ["s1", "s2"]);
    const leader = await leaderReady();
    const t0 = Date.now();
    await crash("ovs3");
    await waitFor(`${leader} decides a start`, () => procs.events(leader, "guest-start", t0).length > 0, 30000, 20);
    procs.get(leader).proc.kill("SIGSTOP");
    const next = await waitFor("another leader", async () => {
      const l = await procs.leader();
      return l && l.name !== leader ? l.name : undefined;
    }, (TTL_S + 10) * 1000);
    await expectEachOnceElsewhere(["s1", "s2"], "ovs3", t0);
    const resumedAt = Date.now();
    procs.get(leader).proc.kill("SIGCONT");
    await waitFor(`${leader} knows it is deposed`, () => procs.events(leader, "leader-deposed", resumedAt - 1000).length > 0, 20000);
    await sleep(3000);
    // Answers to commands sent before the freeze may be logged after it (command-done carries its duration): a
    // command counts as acting after the resume only if it was sent after it.
    const sentAt = (l: { time?: string; ms?: unknown }) => Date.parse(l.time ?? "0") - Number(l.ms ?? 0);
    const acted = procs.log(leader).filter((l) => (["command-done", "command-failed"].includes(l.event ?? "") && sentAt(l) >= resumedAt) || (l.event === "fence-command" && Date.parse(l.time ?? "0") >= resumedAt));
    expect(acted.map((l) => `${l.event} ${l.server} ${String(l.command).split(" ").slice(-3).join(" ")}`), `${leader} acted after it resumed`).to.have.length(0);
    expect((await procs.leader())?.name).to.equal(next);
    await expectEachOnceElsewhere(["s1", "s2"], "ovs3", t0);
    await powerBack("ovs3");
  });

  it("one etcd member killed changes nothing: a crash is failed over as usual", async () => {
    await guestsOn("ovs2", ["m1"]);
    await leaderReady();
    await etcd.kill("etcd1");
    const t0 = Date.now();
    await crash("ovs2");
    await expectEachOnceElsewhere(["m1"], "ovs2", t0);
    etcd.startMember("etcd1");
    await etcd.waitHealthy(["etcd1", "etcd2", "etcd3"], 30000);
    await powerBack("ovs2");
  });

  it("two etcd members killed: no replica acts, status says no quorum; quorum back: the failover proceeds, once", async () => {
    await guestsOn("ovs3", ["q1"]);
    await leaderReady();
    await etcd.kill("etcd2");
    await etcd.kill("etcd3");
    const t0 = Date.now();
    await crash("ovs3");
    await sleep(12000);
    for (const p of procs.procs) {
      const acted = procs.log(p.name).filter((l) => Date.parse(l.time ?? "0") >= t0 + TTL_S * 1000 + 2000 && ["command-done", "fence-command"].includes(l.event ?? ""));
      expect(acted, `${p.name} acted without quorum`).to.have.length(0);
    }
    expect(pool.runlog("q1").filter((r) => r.ms > t0 && r.server !== "ovs3"), "q1 not started anywhere without quorum").to.have.length(0);
    const st = await readReplicasStatus(procs.base.etcd!);
    expect(st.etcd.quorum).to.equal(false);
    expect(st.problems.join("\n")).to.match(/NO QUORUM|no quorum/i);
    etcd.startMember("etcd2");
    etcd.startMember("etcd3");
    await etcd.waitHealthy(["etcd1", "etcd2", "etcd3"], 30000);
    await expectEachOnceElsewhere(["q1"], "ovs3", t0);
    await powerBack("ovs3");
  });

  it("the leader and a server crash at the same moment: the standby fails the server over, each guest once", async () => {
    await guestsOn("ovs2", ["c1", "c2"]);
    const leader = await leaderReady();
    const t0 = Date.now();
    procs.get(leader).proc.kill("SIGKILL");
    await crash("ovs2");
    await expectEachOnceElsewhere(["c1", "c2"], "ovs2", t0);
    procs.start(leader);
    await powerBack("ovs2");
  });

  it("the leader cut from etcd (still reaching the servers) while a server crashes: it does nothing; a standby fails over, once", async () => {
    for (const p of [...new Set(procs.procs.map((x) => x.name))]) await procs.stop(p);
    const proxy = await BlackholeProxy.start(etcd.endpoints);
    try {
      procs.start("cut", proxy.endpoints);
      await waitFor("the proxied replica leads", async () => (await procs.leader())?.name === "cut", 30000);
      await waitFor("cut published its token", () => procs.events("cut", "token-published").length > 0, 30000);
      procs.start("r1");
      await guestsOn("ovs3", ["x1", "x2"]);
      await sleep(4000);
      const cutAt = Date.now();
      proxy.cut();
      const t0 = Date.now();
      await crash("ovs3");
      await expectEachOnceElsewhere(["x1", "x2"], "ovs3", t0);
      expect((await procs.leader())?.name).to.equal("r1");
      const sentAt = (l: { time?: string; ms?: unknown }) => Date.parse(l.time ?? "0") - Number(l.ms ?? 0);
      const acted = procs.log("cut").filter((l) => (["command-done", "command-failed"].includes(l.event ?? "") && sentAt(l) >= cutAt) || (l.event === "fence-command" && Date.parse(l.time ?? "0") >= cutAt));
      expect(acted.map((l) => `${l.event} ${l.server}`), "the cut replica acted").to.have.length(0);
      expect(procs.events("cut", "leader-deposed", cutAt).length, "the cut replica knows it no longer leads").to.be.greaterThan(0);
      await powerBack("ovs3");
    } finally {
      await procs.stop("cut").catch(() => undefined);
      await proxy.close();
    }
  });

  it("a standby cut from etcd: it cannot lead (not even with the leadership free), its status says so, the pool is untouched; back, it stands by again", async () => {
    const proxy = await BlackholeProxy.start(etcd.endpoints);
    const port = await freePort();
    try {
      const leader = await leaderReady();
      for (const p of [...new Set(procs.procs.map((x) => x.name))]) if (p !== leader) await procs.stop(p); // sc is the only standby
      await guestsOn("ovs2", ["y1"]);
      procs.start("sc", proxy.endpoints, { metricsPort: port });
      type StandbyDoc = { replica: { role: string; problems: string[] }; replicas?: { leader?: { name: string }; leaderView?: { servers: unknown[]; writtenAt?: number } } };
      const status = async () => JSON.parse(await getText(`http://127.0.0.1:${port}/status`)) as StandbyDoc;
      await waitFor("sc stands by, seeing the leader and its view", async () => {
        const d = await status().catch(() => undefined);
        return d?.replica.role === "standby" && d.replicas?.leader?.name === leader && (d.replicas.leaderView?.servers.length ?? 0) > 0;
      }, 30000);
      const m0 = await getText(`http://127.0.0.1:${port}/metrics`);
      const etcdLines = (m: string) => m.split("\n").filter((l) => /^ovmha_(etcd|is_leader|leader)/.test(l)).join("\n");
      expect(m0, etcdLines(m0)).to.match(/^ovmha_is_leader 0$/m);
      expect(m0, etcdLines(m0)).to.match(/^ovmha_etcd_quorum 1$/m);
      proxy.cut();
      await waitFor("sc says it is cut from etcd", async () => (await status()).replica.problems.some((p) => /cut from etcd.*cannot become the leader/.test(p)), 20000);
      // The leadership falls free: a standby that could reach etcd would take it.
      await procs.stop(leader);
      await sleep((TTL_S + 3) * 1000);
      expect(await procs.leader(), "a replica leads while the only other one is cut from etcd").to.equal(undefined);
      const m1 = await getText(`http://127.0.0.1:${port}/metrics`);
      expect(m1, etcdLines(m1)).to.match(/^ovmha_is_leader 0$/m);
      expect(m1, etcdLines(m1)).to.match(/^ovmha_etcd_quorum 0$/m);
      const st = await status();
      expect(st.replica.role).to.equal("standby");
      procs.start(leader);
      await leaderReady();
      expect((await procs.leader())?.name).to.equal(leader);
      proxy.heal();
      await waitFor("sc stands by again, etcd reachable", async () => {
        const d = await status().catch(() => undefined);
        return d?.replica.role === "standby" && d.replica.problems.length === 0 && d.replicas?.leader?.name === leader;
      }, 30000);
      // Fresh connections through the healed relay may take a scrape or two.
      const m2 = await waitFor("sc's metrics show etcd's quorum again", async () => {
        const m = await getText(`http://127.0.0.1:${port}/metrics`);
        return /^ovmha_etcd_quorum 1$/m.test(m) ? m : undefined;
      }, 20000, 500);
      expect(Number(/^ovmha_leaderless_seconds_total ([\d.]+)$/m.exec(m2)?.[1] ?? "0"), "sc counted time without a leader").to.be.greaterThan(0);
      expect(procs.events("sc", "leader-elected").length, "sc led at some point").to.equal(0);
      const acted = procs.log("sc").filter((l) => ["command-done", "command-failed", "fence-command", "token-published"].includes(l.event ?? ""));
      expect(acted.map((l) => l.event), "sc acted").to.have.length(0);
      // Nothing changed for the pool: y1 still the one run it was (same server and pid), listed on ovs2 only.
      const runs = new Set(pool.runlog("y1").map((r) => `${r.server}/${r.pid}`));
      expect([...runs], "y1 ran once, on ovs2").to.have.length(1);
      expect([...runs][0]).to.match(/^ovs2\//);
      for (const s of ["ovs1", "ovs3"]) expect((await pool.listed(s)) ?? [], `y1 on ${s}`).not.to.include("y1");
      expect(await pool.listed("ovs2")).to.include("y1");
      const c = await lab.check();
      expect(c.ok, c.report).to.equal(true);
    } finally {
      await procs.stop("sc").catch(() => undefined);
      await proxy.close();
    }
  });

  it("the leader frozen at the instant its power fence leaves, past its lease, then resumed: the guard refuses the fence (the lab's switch never moves); the new leader carries on", async () => {
    for (const p of [...new Set(procs.procs.map((x) => x.name))]) await procs.stop(p);
    // fz stops itself (SIGSTOP) after every watchdog-side check, just before its fence's off is sent.
    const fz = procs.start("fz", undefined, { env: { OVM_HA_FAULT_FREEZE: "fence" } });
    await waitFor("fz leads", async () => (await procs.leader())?.name === "fz", 30000);
    await waitFor("fz published its token", () => procs.events("fz", "token-published").length > 0, 30000);
    procs.start("r1");
    await guestsOn("ovs3", ["z1"]);
    await sleep(4000);
    const t0 = Date.now();
    await lab.fault("hang", "ovs3"); // dom0 frozen: no answer; its guest runs on
    try {
      await waitFor("fz frozen at its fence of ovs3", () => stopped(fz.proc.pid!), 30000, 20);
    } finally {
      await lab.fault("heal", "ovs3"); // answers again before the next leader's first heartbeat: no reason to fence it
    }
    await waitFor("r1 leads", async () => (await procs.leader())?.name === "r1", (TTL_S + 10) * 1000);
    await waitFor("r1 published its token", () => procs.events("r1", "token-published", t0).length > 0, 30000);
    await sleep(3000);
    const resumedAt = Date.now();
    fz.proc.kill("SIGCONT");
    const result = await waitFor("fz's fence answered", () => procs.events("fz", "fence-command-result", resumedAt - 1000)[0], 30000);
    await sleep(2000);
    // The world: the lab's switch (its log of every off/on) and the power state, not what fz believes.
    const logFile = path.join(lab.dir, "power.log");
    const offs = (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as { at: number; action: string; server: string }) : []).filter((l) => l.at >= t0 && l.server === "ovs3");
    expect(offs, "the lab's power switch was used on ovs3").to.have.length(0);
    expect(await powerStatus(lab.info, "ovs3")).to.equal("Chassis Power is on\n");
    expect(String(result.detail), "the guard's refusal").to.match(/older than .* refused/);
    expect((await procs.leader())?.name, "the new leader still leads").to.equal("r1");
    // Run records are written by the running guest; a restart shows as another server or pid after t0.
    const before = pool.runlog("z1").filter((r) => r.ms <= t0).map((r) => `${r.server}/${r.pid}`);
    const since = new Set(pool.runlog("z1").filter((r) => r.ms > t0).map((r) => `${r.server}/${r.pid}`));
    expect([...since].filter((x) => !before.includes(x)), "z1 started again after the fault").to.have.length(0);
    await waitFor("z1 listed on ovs3", async () => (await pool.listed("ovs3"))?.includes("z1"), 30000);
    for (const s of ["ovs1", "ovs2"]) expect((await pool.listed(s)) ?? [], `z1 on ${s}`).not.to.include("z1");
    const c = await lab.check();
    expect(c.ok, c.report).to.equal(true);
    expect(pool.runlog("z1").length, "z1 has run records (the check is not vacuous)").to.be.greaterThan(0);
  });
});
