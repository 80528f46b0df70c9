// ServerPool end to end on the lab, through the engine harness and the SDK's real dynamic-provider host:
// verification reports every problem at once, propagation from the master (files, and the cluster root mounted
// and linked on members that lacked it), the HA record, the drain hook, an idempotent re-run, adding a server,
// and removing a server whose guests are migrated away first.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { Stack } from "../engine";
import { startTestLab, TestLab } from "../support/lab";
import { ServerPool } from "../../provider/resources/server-pool";
import { PoolRecordSchema } from "../../ha/ha-record";
import { formatClusterConf } from "../../provider/parsers";
import { ok } from "../support/engine-ok";
import { waitFor } from "../support/wait-for";
import { hwWatchdogStatus } from "../../lab/hw-watchdog-control";

const projectDir = path.resolve(__dirname, "../../..");

describe("ServerPool on the lab (engine harness)", function () {
  this.timeout(170000);
  let lab: TestLab;
  let stack: Stack;
  let root = "";
  const names = () => lab.info.servers.map((s) => s.name);
  const srv = (i: number) => ({ name: lab.info.servers[i].name, address: lab.info.servers[i].address });
  const sh = async (server: string, script: string) => {
    const r = await lab.inServer(server, ["sh", "-c", script]);
    if (r.code !== 0) throw new Error(`${server}: ${script}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const program = (o: { members: number[]; ha?: boolean }) => () => {
    new ServerPool("pool", { name: "pool1", master: srv(0), members: o.members.map(srv), cluster: "ocfs2", clusterRoot: root, ha: o.ha ?? true });
  };
  /** A full cluster.conf of all lab servers, o2cb online and enabled; the NFS cluster root registered (ovs-makerepo) unless told. */
  const prepare = async (i: number, o: { mount: boolean }) => {
    const conf = formatClusterConf({
      cluster: { name: "ocfs2", nodeCount: lab.info.servers.length, heartbeatMode: "local" },
      nodes: lab.info.servers.map((s, n) => ({ name: s.name, number: n, ipAddress: s.address, ipPort: 7777, cluster: "ocfs2" })),
    });
    const name = lab.info.servers[i].name;
    await sh(name, `mkdir -p /etc/ocfs2 && cat > /etc/ocfs2/cluster.conf <<'EOF2'\n${conf}EOF2\nservice o2cb online ocfs2 >/dev/null`);
    // O2CB enabled on boot, as the Cluster resource leaves it (ovs-cluster-check demands it).
    await sh(name, "mkdir -p /etc/sysconfig && printf 'O2CB_ENABLED=true\\nO2CB_BOOTCLUSTER=ocfs2\\n' > /etc/sysconfig/o2cb");
    if (o.mount) {
      const out = await sh(name, `/usr/lib/ovs/ovs-makerepo ${lab.info.storage.nfs.export} C "pool root"`);
      root = /mounted at (\S+)/.exec(out)![1];
    }
  };
  const mtime = (server: string, file: string) => sh(server, `stat -c %Y.%Z ${file} 2>/dev/null || echo none`);

  before(async () => {
    lab = await startTestLab({ servers: 4, memoryMb: 4096 });
    stack = new Stack({ project: "pool-lab", projectDir });
    stack.setConfig("sshPrivateKey", fs.readFileSync(lab.info.privateKeyPath, "utf8"), { secret: true });
    stack.setConfig("sshKnownHosts", lab.info.knownHostsPath);
    // As the Cluster resource leaves them (seed 9.3: the ovs-* scripts run on the master only): the members have
    // o2cb online but neither the cluster root registered nor mounted; the pool's propagation does that.
    await prepare(0, { mount: true });
    await prepare(1, { mount: false });
    await prepare(2, { mount: false });
    await prepare(3, { mount: false });
  });
  after(async () => {
    await lab?.down();
  });

  it("create reports every server's problem in one error and changes nothing", async () => {
    // o2cb offline on two members: a problem propagation cannot fix. (A member without the cluster root is not one.)
    await sh(names()[2], "service o2cb offline ocfs2 >/dev/null");
    await sh(names()[3], "service o2cb offline ocfs2 >/dev/null");
    try {
      const r = await stack.up(program({ members: [1, 2, 3] }));
      expect(r.errors).to.have.length(1);
      const msg = r.errors[0].message;
      expect(msg).to.match(/verification found 2 problem.*nothing was changed/);
      expect(msg).to.include(`${names()[2]}: o2cb cluster ocfs2 is offline`);
      expect(msg).to.include(`${names()[3]}: o2cb cluster ocfs2 is offline`);
      expect(msg).to.not.include("cluster root");
      expect(stack.resources.filter((x) => x.custom)).to.have.length(0);
      expect(await sh(names()[0], `[ -e ${root}/.ovm-ha/pool.json ] && echo yes || echo no`)).to.equal("no\n");
      for (const i of [1, 2, 3]) {
        expect(await sh(names()[i], "[ -e /etc/rc.d/init.d/ovm-ha-drain ] || [ -e /etc/ovs/repositories ] && echo yes || echo no")).to.equal("no\n");
        expect(await sh(names()[i], `grep -c ' ${root} ' /etc/mtab || true`)).to.equal("0\n");
      }
    } finally {
      await sh(names()[2], "service o2cb online ocfs2 >/dev/null");
      await sh(names()[3], "service o2cb online ocfs2 >/dev/null");
    }
  });

  it("create propagates from the master: files, the cluster root mounted and linked on the member, record, hook", async () => {
    // ovs2's cluster.conf differs from the master's: the master's wins (seed 9.4). It has no repositories at all.
    await sh(names()[1], "echo '# stale' >> /etc/ocfs2/cluster.conf");
    const s0 = names()[0];
    const s1 = names()[1];
    expect(await sh(s1, `[ -e /etc/ovs/repositories ] || [ -e /OVS/running_pool ] || grep -q ' ${root} ' /etc/mtab && echo yes || echo no`)).to.equal("no\n");
    ok(await stack.up(program({ members: [1] })));
    for (const f of ["/etc/ovs/repositories", "/etc/ovs/repositories.options", "/etc/ocfs2/cluster.conf"]) {
      expect(await sh(s1, `cat ${f}`), f).to.equal(await sh(s0, `cat ${f}`));
    }
    // What a Guest needs on the member: the cluster root mounted, /OVS/running_pool a directory inside it.
    expect(await sh(s1, `awk '$2 == "${root}" {print $3}' /etc/mtab`)).to.equal("nfs\n");
    expect(await sh(s1, "readlink -e /OVS/running_pool")).to.equal(`${root}/running_pool\n`);
    expect(await sh(s1, "[ -d /OVS/running_pool/ ] && echo dir")).to.equal("dir\n");
    const clusterCheck = await sh(s1, "cd / && /usr/lib/ovs/ovs-cluster-check 2>&1; echo exit=$?");
    expect(clusterCheck, clusterCheck).to.match(/exit=0\n$/);
    const rec = PoolRecordSchema.parse(JSON.parse(await sh(s1, `cat ${root}/.ovm-ha/pool.json`)));
    expect(rec.haEnabled).to.equal(true);
    expect(rec.servers.map((s) => [s.name, s.role])).to.deep.equal([[s0, "master"], [s1, "member"]]);
    expect(rec.generation).to.equal(1);
    const outs = stack.resource("pool")!.outputs;
    expect(outs.haRecordPath).to.equal(`${root}/.ovm-ha/pool.json`);
    expect((outs.servers as { name: string; totalMemoryMb: number; nrCpus: number }[]).map((s) => [s.name, s.totalMemoryMb, s.nrCpus])).to.deep.equal([[s0, 4096, 4], [s1, 4096, 4]]);
    for (const s of [s0, s1]) {
      expect(await sh(s, "readlink /etc/rc.d/rc0.d/K01ovm-ha-drain; readlink /etc/rc.d/rc6.d/K01ovm-ha-drain; [ -x /etc/rc.d/init.d/ovm-ha-drain ] && echo x")).to.equal(
        "/etc/rc.d/init.d/ovm-ha-drain\n/etc/rc.d/init.d/ovm-ha-drain\nx\n",
      );
      expect(await sh(s, "/etc/rc.d/init.d/ovm-ha-drain status && echo armed")).to.equal("armed\n");
      // The self-fencing agent: enabled at boot, running, its slot `ready` (seed 9.4: files and repositories match).
      expect(await sh(s, "readlink /etc/rc.d/rc3.d/S98ovm-ha-agent; readlink /etc/rc.d/rc0.d/K02ovm-ha-agent; /etc/rc.d/init.d/ovm-ha-agent status >/dev/null && echo running")).to.equal(
        "/etc/rc.d/init.d/ovm-ha-agent\n/etc/rc.d/init.d/ovm-ha-agent\nrunning\n",
      );
      await waitFor(`${s}'s agent slot ready`, async () => /"state":"ready"/.test(await sh(s, `cat ${root}/.ovm-ha/slots/${s}.json 2>/dev/null || true`)), 20000);
    }
  });

  it("a second up changes nothing on the servers (same files, same mtimes, same generation)", async () => {
    const files = ["/etc/ovs/repositories", "/etc/ovs/repositories.options", "/etc/ocfs2/cluster.conf", "/etc/rc.d/init.d/ovm-ha-drain", `${root}/.ovm-ha/pool.json`, "/OVS/running_pool"];
    const before = await Promise.all(files.map((f) => mtime(names()[1], f)));
    const mtabBefore = await sh(names()[1], "cat /etc/mtab");
    await new Promise((r) => setTimeout(r, 1100));
    const r = ok(await stack.up(program({ members: [1] })));
    expect(r.ops("same").map((s) => s.name)).to.deep.equal(["pool"]);
    expect(await Promise.all(files.map((f) => mtime(names()[1], f)))).to.deep.equal(before);
    expect(await sh(names()[1], "cat /etc/mtab")).to.equal(mtabBefore);
    // A refresh reads the record in sync: preview stays empty.
    ok(await stack.refresh());
    expect(ok(await stack.preview(program({ members: [1] }))).ops("same")).to.have.length(1);
  });

  it("toggling HA rewrites the record only, with the generation bumped", async () => {
    const hook = await mtime(names()[1], "/etc/rc.d/init.d/ovm-ha-drain");
    ok(await stack.up(program({ members: [1], ha: false })));
    const rec = PoolRecordSchema.parse(JSON.parse(await sh(names()[0], `cat ${root}/.ovm-ha/pool.json`)));
    expect([rec.haEnabled, rec.generation]).to.deep.equal([false, 2]);
    expect(await mtime(names()[1], "/etc/rc.d/init.d/ovm-ha-drain")).to.equal(hook);
  });

  it("adding a server verifies, propagates to it (cluster root mounted and linked) and installs its hook", async () => {
    const s1Files = await Promise.all(["/etc/ovs/repositories", "/etc/ocfs2/cluster.conf"].map((f) => mtime(names()[1], f)));
    ok(await stack.up(program({ members: [1, 2] })));
    expect(await sh(names()[2], "cat /etc/ovs/repositories")).to.equal(await sh(names()[0], "cat /etc/ovs/repositories"));
    expect(await sh(names()[2], "readlink -e /OVS/running_pool")).to.equal(`${root}/running_pool\n`);
    // The member already in the pool is not touched.
    expect(await Promise.all(["/etc/ovs/repositories", "/etc/ocfs2/cluster.conf"].map((f) => mtime(names()[1], f)))).to.deep.equal(s1Files);
    const rec = PoolRecordSchema.parse(JSON.parse(await sh(names()[0], `cat ${root}/.ovm-ha/pool.json`)));
    expect(rec.servers.map((s) => s.name)).to.deep.equal(names().slice(0, 3));
    expect(rec.generation).to.equal(3);
    expect(await sh(names()[2], "readlink /etc/rc.d/rc0.d/K01ovm-ha-drain")).to.equal("/etc/rc.d/init.d/ovm-ha-drain\n");
  });

  it("removing a server migrates its guests away first, then drops it from the record", async () => {
    const s2 = names()[2];
    for (const g of ["rm1", "rm2"]) {
      await sh(s2, `mkdir -p /OVS/running_pool/${g} && truncate -s 8M /OVS/running_pool/${g}/System.img && printf "name = '${g}'\\nmemory = 512\\nvcpus = 1\\ndisk = ['file:/OVS/running_pool/${g}/System.img,xvda,w']\\n" > /OVS/running_pool/${g}/vm.cfg && xm create /OVS/running_pool/${g}/vm.cfg >/dev/null`);
    }
    ok(await stack.up(program({ members: [1] })));
    expect(await sh(s2, "xm list | tail -n +2 | awk '{print $1}'")).to.equal("Domain-0\n");
    const elsewhere = (await sh(names()[0], "xm list | awk '{print $1}'")) + (await sh(names()[1], "xm list | awk '{print $1}'"));
    expect(elsewhere).to.include("rm1").and.to.include("rm2");
    const rec = PoolRecordSchema.parse(JSON.parse(await sh(names()[0], `cat ${root}/.ovm-ha/pool.json`)));
    expect(rec.servers.map((s) => s.name)).to.deep.equal(names().slice(0, 2));
    expect(await sh(s2, "[ -e /etc/rc.d/rc0.d/K01ovm-ha-drain ] && echo yes || echo no")).to.equal("no\n");
    // The directories installing the hook created are gone with it; the lab's own rc0.d/rc6.d stay.
    expect(await sh(s2, "for d in /etc/rc.d/init.d /etc/rc.d/rc3.d /etc/rc.d/rc5.d /etc/rc.d/rc0.d /etc/rc.d/rc6.d; do [ -d $d ] && echo $d; done; true")).to.equal("/etc/rc.d/rc0.d\n/etc/rc.d/rc6.d\n");
    const check = await lab.check({ guests: ["rm1", "rm2"] });
    expect(check.ok, check.report).to.equal(true);
  });

  it("a removal that would strand a guest fails naming guest and server, and moves nothing", async () => {
    // ovs2 leaves with a 1000 MB guest while ovs1 (the master, which stays) has 560 MB free.
    const start = (server: string, g: string, mb: number) =>
      sh(server, `mkdir -p /OVS/running_pool/${g} && truncate -s 8M /OVS/running_pool/${g}/System.img && printf "name = '${g}'\\nmemory = ${mb}\\nvcpus = 1\\ndisk = ['file:/OVS/running_pool/${g}/System.img,xvda,w']\\n" > /OVS/running_pool/${g}/vm.cfg && xm create /OVS/running_pool/${g}/vm.cfg >/dev/null`);
    const s0 = names()[0];
    const s1 = names()[1];
    await start(s0, "fill", 2000);
    await start(s1, "big", 1000);
    const r = await stack.up(program({ members: [] }));
    expect(r.errors).to.have.length(1);
    expect(r.errors[0].message).to.match(new RegExp(`would strand 1 guest.*guest big on ${s1}: 1000 MB fits on no server of the pool \\(${s0} has 560 MB free\\)`, "s"));
    expect(await sh(s1, "xm list | awk '{print $1}'")).to.include("big");
    const rec = PoolRecordSchema.parse(JSON.parse(await sh(names()[0], `cat ${root}/.ovm-ha/pool.json`)));
    expect(rec.servers.map((s) => s.name)).to.deep.equal(names().slice(0, 2));
  });

  it("destroy removes the record, the hooks and the directories their install created, nothing else", async () => {
    const created = stack.resource("pool")!.outputs.hookDirsCreated as Record<string, string[]>;
    expect(created[names()[0]], "recorded in state").to.include("/etc/rc.d/init.d");
    const record = `${root}/.ovm-ha/pool.json`;
    ok(await stack.destroy());
    for (const s of names().slice(0, 2)) {
      expect(await sh(s, `[ -e ${record} ] || [ -e /etc/rc.d/init.d ] || [ -e /etc/rc.d/rc3.d ] && echo left || echo clean`), s).to.equal("clean\n");
      // The agents stopped cleanly (devices disarmed) and their slots and the propagated files are gone.
      expect(await sh(s, `[ -e ${root}/.ovm-ha/slots/${s}.json ] || [ -e ${root}/.ovm-ha/propagated.json ] || [ -e /etc/rc.d/rc0.d/K02ovm-ha-agent ] && echo left || echo clean`), s).to.equal("clean\n");
      await waitFor(`${s}'s watchdog disarmed`, () => !hwWatchdogStatus(lab.dir, s).armed, 5000);
      expect(hwWatchdogStatus(lab.dir, s), s).to.include({ armed: false, open: false, resets: 0 });
      expect(await sh(s, "[ -d /etc/rc.d/rc0.d ] && [ -d /etc/rc.d/rc6.d ] && [ -e /etc/ovs/repositories ] && echo kept"), s).to.equal("kept\n");
    }
  });

  it("no secret in state, logs or host output", async () => {
    const key = fs.readFileSync(lab.info.privateKeyPath, "utf8").trim().split("\n")[1];
    expect(stack.recordedText()).to.not.include(key);
  });
});
