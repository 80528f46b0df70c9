// Preview is exactly what up does, for every diff rule, through the real Pulumi CLI on one lab and one stack.
// Each case changes one input of the program's spec (preview-rules-program.ts), runs `pulumi preview`, asserts the
// steps it shows, runs `pulumi up`, asserts that up took the very same steps, then asserts what the servers show.
// A drift case (a member's repositories file deleted by hand) runs `pulumi refresh` first: the preview must show
// the repair and up must do it. The README's "which changes replace" tables are these cases.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { startTestLab, TestLab } from "../support/lab";
import { LAB_OCFS2_FORMAT } from "../../examples/lab-stack";
import { CliRun, CliStack } from "./pulumi-cli";
import { labShell, Sh } from "./pool-checks";
import type { PreviewRulesSpec } from "./preview-rules-program";
import { agentLogTails } from "./agent-log-tails";
import { hwWatchdogResets } from "../../lab/hw-watchdog-control";
import { waitFor } from "../support/wait-for";

const RESOURCES = ["san-disk", "iscsi-disk", "cluster", "pool", "g1"];
type Op = "update" | "replace";

interface Case {
  name: string;
  change(spec: PreviewRulesSpec, ctx: Ctx): unknown;
  /** The resources that change and how; every other one must be `same`. */
  expect: Record<string, Op>;
  /** Refresh before the preview (drift cases). */
  refresh?: boolean;
  /** What the servers must show after up. */
  check?(ctx: Ctx): Promise<unknown>;
}

interface Ctx {
  sh: Sh;
  lab: TestLab;
  stack: CliStack;
  outputs(name: string): Promise<Record<string, unknown>>;
  /** `server:domid` of g1 (where xm list shows it running). */
  guestDomain(): Promise<string>;
  clusterRoot(): Promise<string>;
}

/** op and replace keys per resource: what a person reads in the preview. */
function stepsOf(r: CliRun): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of RESOURCES) {
    const op = r.opOf(n) ?? "none";
    const keys = r.step(n)?.replaces ?? [];
    const diffs = r.step(n)?.diffs ?? [];
    out[n] = op === "replace" ? `replace[${[...keys].sort().join(",")}]` : op === "update" ? `update{${[...diffs].sort().join(",")}}` : op;
  }
  return out;
}

const vmCfg = (ctx: Ctx) => ctx.sh("ovs1", "cat /OVS/running_pool/g1/vm.cfg");

