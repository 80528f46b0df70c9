// An example project through the real Pulumi CLI (Automation API, local backend, passphrase secrets) on a fresh
// lab of 3 servers, shared by the per-example test files: preview, up, no-change preview and up, one change that
// previews and applies as updates and replaces, a bad input, refresh after the real watchdog moved guests (a drain
// or a crash), destroy, and the secrets check of every run's output and the exported state. What differs between
// examples (their storage) is in the spec: storage checks, the change, the bad input, how the watchdog moves the
// guests. Without the CLI every test fails with the one line that says how to get it.
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startTestLab, TestLab } from "../support/lab";
import { EXAMPLE_PROJECTS, ExampleName, LabStackOptions, labStackConfig } from "../../examples/lab-stack";
import { CliRun, CliStack } from "./pulumi-cli";
import { expectNoKeyIn, expectSeedPool, GuestSpec, labShell, placements, serverSnapshot, ServerSnapshot, Sh, stamps } from "./pool-checks";
import { moveGuestsWithWatchdog, WatchdogMove } from "./watchdog-moves";
import { agentLogTails } from "./agent-log-tails";
import { hwWatchdogResets, hwWatchdogStatus } from "../../lab/hw-watchdog-control";

export interface LifecycleCtx {
  lab: TestLab;
  sh: Sh;
  servers: string[];
  outputs: (name: string) => Promise<Record<string, unknown>>;
  data: { dataDir: string; hostDir: () => string };
}

