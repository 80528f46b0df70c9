// An example project through the real Pulumi CLI (Automation API, local backend, passphrase secrets) on a fresh
// lab of 3 servers, shared by the per-example test files. `full` runs the whole lifecycle (preview, up, no-change
// preview and up, an update and a replace, a bad input, refresh after the real watchdog drained a server,
// destroy); otherwise preview, up and destroy. Every run's output and the exported state are checked for the SSH
// key. Without the CLI every test fails with the one line that says how to get it.
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import pino from "pino";
import { startTestLab, TestLab } from "../support/lab";
import { EXAMPLE_PROJECTS, ExampleName, LabStackOptions, labStackConfig } from "../../examples/lab-stack";
import { CliRun, CliStack, PROJECT_DIR } from "./pulumi-cli";
import { expectNoKeyIn, expectSeedPool, GuestSpec, labShell, serverSnapshot, ServerSnapshot, Sh, stamps, where } from "./pool-checks";
import { Watchdog } from "../../watchdog/daemon/watchdog";
import { parseWatchdogConfig } from "../../watchdog/daemon/config";
import { drainServer } from "../../watchdog/drain";
import { waitFor } from "../support/wait-for";

export interface CliExampleSpec {
  example: ExampleName;
  /** Resource names the example declares with the lab config. */
  resources: string[];
  full: boolean;
  /** Run the repository's own Pulumi project (Pulumi.yaml, index.ts) with `storage` set to the example. */
  repoProject?: boolean;
  /** Checks of the example's own storage after up; returns a directory on the volume (seen from ovs1) and on the host. */
  checkStorage(ctx: { lab: TestLab; sh: Sh; outputs: (name: string) => Promise<Record<string, unknown>> }): Promise<{ dataDir: string; hostDir: () => string }>;
}

interface RunStats {
  counters: { commands: number; writes: number };
  servers: Record<string, { connectionsOpened: number; commandsRun: number }>;
}

const GUESTS: GuestSpec[] = [
  { name: "web1", memory: 256, preferredServers: ["ovs2", "ovs3"] },
  { name: "web2", memory: 256, preferredServers: ["ovs3", "ovs2"] },
  { name: "db1", memory: 256, priority: 80 },
];
const TIMING = { heartbeatIntervalMs: 1000, heartbeatMisses: 3, stabilityMs: 3000, restartBudget: { max: 3, windowMs: 600000 }, fenceTimeoutMs: 15000, fenceRetryMs: 3000 };
const CLI_MAIN = path.join(PROJECT_DIR, "dist", "cli", "main.js");