// Rounds of changes to different resources: each resource's step is attributable to its one change (the engine's
// diff keys say which), so one preview and one up cover several rules. Order matters: replaces of the cluster root
// last, the guest on ovs1 (preferred) so that members can leave without a migration.
const CASES: Case[] = [
  {
    name: "in place on every resource: SharedDisk mountPoint and adoptVolume (its own volume, the other disk), Cluster description, ServerPool fence, Guest vcpus",
    change: async (s, ctx) => {
      s.san.extra = { ...s.san.extra, mountPoint: "/OVS/elsewhere" };
      s.iscsi.extra = { ...s.iscsi.extra, adoptVolume: (await ctx.outputs("iscsi-disk")).volumeUuid };
      s.cluster.description = "root of pool1";
      s.pool.fence = { ovs1: { method: "power" }, ovs2: { method: "power" }, ovs3: { method: "power" } };
      s.guests[0].vcpus = 2;
    },
    expect: { "san-disk": "update", "iscsi-disk": "update", cluster: "update", pool: "update", g1: "update" },
    check: async (ctx) => {
      expect(await vmCfg(ctx)).to.match(/^vcpus = 2$/m);
      expect(await ctx.sh("ovs1", `cat ${await ctx.clusterRoot()}/.ovm-ha/pool.json`)).to.include('"power"');
      // The description is in the cluster root's repositories.options line on the master, and the members' copies
      // are still the master's (ServerPool compares them byte for byte).
      const uuid = (await ctx.outputs("cluster")).repositoryUuid as string;
      const files = "cat /etc/ovs/repositories /etc/ovs/repositories.options";
      expect(await ctx.sh("ovs1", "cat /etc/ovs/repositories.options")).to.match(new RegExp(`^${uuid} ocfs2 \\S+ C "root of pool1"$`, "m"));
      for (const m of ["ovs2", "ovs3"]) expect(await ctx.sh(m, files), m).to.equal(await ctx.sh("ovs1", files));
      // So are the stored copies an agent propagates from when it starts (else it would put the old one back).
      const stored = JSON.parse(await ctx.sh("ovs1", `cat ${await ctx.clusterRoot()}/.ovm-ha/propagated.json`)) as { files: Record<string, string> };
      expect(stored.files["/etc/ovs/repositories.options"]).to.equal(await ctx.sh("ovs1", "cat /etc/ovs/repositories.options"));
    },
  },
  {
    // Alone: a replaced resource is checked again without its old inputs, so a source carried across an update
    // of the disk in the same run would be unknown again (README: what preview cannot know).
    // The guest's network change is attributable (the pool stays `same`: a cascade would replace the guest).
    name: "Cluster nodeNumbers (a staying server renumbered): replace of the cluster alone (same source, same root); Guest network: update",
    change: (s) => {
      s.cluster.nodeNumbers = { ovs1: 0, ovs2: 2, ovs3: 1 };
      s.guests[0].network = { bridge: "xenbr1" };
    },
    expect: { cluster: "replace", g1: "update" },
    check: async (ctx) => {
      expect(await ctx.sh("ovs3", "cat /etc/ocfs2/cluster.conf")).to.match(/number = 1\s+name = ovs3/);
      expect(await vmCfg(ctx)).to.include("bridge=xenbr1");
    },
  },
  {
    name: "SharedDisk servers reordered, ServerPool member leaves, Guest onCrash",
    change: (s) => {
      s.san.extra = { ...s.san.extra, servers: [s.servers[1], s.servers[0], s.servers[2]] };
      s.pool.members = ["ovs2"];
      s.pool.fence = { ovs1: { method: "power" }, ovs2: { method: "power" } };
      s.guests[0].onCrash = "preserve";
    },
    expect: { "san-disk": "update", pool: "update", g1: "update" },
    check: async (ctx) => {
      expect((await ctx.outputs("san-disk")).devicePath).to.equal("/dev/sdb1");
      expect(await ctx.sh("ovs3", "ls /etc/rc.d/init.d/ 2>/dev/null || true")).to.not.include("ovm-ha-drain");
      expect(await vmCfg(ctx)).to.match(/^on_crash = 'preserve'$/m);
    },
  },
  {
    name: "ServerPool member joins, Guest disk grows",
    change: (s) => {
      s.pool.members = ["ovs2", "ovs3"];
      s.guests[0].disk = { sizeMB: 24 };
    },
    expect: { pool: "update", g1: "update" },
    check: async (ctx) => {
      expect(await ctx.sh("ovs3", "ls /etc/rc.d/init.d/")).to.include("ovm-ha-drain");
      expect((await ctx.sh("ovs1", "stat -c %s /OVS/running_pool/g1/System.img")).trim()).to.equal(String(24 * 1024 * 1024));
    },
  },
  {
    name: "Guest disk shrinks (replace), and drift: a member's /etc/ovs/repositories deleted by hand (refresh first)",
    change: async (s, ctx) => {
      s.guests[0].disk = { sizeMB: 16 };
      await ctx.sh("ovs3", "rm /etc/ovs/repositories");
    },
    refresh: true,
    expect: { pool: "update", g1: "replace" },
    check: async (ctx) => {
      expect(await ctx.sh("ovs3", "cat /etc/ovs/repositories")).to.equal(await ctx.sh("ovs1", "cat /etc/ovs/repositories"));
      expect((await ctx.sh("ovs1", "stat -c %s /OVS/running_pool/g1/System.img")).trim()).to.equal(String(16 * 1024 * 1024));
    },
  },
  {
    name: "Cluster source (the iSCSI volume): replace of the cluster, then the pool and its guest (another cluster root)",
    change: (s) => void (s.cluster.on = "iscsi"),
    expect: { cluster: "replace", pool: "replace", g1: "replace" },
    check: async (ctx) => expect(await ctx.clusterRoot()).to.equal(`/OVS/${(await ctx.outputs("iscsi-disk")).volumeUuid}`),
  },
  {
    name: "Cluster kind (nfs): replace of the cluster, then the pool and its guest",
    change: (s) => void (s.cluster.on = "nfs"),
    expect: { cluster: "replace", pool: "replace", g1: "replace" },
    check: async (ctx) => expect(await ctx.sh("ovs2", "cat /etc/mtab")).to.include(` ${await ctx.clusterRoot()} nfs `),
  },
];