export interface CliExampleSpec {
  example: ExampleName;
  /** Resource names the example declares with the lab config. */
  resources: string[];
  /** Run the repository's own Pulumi project (Pulumi.yaml, index.ts) with `storage` set to the example. */
  repoProject?: boolean;
  /** Checks of the example's own storage after up; returns a directory on the volume (seen from ovs1) and on the host. */
  checkStorage(ctx: Omit<LifecycleCtx, "data" | "servers">): Promise<{ dataDir: string; hostDir: () => string }>;
  /** The storage as the servers see it (sessions, volume identity): a no-change up must leave it as it is. */
  storageFacts?(sh: Sh, servers: string[]): Promise<string>;
  /** One change of the stack config, applied and kept for the rest of the lifecycle. */
  change: {
    title: string;
    config: LabStackOptions;
    /** Resources that change (the rest must be "same"): name -> update | replace. */
    expected: Record<string, "update" | "replace">;
    /** Replaced resource -> the properties the engine names as forcing it. */
    replaces: Record<string, string[]>;
    observe(ctx: LifecycleCtx): Promise<unknown>;
    verify(ctx: LifecycleCtx, before: unknown): Promise<void>;
  };
  /** A config that preview must refuse, naming `resource` and mentioning each of `mentions`. */
  badInput: { config(current: LabStackOptions): LabStackOptions; resource: string; mentions: string[] };
  watchdog: WatchdogMove;
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

export const LIFECYCLE_GUESTS: readonly GuestSpec[] = GUESTS;

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
      expect(r.error, `${r.command}:\n${r.stdout}\n${r.stderr}${r.error === undefined ? "" : `\n${agentLogTails(lab.dir, lab.info.servers.map((s) => s.name))}`}`).to.equal(undefined);
      return r;
    };
    /** The config the stack is at: the example's, then the change step's. */
    let base: LabStackOptions = {};
    let secretSet = false;
    /** Sets the stack config; the secret (the SSH key, one CLI call of its own) only the first time. */
    const setConfig = async (opts: LabStackOptions = base) => {
      const all = {
        ...labStackConfig(lab.info, spec.example, { guests: GUESTS, timing: TIMING, ...opts }),
        ...(spec.repoProject ? { storage: { value: spec.example, secret: false } } : {}),
      };
      await stack.setAllConfig(secretSet ? Object.fromEntries(Object.entries(all).filter(([, v]) => !v.secret)) : all);
      secretSet = true;
    };
    const ctx = (): LifecycleCtx => ({ lab, sh, servers: names(), outputs, data });
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
      // Every server's agent armed its watchdog device (the lab's, fed from the server).
      for (const s of names()) expect(hwWatchdogStatus(lab.dir, s).armed, `${s}: watchdog device armed by the agent`).to.equal(true);
    });

    it("a second preview says no changes and a second up writes nothing", async () => {
      const plan = ok(await stack.preview());
      expect(plan.byName()).to.deep.equal(sameAll());
      expect(plan.changes).to.deep.equal({ same: spec.resources.length + 1 });
      const stampsBefore = await stamps(sh, names(), clusterRoot, guestNames);
      const storageBefore = await spec.storageFacts?.(sh, names());
      const ids = await placements(sh, names(), guestNames);
      await new Promise((r) => setTimeout(r, 1100)); // a write now would show as a new mtime second
      fs.rmSync(statsFile, { force: true });
      const up = ok(await stack.up());
      expect(up.byName()).to.deep.equal(sameAll());
      expect(readStats()?.counters.writes ?? 0, "remote writes").to.equal(0);
      expect(await stamps(sh, names(), clusterRoot, guestNames)).to.deep.equal(stampsBefore);
      if (storageBefore !== undefined) expect(await spec.storageFacts!(sh, names()), "the storage as the servers see it").to.equal(storageBefore);
      expect(await placements(sh, names(), guestNames)).to.deep.equal(ids);
    });

    it(`${spec.change.title}: preview shows it (~ update, +- replace) and up does exactly that`, async () => {
      const c = spec.change;
      const before = await c.observe(ctx());
      base = c.config;
      await setConfig();
      const plan = ok(await stack.preview({ diff: true }));
      process.stdout.write(plan.stdout.split("\n").map((l) => `      | ${l}`).join("\n") + "\n");
      const expected = { ...sameAll(), ...c.expected };
      expect(plan.byName()).to.deep.equal(expected);
      for (const [n, op] of Object.entries(c.expected)) {
        const step = plan.step(n)!;
        if (op === "replace") expect(step.replaces, `${n} replaced for`).to.deep.equal(c.replaces[n]);
        const sign = op === "replace" ? "\\+-" : op === "update" ? "~ " : "";
        expect(plan.stdout, `${n} shown as ${op}`).to.match(new RegExp(`${sign}${step.type.replace(/[/:]/g, "\\$&")}: \\(${op}\\)`));
      }
      fs.rmSync(statsFile, { force: true });
      const up = ok(await stack.up());
      expect(up.byName()).to.deep.equal(expected);
      await c.verify(ctx(), before);
    });

    it("a bad input fails pulumi preview, naming the resource, the property and the reason", async () => {
      const b = spec.badInput;
      await setConfig(b.config(base));
      fs.rmSync(statsFile, { force: true });
      const plan = await stack.preview();
      runs.push(plan);
      await setConfig();
      expect(plan.error, "preview fails").to.be.a("string");
      const errors = plan.diagnostics.filter((d) => d.severity === "error" && d.urn?.endsWith(`::${b.resource}`));
      console.log(`      preview error: ${errors.map((e) => e.message.trim()).join(" | ")}`);
      const text = errors.map((e) => e.message).join("\n");
      for (const part of b.mentions) expect(text).to.include(part);
      expect(readStats(), "nothing ran on the servers").to.equal(undefined);
    });

    it(`after the real watchdog ${spec.watchdog.kind === "drain" ? "drained" : "failed over"} ${spec.watchdog.server}, pulumi refresh records where the guests went and preview and up change nothing`, async () => {
      const placed = await moveGuestsWithWatchdog({ lab, sh, tmp, clusterRoot, guests: guestNames, move: spec.watchdog });
      const refresh = ok(await stack.refresh());
      console.log(`      refresh: ${JSON.stringify(refresh.changes)}; ${refresh.steps.map((s) => `${s.name}:${s.op}`).join(" ")}`);
      // The real engine shows no change: every resource's inputs read back unchanged; only outputs (where the
      // guests run, which servers did not answer) differ, and refresh records them.
      expect(refresh.changes, "refresh summary").to.deep.equal({ same: spec.resources.length + 1 });
      for (const g of guestNames) {
        const o = await outputs(g);
        expect(`${o.runningOn}/${o.domainId}`, `${g} after refresh is where xm list has it`).to.equal(`${placed[g].server}/${placed[g].id}`);
      }
      if (spec.watchdog.kind === "crash") {
        // A server down is not a change of the pool: its last known facts are kept and it is listed as such.
        for (const n of spec.resources) expect((await outputs(n)).unreachableServers, `${n}.unreachableServers`).to.deep.equal([spec.watchdog.server]);
      }
      const plan = ok(await stack.preview());
      expect(plan.byName()).to.deep.equal(sameAll());
      fs.rmSync(statsFile, { force: true });
      const up = ok(await stack.up());
      expect(up.byName()).to.deep.equal(sameAll());
      expect(readStats()?.counters.writes ?? 0, "remote writes").to.equal(0);
      const up2 = names().filter((s) => spec.watchdog.kind === "drain" || s !== spec.watchdog.server);
      const after = await placements(sh, up2, guestNames);
      for (const g of guestNames) expect(after[g], `${g} not restarted`).to.deep.equal(placed[g]);
      // Power the crashed server on again (a fresh boot: no mounts, no guests) for destroy.
      if (spec.watchdog.kind === "crash") await lab.fault("power-on", spec.watchdog.server);
    });

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
      // Destroy stopped every agent cleanly (magic close): no watchdog device left armed, no server reset by one.
      for (const s of names()) {
        expect(hwWatchdogStatus(lab.dir, s).armed, `${s}: watchdog device armed after destroy`).to.equal(false);
        expect(hwWatchdogResets(lab.dir, s), `${s}: hardware watchdog resets`).to.deep.equal([]);
      }
      // Their HA records went with the stack: name the guests that must have run.
      const check = await lab.check({ guests: GUESTS.map((g) => g.name) });
      expect(check.ok, check.report).to.equal(true);
      // Destroy stopped every agent cleanly (magic close): no watchdog device left armed, no server reset by one.
      for (const s of names()) {
        expect(hwWatchdogStatus(lab.dir, s).armed, `${s}: watchdog device armed after destroy`).to.equal(false);
        expect(hwWatchdogResets(lab.dir, s), `${s}: hardware watchdog resets`).to.deep.equal([]);
      }
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