export function describeCliLifecycle(spec: CliExampleSpec): void {
  describe(`examples/${spec.example} through the Pulumi CLI on a fresh lab`, function () {
    this.timeout(300000);
    let lab: TestLab;
    let stack: CliStack;
    let tmp: string;
    let statsFile: string;
    let sh: Sh;
    let clusterRoot = "";
    let exported = "";
    let data: { dataDir: string; hostDir: () => string };
    const initial: Record<string, ServerSnapshot> = {};
    const runs: CliRun[] = [];
    const names = () => lab.info.servers.map((s) => s.name);
    const guestNames = GUESTS.map((g) => g.name);
    const outputs = async (name: string) => {
      const o = await stack.outputs(name);
      if (!o) throw new Error(`no resource ${name} in the exported state`);
      return o;
    };
    const readStats = (): RunStats | undefined => (fs.existsSync(statsFile) ? JSON.parse(fs.readFileSync(statsFile, "utf8")) : undefined);
    /** Records the run and asserts the CLI succeeded (its output is the message when it did not). */
    const ok = (r: CliRun): CliRun => {
      runs.push(r);
      expect(r.error, `${r.command}:\n${r.stdout}\n${r.stderr}`).to.equal(undefined);
      return r;
    };
    const setConfig = (opts: LabStackOptions = {}) =>
      stack.setAllConfig({
        ...labStackConfig(lab.info, spec.example, { guests: GUESTS, timing: TIMING, ...opts }),
        ...(spec.repoProject ? { storage: { value: spec.example, secret: false } } : {}),
      });
    const sameAll = () => Object.fromEntries(spec.resources.map((n) => [n, "same"]));

    before(async () => {
      // Fails (does not skip) with the one-line reason where the CLI is missing.
      stack = await CliStack.create({ project: EXAMPLE_PROJECTS[spec.example], main: `dist/examples/${spec.example}/index.js`, repoProject: spec.repoProject });
      lab = await startTestLab({ servers: 3, memoryMb: 2048 });
      sh = labShell(lab);
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), `cli-e2e-${spec.example}-`));
      statsFile = path.join(tmp, "run-stats.json");
      // Inherited by the CLI and so by its dynamic-provider host, whose operations write their counters there.
      process.env.OVM_HA_RUN_STATS_FILE = statsFile;
      await setConfig();
      for (const s of names()) initial[s] = await serverSnapshot(sh, s);
    });
    after(async () => {
      delete process.env.OVM_HA_RUN_STATS_FILE;
      await stack?.remove();
      await lab?.down();
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("pulumi preview on an empty stack lists every resource as a create and opens no SSH connection", async () => {
      fs.rmSync(statsFile, { force: true });
      const plan = ok(await stack.preview());
      expect(plan.byName()).to.deep.equal(Object.fromEntries(spec.resources.map((n) => [n, "create"])));
      for (const n of spec.resources) expect(plan.stdout).to.match(new RegExp(`\\+ +\\S+ +${n} +create`));
      expect(readStats(), "no provider operation ran, so no connection was counted").to.equal(undefined);
      expect(await stack.resourceNames()).to.deep.equal([]);
    });

    it("pulumi up configures the pool as the seed chapter describes", async () => {
      fs.rmSync(statsFile, { force: true });
      const up = ok(await stack.up());
      expect(up.byName()).to.deep.equal(Object.fromEntries(spec.resources.map((n) => [n, "create"])));
      const stats = readStats()!;
      console.log(`      first up: ${(up.ms / 1000).toFixed(1)} s; SSH connections per server ${names().map((s) => stats.servers[s]?.connectionsOpened ?? 0).join("/")}; remote commands ${stats.counters.commands}, writes ${stats.counters.writes}`);
      expect((await stack.resourceNames()).sort()).to.deep.equal([...spec.resources].sort());
      exported = await stack.exportText();
      clusterRoot = (await outputs("cluster")).clusterRoot as string;
      await expectSeedPool(sh, names(), clusterRoot, GUESTS);
      data = await spec.checkStorage({ lab, sh, outputs });
      await sh("ovs2", `echo keep-me > ${data.dataDir}/e2e-data.txt`);
      expect(fs.readFileSync(path.join(data.hostDir(), "e2e-data.txt"), "utf8")).to.equal("keep-me\n");
    });

    if (spec.full) {
      it("a second preview says no changes and a second up writes nothing", async () => {
        const plan = ok(await stack.preview());
        expect(plan.byName()).to.deep.equal(sameAll());
        expect(plan.changes).to.deep.equal({ same: spec.resources.length + 1 });
        const stampsBefore = await stamps(sh, names(), clusterRoot, guestNames);
        const ids = await Promise.all(guestNames.map((g) => where(sh, names(), g)));
        await new Promise((r) => setTimeout(r, 1100)); // a write now would show as a new mtime second
        fs.rmSync(statsFile, { force: true });
        const up = ok(await stack.up());
        expect(up.byName()).to.deep.equal(sameAll());
        expect(readStats()?.counters.writes ?? 0, "remote writes").to.equal(0);
        expect(await stamps(sh, names(), clusterRoot, guestNames)).to.deep.equal(stampsBefore);
        expect(await Promise.all(guestNames.map((g) => where(sh, names(), g)))).to.deep.equal(ids);
      });

      it("an in-place change previews as an update (~) and a replace trigger as a replace (+-); up does exactly that", async () => {
        const web1 = await where(sh, names(), "web1");
        const web2 = await where(sh, names(), "web2");
        // web1: more memory (vm.cfg rewritten, not restarted); web2: a smaller new disk (replace).
        await setConfig({ guests: [{ ...GUESTS[0], memory: 384 }, { ...GUESTS[1], diskMB: 8 }, GUESTS[2]] });
        const plan = ok(await stack.preview({ diff: true }));
        process.stdout.write(plan.stdout.split("\n").map((l) => `      | ${l}`).join("\n") + "\n");
        expect(plan.byName()).to.deep.equal({ ...sameAll(), web1: "update", web2: "replace" });
        expect(plan.step("web2")!.replaces).to.deep.equal(["disk"]);
        expect(plan.stdout).to.match(/~ \S+:Guest: \(update\)/).and.to.match(/\+-\S+:Guest: \(replace\)/);
        const up = ok(await stack.up());
        expect(up.byName()).to.deep.equal({ ...sameAll(), web1: "update", web2: "replace" });
        expect(await where(sh, names(), "web1")).to.deep.equal(web1);
        expect(await sh("ovs1", "cat /OVS/running_pool/web1/vm.cfg")).to.include("memory = 384");
        const web2After = await where(sh, names(), "web2");
        expect(web2After, "web2 runs again").to.not.equal(undefined);
        expect(web2After!.id, "web2 is a new domain").to.not.equal(web2!.id);
        expect(await sh("ovs1", "stat -c %s /OVS/running_pool/web2/System.img")).to.equal(`${8 * 1024 * 1024}\n`);
        await setConfig();
        ok(await stack.up());
      });

      it("a bad input fails pulumi preview, naming the resource, the property and the reason", async () => {
        await setConfig({ guests: [{ ...GUESTS[0], priority: 250 }, GUESTS[1], GUESTS[2]] });
        fs.rmSync(statsFile, { force: true });
        const plan = await stack.preview();
        runs.push(plan);
        await setConfig();
        expect(plan.error, "preview fails").to.be.a("string");
        const errors = plan.diagnostics.filter((d) => d.severity === "error" && d.urn?.endsWith("::web1"));
        console.log(`      preview error: ${errors.map((e) => e.message.trim()).join(" | ")}`);
        expect(errors.map((e) => e.message).join("\n")).to.include("priority").and.to.include("must be a priority: an integer 0..100; got 250");
        expect(readStats(), "nothing ran on the servers").to.equal(undefined);
      });

      it("after the real watchdog drained a server, pulumi refresh records where the guests went and preview and up change nothing", async () => {
        const config = parseWatchdogConfig({
          pool: { addresses: lab.info.servers.map((s) => s.address), clusterRoot },
          ssh: { user: "root", privateKeyFile: lab.info.privateKeyPath, knownHostsFile: lab.info.knownHostsPath },
          fence: { "*": { off: [process.execPath, CLI_MAIN, "lab", "power", "off", "{server}", "--dir", lab.dir], status: [process.execPath, CLI_MAIN, "lab", "power", "status", "{server}", "--dir", lab.dir], timeoutMs: 15000 } },
          stateFile: path.join(tmp, "watchdog-state.json"),
          log: { level: "info" },
        });
        const logger = pino({ level: "info" }, pino.destination({ dest: path.join(tmp, "watchdog.log"), sync: true }));
        const wd = new Watchdog({ config, logger, processMetrics: false });
        await wd.start();
        try {
          const runningOn = (g: string) => {
            const st = wd.state?.guests[g]?.status;
            return st?.state === "running" ? st.server : undefined;
          };
          await waitFor("the watchdog to see every guest running", () => guestNames.every((g) => runningOn(g)), 20000);
          const onOvs3 = guestNames.filter((g) => runningOn(g) === "ovs3");
          expect(onOvs3, "guests on ovs3 before the drain").to.include("web2");
          const r = await drainServer(config, { server: "ovs3", timeoutMs: 60000 });
          expect(r.state, r.reason).to.equal("done");
          await waitFor("the drained guests running elsewhere", () => onOvs3.every((g) => runningOn(g) && runningOn(g) !== "ovs3"), 20000);
        } finally {
          await wd.stop();
        }
        const placed = Object.fromEntries(await Promise.all(guestNames.map(async (g) => [g, (await where(sh, names(), g))!] as const)));
        expect(placed.web2.server, "web2 moved off ovs3").to.not.equal("ovs3");

        const refresh = ok(await stack.refresh());
        // The real engine shows no change: the guests' inputs read back unchanged, only where they run differs.
        expect(refresh.changes, "refresh summary").to.deep.equal({ same: spec.resources.length + 1 });
        for (const g of guestNames) {
          const o = await outputs(g);
          expect(`${o.runningOn}/${o.domainId}`, `${g} after refresh is where xm list has it`).to.equal(`${placed[g].server}/${placed[g].id}`);
        }
        const plan = ok(await stack.preview());
        expect(plan.byName()).to.deep.equal(sameAll());
        fs.rmSync(statsFile, { force: true });
        const up = ok(await stack.up());
        expect(up.byName()).to.deep.equal(sameAll());
        expect(readStats()?.counters.writes ?? 0, "remote writes").to.equal(0);
        for (const g of guestNames) expect(await where(sh, names(), g), `${g} not restarted`).to.deep.equal(placed[g]);
      });
    }

    it("pulumi destroy leaves the servers as they were, and the data on the shared disk", async () => {
      ok(await stack.destroy());
      expect(await stack.resourceNames()).to.deep.equal([]);
      for (const s of names()) {
        const now = await serverSnapshot(sh, s);
        // The Cluster keeps cluster.conf, o2cb and the cluster root it registered (data is never taken away).
        now.ovsMounts = now.ovsMounts.filter((l) => l.split(" ")[1] !== clusterRoot);
        expect(now, s).to.deep.equal(initial[s]);
      }
      expect(fs.readFileSync(path.join(data.hostDir(), "e2e-data.txt"), "utf8")).to.equal("keep-me\n");
      // Their HA records went with the stack: name the guests that must have run.
      const check = await lab.check({ guests: GUESTS.map((g) => g.name) });
      expect(check.ok, check.report).to.equal(true);
    });

    it("pulumi stack export, the backend's files, the stack config and every run's output hold no secret in plaintext", async () => {
      // The export taken after up holds every resource with its serialized provider.
      expect(exported).to.include("__provider").and.to.include(`::${spec.resources[spec.resources.length - 1]}`);
      expectNoKeyIn(exported, lab.info.privateKeyPath, "pulumi stack export after up");
      // The key went in with --secret: the stack's config file holds it encrypted only.
      const stackYaml = fs.readFileSync(path.join(stack.dir, `Pulumi.${stack.name}.yaml`), "utf8");
      expect(stackYaml).to.match(/sshPrivateKey:\s*\n\s*secure: \S+/);
      const files: string[] = [];
      const walk = (d: string) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : files.push(path.join(d, e.name))));
      walk(path.join(stack.dir, "backend"));
      expect(files.length, "state files in the backend (checkpoints and history)").to.be.greaterThan(1);
      for (const f of [...files, path.join(stack.dir, `Pulumi.${stack.name}.yaml`)]) expectNoKeyIn(fs.readFileSync(f, "latin1"), lab.info.privateKeyPath, f);
      for (const r of runs) expectNoKeyIn(`${r.stdout}\n${r.stderr}\n${JSON.stringify(r.diagnostics)}`, lab.info.privateKeyPath, `pulumi ${r.command} output`);
      expect(runs.length).to.be.greaterThan(2);
    });
  });
}