describe("preview is what up does: every diff rule through the Pulumi CLI on one lab", function () {
  this.timeout(600000);
  let lab: TestLab;
  let stack: CliStack;
  let spec: PreviewRulesSpec;
  let ctx: Ctx;
  const t0 = Date.now();

  /** Seconds per CLI command (the profile printed at the end: where the file's time goes). */
  const profile: Record<string, number[]> = {};
  const ok = (r: CliRun): CliRun => {
    timed(r);
    expect(r.error, `${r.command}:\n${r.stdout}\n${r.stderr}${r.error === undefined ? "" : `\n${agentLogTails(lab.dir, lab.info.servers.map((s) => s.name))}`}`).to.equal(undefined);
    return r;
  };
  const timed = (r: CliRun, label = r.command): CliRun => {
    (profile[label] ??= []).push(r.ms / 1000);
    return r;
  };
  const setSpec = () => stack.setConfig("spec", { value: JSON.stringify(spec), secret: false });

  before(async () => {
    stack = await CliStack.create({ project: "ovm-ha-preview-rules", main: "dist/test/cli-e2e/preview-rules-main.js" });
    lab = await startTestLab({ servers: 3, memoryMb: 2048 });
    const sh = labShell(lab);
    const info = lab.info;
    spec = {
      servers: info.servers.map((s) => ({ name: s.name, address: s.address, port: s.port, hostKeyFingerprint: s.hostKeyFingerprint })),
      san: { device: info.storage.san[0].device, format: LAB_OCFS2_FORMAT },
      iscsi: { portal: { address: info.storage.iscsi.portalAddress, port: info.storage.iscsi.port }, target: info.storage.iscsi.targets[0].iqn, format: LAB_OCFS2_FORMAT },
      nfsExport: info.storage.nfs.export,
      cluster: { on: "san" },
      pool: { name: "pool1", members: ["ovs2", "ovs3"], ha: true },
      guests: [{ name: "g1", memory: 128, vcpus: 1, disk: { sizeMB: 16 }, preferredServers: ["ovs1", "ovs2"] }],
    };
    await stack.setAllConfig({
      sshPrivateKey: { value: fs.readFileSync(info.privateKeyPath, "utf8"), secret: true },
      sshKnownHosts: { value: info.knownHostsPath, secret: false },
      sshConnectTimeoutMs: { value: "3000", secret: false },
      spec: { value: JSON.stringify(spec), secret: false },
    });
    // The backend's state file itself (what `pulumi stack export` prints, without starting the CLI each time).
    const stateFile = path.join(stack.dir, "backend", ".pulumi", "stacks", "ovm-ha-preview-rules", `${stack.name}.json`);
    const outputs = async (name: string) => {
      const state = JSON.parse(fs.readFileSync(stateFile, "utf8")) as { checkpoint: { latest?: { resources?: { urn: string; outputs?: Record<string, unknown> }[] } } };
      const o = state.checkpoint.latest?.resources?.find((r) => r.urn.endsWith(`::${name}`) && !r.urn.includes("pulumi:providers"))?.outputs;
      if (!o) throw new Error(`no resource ${name} in the state file ${stateFile}`);
      return o;
    };
    ctx = {
      sh,
      lab,
      stack,
      outputs,
      clusterRoot: async () => (await outputs("cluster")).clusterRoot as string,
      async guestDomain() {
        for (const s of info.servers) {
          const row = (await sh(s.name, "xm list")).split("\n").find((l) => l.split(/\s+/)[0] === "g1");
          if (row) return `${s.name}:${row.split(/\s+/)[1]}`;
        }
        return "not running";
      },
    };
  });
  after(async () => {
    // No destroy: nothing here asserts it (the lifecycle tests do), and the lab and the stack's state go anyway.
    await stack?.remove();
    await lab?.down();
    const rows = Object.entries(profile).map(([c, t]) => `${c} ${t.length}x ${t.reduce((a, b) => a + b, 0).toFixed(0)} s [${t.map((x) => x.toFixed(0)).join(" ")}]`);
    console.log(`      preview-rules file: ${((Date.now() - t0) / 1000).toFixed(0)} s; CLI: ${rows.join("; ")}`);
  });

  it("up creates the pool (two disks, the cluster on the SAN volume, the pool, a guest)", async () => {
    const up = ok(await stack.up());
    profile["first up"] = profile.up.splice(0);
    expect(up.byName()).to.deep.equal(Object.fromEntries(RESOURCES.map((n) => [n, "create"])));
    expect(await ctx.guestDomain()).to.match(/^ovs1:\d+$/);
    // A preview with nothing to do: the CLI's fixed cost (start-up, program, provider reads) on its own.
    const again = timed(ok(await stack.preview()), "no-op preview");
    profile.preview.pop();
    expect(stepsOf(again)).to.deep.equal(Object.fromEntries(RESOURCES.map((n) => [n, "same"])));
  });

  /**
   * Whatever the change (a replace of the cluster onto other storage included), every pool server's agent says
   * `ready` in its slot on the cluster root the pool now uses, and no server was reset by its hardware watchdog.
   */
  async function agentsReadyOnTheRoot(): Promise<void> {
    const root = await ctx.clusterRoot();
    const servers = [spec.servers[0].name, ...spec.pool.members];
    await Promise.all(servers.map((s) => waitFor(`${s}'s agent ready in its slot on ${root}`, async () => {
      const text = await ctx.sh(s, `cat '${root}/.ovm-ha/slots/${s}.json' 2>/dev/null || true`);
      return /"state": ?"ready"/.test(text);
    }, 15000, 200)));
    for (const s of lab.info.servers) expect(hwWatchdogResets(lab.dir, s.name), `${s.name}: hardware watchdog resets`).to.deep.equal([]);
  }

  for (const c of CASES) {
    it(c.name, async () => {
      const guestBefore = await ctx.guestDomain();
      await c.change(spec, ctx);
      await setSpec();
      if (c.refresh) ok(await stack.refresh());
      const plan = ok(await stack.preview());
      const shown = stepsOf(plan);
      // What the case says, every other resource `same`; replace keys are the engine's own.
      try {
        expect(Object.fromEntries(Object.entries(shown).map(([n, s]) => [n, s.replace(/[[{].*[\]}]$/, "")])), `preview:\n${plan.stdout}`).to.deep.equal(
          Object.fromEntries(RESOURCES.map((n) => [n, c.expect[n] ?? "same"])),
        );
      } catch (e) {
        // The failure stands; up applies the change anyway so that the next cases start from their own state.
        await stack.up();
        throw e;
      }
      const up = ok(await stack.up());
      expect(stepsOf(up), `up did other steps than preview showed:\n${up.stdout}`).to.deep.equal(shown);
      // A guest not replaced keeps running where it ran (same domain), whatever else changed.
      if (c.expect.g1 !== "replace") expect(await ctx.guestDomain()).to.equal(guestBefore);
      else expect(await ctx.guestDomain()).to.match(/^ovs\d:\d+$/).and.not.equal(guestBefore);
      await c.check?.(ctx);
      await agentsReadyOnTheRoot();
      console.log(`      preview ${(plan.ms / 1000).toFixed(0)} s, up ${(up.ms / 1000).toFixed(0)} s: ${JSON.stringify(shown)}`);
    });
  }

  it("Cluster name while o2cb runs the old one: preview shows the replace, up refuses it naming the cause and changes nothing", async () => {
    const confBefore = await ctx.sh("ovs2", "cat /etc/ocfs2/cluster.conf");
    const guestBefore = await ctx.guestDomain();
    spec.cluster.name = "ovmha2";
    await setSpec();
    const plan = ok(await stack.preview());
    expect(Object.fromEntries(Object.entries(stepsOf(plan)).map(([n, s]) => [n, s.replace(/[[{].*[\]}]$/, "")]))).to.deep.equal({
      "san-disk": "same", "iscsi-disk": "same", cluster: "replace", pool: "replace", g1: "replace",
    });
    const up = timed(await stack.up());
    expect(up.error, "up must refuse the new name").to.be.a("string");
    const said = [up.error, up.stdout, up.stderr, ...up.diagnostics.map((d) => d.message)].join("\n");
    expect(said).to.match(/o2cb runs cluster ocfs2 on ovs1, ovs2, ovs3: cluster ovmha2 cannot be brought online while it runs, so nothing was changed/);
    // Nothing changed: the files, the guest, the rest of the stack.
    expect(await ctx.sh("ovs2", "cat /etc/ocfs2/cluster.conf")).to.equal(confBefore);
    expect(await ctx.guestDomain()).to.equal(guestBefore);
    expect(up.opOf("pool") ?? "none").to.not.match(/replace|delete/);
    spec.cluster.name = undefined;
    await setSpec();
    expect(stepsOf(ok(await stack.preview())), "back to the old name: nothing to do").to.deep.equal(Object.fromEntries(RESOURCES.map((n) => [n, "same"])));
  });
});
