// The engine-path lifecycle of one example project (issue 5), shared by the per-example test files: the example's
// own program (examples/<name>/program.ts) run through the engine harness (the SDK's real dynamic-provider host
// over gRPC) against a fresh lab, with stack config from examples/lab-stack.ts, and the servers inspected directly.
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { OperationResult, Program, Stack } from "../engine";
import { startTestLab, TestLab } from "../support/lab";
import { EXAMPLE_PROJECTS, ExampleName, LabStackOptions, labStackConfig } from "../../examples/lab-stack";
import { PoolRecordSchema, GuestRecordSchema } from "../../ha/ha-record";
import { parseO2cbListCluster, parseO2cbStatus } from "../../provider/parsers";

export const PROJECT_DIR = path.resolve(__dirname, "../../..");

export interface ExampleSpec {
  example: ExampleName;
  program: Program;
  /** Resource names the example declares with the lab config (for "every resource is a create"). */
  resources: string[];
  /** Checks of the example's own storage after up; returns a file path on the volume, seen from ovs1, to write data to. */
  checkStorage(ctx: LifecycleContext): Promise<{ dataDir: string; hostDir: () => string }>;
}

export interface LifecycleContext {
  lab: TestLab;
  stack: Stack;
  sh(server: string, script: string): Promise<string>;
}

interface RunStats {
  counters: { commands: number; writes: number };
  servers: Record<string, { connectionsOpened: number; commandsRun: number }>;
}

const GUESTS = [
  { name: "web1", memory: 256, preferredServers: ["ovs2", "ovs3"] },
  { name: "web2", memory: 256, preferredServers: ["ovs3", "ovs2"] },
  { name: "db1", memory: 256, priority: 80 },
];
const TIMING = { heartbeatIntervalMs: 1000, heartbeatMisses: 3, stabilityMs: 3000, restartBudget: { max: 3, windowMs: 600000 } };

/** What a server looks like for "destroy leaves it as it was": fstab, /OVS mounts, shutdown hooks, guests. */
async function serverSnapshot(sh: LifecycleContext["sh"], server: string) {
  return {
    fstab: await sh(server, "cat /etc/fstab"),
    ovsMounts: (await sh(server, "cat /etc/mtab")).split("\n").filter((l) => / \/OVS/.test(l)).sort(),
    hooks: await sh(server, "ls /etc/rc.d/rc0.d /etc/rc.d/rc6.d 2>/dev/null || true"),
    guests: (await sh(server, "xm list | tail -n +2 | awk '{print $1}'")).trim(),
  };
}

