// Guest end to end on the lab through the engine harness: placement by preferred list and by auto, no restart on
// a second up, memory update rewrites vm.cfg only, a move by hand (as the watchdog would) is no change, drift
// by hand shows in read, destroy stops the guest and removes its files, memory that fits nowhere fails first.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { Stack } from "../engine";
import { startTestLab, TestLab } from "../support/lab";
import { ServerPool } from "../../provider/resources/server-pool";
import { Guest, GuestArgs } from "../../provider/resources/guest";
import { GuestRecordSchema } from "../../ha/ha-record";
import { formatClusterConf } from "../../provider/parsers";
import { ok } from "../support/engine-ok";

const projectDir = path.resolve(__dirname, "../../..");

describe("Guest on the lab (engine harness)", function () {
  this.timeout(170000);
  let lab: TestLab;
  let stack: Stack;
  let root = "";
  const n = (i: number) => lab.info.servers[i].name;
  const srv = (i: number) => ({ name: n(i), address: lab.info.servers[i].address });
  const sh = async (server: string, script: string) => {
    const r = await lab.inServer(server, ["sh", "-c", script]);
    if (r.code !== 0) throw new Error(`${server}: ${script}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  type G = Partial<GuestArgs> & { name: string };
  const program = (guests: G[]) => () => {
    const pool = new ServerPool("pool", { name: "pool1", master: srv(0), members: [srv(1), srv(2)], cluster: "ocfs2", clusterRoot: root, ha: true });
    for (const g of guests) new Guest(g.name, { pool: pool.guestPool, memory: 512, vcpus: 1, disk: { sizeMB: 16 }, ha: true, ...g });
  };
  const domains = async (i: number) => (await sh(n(i), "xm list | tail -n +2 | awk '{print $1\" \"$2}'")).trim().split("\n").filter((l) => !l.startsWith("Domain-0"));
  const where = async (g: string) => {
    for (const i of [0, 1, 2]) for (const d of await domains(i)) if (d.split(" ")[0] === g) return { server: n(i), id: d.split(" ")[1] };
    return undefined;
  };

  before(async () => {
    lab = await startTestLab({ servers: 3, memoryMb: 4096 });
    stack = new Stack({ project: "guest-lab", projectDir });
    stack.setConfig("sshPrivateKey", fs.readFileSync(lab.info.privateKeyPath, "utf8"), { secret: true });
    stack.setConfig("sshKnownHosts", lab.info.knownHostsPath);
    const conf = formatClusterConf({
      cluster: { name: "ocfs2", nodeCount: 3, heartbeatMode: "local" },
      nodes: lab.info.servers.map((s, i) => ({ name: s.name, number: i, ipAddress: s.address, ipPort: 7777, cluster: "ocfs2" })),
    });
    for (const s of lab.info.servers) {
      const out = await sh(s.name, `mkdir -p /etc/ocfs2 && cat > /etc/ocfs2/cluster.conf <<'EOF2'\n${conf}EOF2\nservice o2cb online ocfs2 >/dev/null && /usr/lib/ovs/ovs-makerepo ${lab.info.storage.nfs.export} C "pool root"`);
      root = /mounted at (\S+)/.exec(out)![1];
    }
    // ovs1 gets a 2000 MB guest that is not ours: auto placement must avoid it.
    await sh(n(0), `mkdir -p /OVS/running_pool/other && truncate -s 8M /OVS/running_pool/other/System.img && printf "name = 'other'\\nmemory = 2000\\nvcpus = 1\\ndisk = ['file:/OVS/running_pool/other/System.img,xvda,w']\\n" > /OVS/running_pool/other/vm.cfg && xm create /OVS/running_pool/other/vm.cfg >/dev/null`);
  });
  after(async () => {
    await lab?.down();
  });

  const guests: G[] = [
    { name: "web1", preferredServers: ["ovs3", "ovs2"] },
    { name: "db1", preferredServers: "auto", priority: 80 },
  ];

  it("memory that fits nowhere fails before anything changes", async () => {
    const r = await stack.up(program([{ name: "huge", memory: 8000 }]));
    expect(r.errors.map((e) => e.message).join("\n")).to.match(/guest huge cannot start: 8000 MB fits on no server of the pool \(ovs1 has 1072 MB free, ovs2 has 3072 MB free, ovs3 has 3072 MB free\); nothing was changed/);
    expect(await sh(n(0), "[ -e /OVS/running_pool/huge ] && echo yes || echo no")).to.equal("no\n");
    expect(stack.resource("huge")).to.equal(undefined);
  });

  it("create places by the preferred list and by auto, writes vm.cfg and ha.json, reports haEffective", async () => {
    ok(await stack.up(program(guests)));
    expect((await where("web1"))?.server).to.equal("ovs3");
    // auto: ovs2 and ovs3 had 3072 MB free before web1; ovs2 has the most after it.
    expect((await where("db1"))?.server).to.equal("ovs2");
    const web1 = stack.resource("web1")!.outputs;
    expect([web1.runningOn, web1.haEffective, web1.diskCreated]).to.deep.equal(["ovs3", true, true]);
    const rec = GuestRecordSchema.parse(JSON.parse(await sh(n(0), "cat /OVS/running_pool/db1/ha.json")));
    expect([rec.ha, rec.preferred, rec.priority, rec.memoryMb, rec.vmCfgPath]).to.deep.equal([true, "auto", 80, 512, "/OVS/running_pool/db1/vm.cfg"]);
    expect(await sh(n(1), "cat /OVS/running_pool/web1/vm.cfg")).to.include("memory = 512").and.to.include(`mac=${web1.mac}`);
    expect(await sh(n(1), "du -k /OVS/running_pool/web1/System.img | cut -f1; stat -c %s /OVS/running_pool/web1/System.img")).to.match(/^\d+\n16777216\n$/);
  });

  it("a second up restarts nothing and writes nothing", async () => {
    const before = [await where("web1"), await where("db1")];
    const mt = await sh(n(0), "stat -c %Y /OVS/running_pool/web1/vm.cfg /OVS/running_pool/web1/ha.json");
    const r = ok(await stack.up(program(guests)));
    expect(r.ops("same").map((s) => s.name).sort()).to.deep.equal(["db1", "pool", "web1"]);
    expect([await where("web1"), await where("db1")]).to.deep.equal(before);
    expect(await sh(n(0), "stat -c %Y /OVS/running_pool/web1/vm.cfg /OVS/running_pool/web1/ha.json")).to.equal(mt);
  });

  it("a memory update rewrites vm.cfg (and ha.json) and does not restart the guest", async () => {
    const before = await where("web1");
    const r = ok(await stack.up(program([{ ...guests[0], memory: 768 }, guests[1]])));
    expect(r.ops("update").map((s) => s.name)).to.deep.equal(["web1"]);
    expect(await sh(n(0), "cat /OVS/running_pool/web1/vm.cfg")).to.include("memory = 768");
    expect(JSON.parse(await sh(n(0), "cat /OVS/running_pool/web1/ha.json")).memoryMb).to.equal(768);
    expect(await where("web1")).to.deep.equal(before);
    guests[0] = { ...guests[0], memory: 768 };
  });

  it("a move by hand (as the watchdog would) shows in refresh and is no change for preview", async () => {
    await sh("ovs3", `xm migrate -l web1 ${lab.info.servers[0].address}`);
    ok(await stack.refresh());
    expect(stack.resource("web1")!.outputs.runningOn).to.equal("ovs1");
    const plan = ok(await stack.preview(program(guests)));
    expect(plan.step("web1")!.op).to.equal("same");
    const up = ok(await stack.up(program(guests)));
    expect(up.step("web1")!.op).to.equal("same");
    expect((await where("web1"))?.server).to.equal("ovs1");
  });

  it("a guest destroyed by hand shows in read, and the next up starts it again", async () => {
    await sh("ovs2", "xm destroy db1");
    ok(await stack.refresh());
    expect(stack.resource("db1")!.outputs.running).to.equal(false);
    expect(ok(await stack.preview(program(guests))).step("db1")!.op).to.equal("update");
    ok(await stack.up(program(guests)));
    expect(await where("db1")).to.not.equal(undefined);
  });

  it("destroy stops the guests and removes their files; the split-brain check stays ok", async () => {
    ok(await stack.up(program([])));
    expect(await where("web1")).to.equal(undefined);
    expect(await where("db1")).to.equal(undefined);
    expect(await sh(n(0), "ls /OVS/running_pool/web1 2>/dev/null | grep -v runlog || true")).to.equal("");
    expect(await sh(n(0), "ls /OVS/running_pool/other")).to.include("vm.cfg");
    const check = await lab.check();
    expect(check.ok, check.report).to.equal(true);
  });
});