export function describeExampleLifecycle(spec: ExampleSpec): void {
  describe(`examples/${spec.example} through the engine path on a fresh lab`, function () {
    this.timeout(120000);
    let lab: TestLab;
    let stack: Stack;
    let statsFile: string;
    let tmp: string;
    const results: OperationResult[] = [];
    let initial: Record<string, Awaited<ReturnType<typeof serverSnapshot>>> = {};
    let clusterRoot = "";
    let data: { dataDir: string; hostDir: () => string };
    const names = () => lab.info.servers.map((s) => s.name);
    const sh = async (server: string, script: string): Promise<string> => {
      const r = await lab.inServer(server, ["sh", "-c", script]);
      if (r.code !== 0) throw new Error(`${server}: ${script}: exit ${r.code}: ${r.stderr}${r.stdout}`);
      return r.stdout;
    };
    const ctx = (): LifecycleContext => ({ lab, stack, sh });
    const ok = (r: OperationResult): OperationResult => {
      results.push(r);
      expect(r.errors, JSON.stringify(r.errors)).to.deep.equal([]);
      return r;
    };
    const setConfig = (opts: LabStackOptions) => {
      for (const [k, v] of Object.entries(labStackConfig(lab.info, spec.example, { guests: GUESTS, timing: TIMING, ...opts }))) stack.setConfig(k, v.value, { secret: v.secret });
    };
    const readStats = (): RunStats | undefined => (fs.existsSync(statsFile) ? JSON.parse(fs.readFileSync(statsFile, "utf8")) : undefined);
    const where = async (guest: string) => {
      for (const s of names()) {
        const line = (await sh(s, "xm list | tail -n +2")).split("\n").find((l) => l.split(/\s+/)[0] === guest);
        if (line) return { server: s, id: line.trim().split(/\s+/)[1] };
      }
      return undefined;
    };
    /** mtimes (and inodes) of every file the example's resources write, on every server. */
    const stamps = async () => {
      const out: Record<string, string> = {};
      const files = [
        "/etc/fstab", "/etc/ocfs2/cluster.conf", "/etc/sysconfig/o2cb", "/etc/ovs/repositories", "/etc/ovs/repositories.options",
        "/etc/rc.d/init.d/ovm-ha-drain", `${clusterRoot}/.ovm-ha/pool.json`,
        ...GUESTS.flatMap((g) => [`/OVS/running_pool/${g.name}/vm.cfg`, `/OVS/running_pool/${g.name}/ha.json`]),
      ];
      for (const s of names()) out[s] = await sh(s, `for f in ${files.join(" ")}; do stat -c '%n %Y.%i' $f 2>/dev/null || echo "$f none"; done`);
      return out;
    };

    before(async () => {
      lab = await startTestLab({ servers: 3, memoryMb: 2048 });
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), `e2e-${spec.example}-`));
      statsFile = path.join(tmp, "run-stats.json");
      process.env.OVM_HA_RUN_STATS_FILE = statsFile; // inherited by the provider host process
      stack = new Stack({ project: EXAMPLE_PROJECTS[spec.example], projectDir: PROJECT_DIR, stateFile: path.join(tmp, "state.json") });
      setConfig({});
      for (const s of names()) initial[s] = await serverSnapshot(sh, s);
    });
    after(async () => {
      delete process.env.OVM_HA_RUN_STATS_FILE;
      await lab?.down();
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("preview on an empty stack lists every resource as a create and opens no SSH connection", async () => {
      fs.rmSync(statsFile, { force: true });
      const plan = ok(await stack.preview(spec.program));
      expect(plan.steps.map((s) => s.op)).to.deep.equal(spec.resources.map(() => "create"));
      expect(plan.steps.map((s) => s.name)).to.have.members(spec.resources);
      // Only the calls that never touch a server: Configure (reads config), Check and Diff.
      expect({ ...plan.calls, Configure: 0, Check: 0, Diff: 0 }).to.deep.equal({ Configure: 0, Check: 0, Diff: 0, Create: 0, Read: 0, Update: 0, Delete: 0 });
      expect(plan.calls.Check).to.equal(spec.resources.length);
      expect(readStats(), "no provider operation ran, so no connection was counted").to.equal(undefined);
      expect(stack.resources).to.have.length(0);
    });

    it("up configures the pool as the seed chapter describes", async () => {
      fs.rmSync(statsFile, { force: true });
      const t0 = Date.now();
      const up = ok(await stack.up(spec.program));
      const ms = Date.now() - t0;
      expect(up.ops("create").map((s) => s.name)).to.have.members(spec.resources);
      const stats = readStats()!;
      const conns = names().map((s) => stats.servers[s]?.connectionsOpened ?? 0);
      console.log(`      first up: ${(ms / 1000).toFixed(1)} s; SSH connections per server ${conns.join("/")}; remote commands ${stats.counters.commands}, writes ${stats.counters.writes}`);
      clusterRoot = stack.resource("cluster")!.outputs.clusterRoot as string;
      expect(clusterRoot).to.match(/^\/OVS\/[0-9A-F]{32}$/);
      // 9.3: every server is a node of the same cluster.conf (read back by the real o2cb tool) and o2cb is online.
      for (const s of names()) {
        const conf = parseO2cbListCluster(await sh(s, "o2cb --config-file=/etc/ocfs2/cluster.conf list-cluster ocfs2"), "ocfs2");
        expect(conf.nodes.map((n) => n.name).sort(), s).to.deep.equal(names());
        expect(parseO2cbStatus(await sh(s, "service o2cb status")).online, s).to.equal(true);
        // The cluster root is mounted everywhere and the repositories are the master's (9.4 propagation).
        expect((await sh(s, "cat /etc/mtab")).split("\n").some((l) => l.split(" ")[1] === clusterRoot), `${s} mounts ${clusterRoot}`).to.equal(true);
        expect(await sh(s, "cat /etc/ovs/repositories"), s).to.equal(await sh("ovs1", "cat /etc/ovs/repositories"));
        // 9.4: the planned-shutdown hook is installed and armed.
        expect(await sh(s, "readlink /etc/rc.d/rc0.d/K01ovm-ha-drain"), s).to.equal("/etc/rc.d/init.d/ovm-ha-drain\n");
      }
      expect(await sh("ovs1", "/usr/lib/ovs/ovs-cluster-check --master")).to.match(/online/);
      // The pool's HA record, as the watchdog reads it.
      const rec = PoolRecordSchema.parse(JSON.parse(await sh("ovs2", `cat ${clusterRoot}/.ovm-ha/pool.json`)));
      expect([rec.haEnabled, rec.servers.map((s) => `${s.name}:${s.role}:${s.fence.method}`)]).to.deep.equal([true, ["ovs1:master:power", "ovs2:member:power", "ovs3:member:power"]]);
      // The guests run where asked, each with its HA record.
      expect((await where("web1"))?.server).to.equal("ovs2");
      expect((await where("web2"))?.server).to.equal("ovs3");
      expect(await where("db1")).to.not.equal(undefined);
      for (const g of GUESTS) {
        const gr = GuestRecordSchema.parse(JSON.parse(await sh("ovs1", `cat /OVS/running_pool/${g.name}/ha.json`)));
        expect([gr.name, gr.ha, gr.memoryMb]).to.deep.equal([g.name, true, 256]);
      }
      data = await spec.checkStorage(ctx());
      await sh("ovs2", `echo keep-me > ${data.dataDir}/e2e-data.txt`);
      expect(fs.readFileSync(path.join(data.hostDir(), "e2e-data.txt"), "utf8")).to.equal("keep-me\n");
    });

    it("a second preview shows no change and a second up changes nothing on any server", async () => {
      const plan = ok(await stack.preview(spec.program));
      expect(plan.steps.map((s) => s.op)).to.deep.equal(spec.resources.map(() => "same"));
      const stampsBefore = await stamps();
      const ids = await Promise.all(GUESTS.map((g) => where(g.name)));
      await new Promise((r) => setTimeout(r, 1100)); // a write now would show as a new mtime second
      fs.rmSync(statsFile, { force: true });
      const up = ok(await stack.up(spec.program));
      expect(up.steps.map((s) => s.op)).to.deep.equal(spec.resources.map(() => "same"));
      expect(up.calls.Create + up.calls.Update + up.calls.Delete).to.equal(0);
      // Provider operations that ran would have recorded their writes; none ran or none wrote.
      expect(readStats()?.counters.writes ?? 0).to.equal(0);
      expect(await stamps()).to.deep.equal(stampsBefore);
      expect(await Promise.all(GUESTS.map((g) => where(g.name)))).to.deep.equal(ids);
    });

    it("an in-place input previews as an update and a replace-triggering one as a replace; up does exactly that", async () => {
      const web1 = await where("web1");
      const web2 = await where("web2");
      // web1: more memory (update: vm.cfg rewritten, not restarted); web2: a smaller new disk (replace).
      setConfig({ guests: [{ ...GUESTS[0], memory: 384 }, { ...GUESTS[1], diskMB: 8 }, GUESTS[2]] });
      const plan = ok(await stack.preview(spec.program));
      expect(plan.step("web1")!.op).to.equal("update");
      expect(plan.step("web2")!.op).to.equal("replace");
      expect(plan.step("web2")!.replaces).to.deep.equal(["disk"]);
      expect(plan.steps.filter((s) => s.op !== "same").map((s) => s.name).sort()).to.deep.equal(["web1", "web2"]);
      const up = ok(await stack.up(spec.program));
      expect(up.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`).sort()).to.deep.equal(["replace web2", "update web1"]);
      expect(await where("web1")).to.deep.equal(web1);
      expect(await sh("ovs1", "cat /OVS/running_pool/web1/vm.cfg")).to.include("memory = 384");
      const web2After = await where("web2");
      expect(web2After, "web2 runs again").to.not.equal(undefined);
      expect(web2After!.id, "web2 is a new domain").to.not.equal(web2!.id);
      expect(await sh("ovs1", "stat -c %s /OVS/running_pool/web2/System.img")).to.equal(`${8 * 1024 * 1024}\n`);
      setConfig({});
      ok(await stack.up(spec.program));
    });

    it("a program with a bad input fails in preview, naming the property and the reason", async () => {
      setConfig({ guests: [{ ...GUESTS[0], priority: 250 }, GUESTS[1], GUESTS[2]] });
      const plan = await stack.preview(spec.program);
      results.push(plan);
      setConfig({});
      expect(plan.errors).to.have.length(1);
      expect(plan.errors[0].failures).to.deep.equal([{ property: "priority", reason: "must be a priority: an integer 0..100; got 250" }]);
      expect(plan.errors[0].message).to.include("web1").and.to.include("priority");
      expect(plan.calls.Create + plan.calls.Update + plan.calls.Delete).to.equal(0);
    });

    it("after a guest is moved as the watchdog would (xm migrate -l), refresh + preview shows no change to it", async () => {
      const from = (await where("db1"))!.server;
      const to = names().find((s) => s !== from)!;
      await sh(from, `xm migrate -l db1 ${lab.info.servers.find((s) => s.name === to)!.address}`);
      expect((await where("db1"))?.server).to.equal(to);
      ok(await stack.refresh());
      expect(stack.resource("db1")!.outputs.runningOn).to.equal(to);
      const plan = ok(await stack.preview(spec.program));
      expect(plan.steps.map((s) => s.op)).to.deep.equal(spec.resources.map(() => "same"));
      expect((await where("db1"))?.server).to.equal(to);
    });

    it("destroy leaves the servers as they were, and the data on the shared disk", async () => {
      ok(await stack.destroy());
      expect(stack.resources).to.have.length(0);
      for (const s of names()) {
        const now = await serverSnapshot(sh, s);
        // The Cluster keeps cluster.conf, o2cb and the cluster root it registered (data is never taken away);
        // everything else is as it was.
        now.ovsMounts = now.ovsMounts.filter((l) => l.split(" ")[1] !== clusterRoot);
        expect(now, s).to.deep.equal(initial[s]);
      }
      expect(fs.readFileSync(path.join(data.hostDir(), "e2e-data.txt"), "utf8")).to.equal("keep-me\n");
      const check = await lab.check();
      expect(check.ok, check.report).to.equal(true);
    });

    it("no secret appears in the state the harness keeps nor in anything printed", () => {
      const key = fs.readFileSync(lab.info.privateKeyPath, "utf8");
      const body = key.trim().split("\n").slice(1, -1).join("");
      const text = stack.recordedText(results);
      const saved = fs.readFileSync(path.join(tmp, "state.json"), "utf8");
      for (const where of [text, saved]) {
        expect(where).to.not.include(key.trim().split("\n")[1]);
        expect(where.replace(/\s/g, "")).to.not.include(body.slice(0, 64));
      }
      // Every registration carried the key only as a secret config value, never as an input.
      for (const r of results) for (const reg of r.registrations) expect(JSON.stringify(reg.inputs)).to.not.include(key.trim().split("\n")[1]);
    });
  });
}
