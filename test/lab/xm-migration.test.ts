// The stand-in xm is as strict as the real one about migrations: the source lists the domain as migrating-NAME
// while it moves (xend's checkpoint code renames it), -l keeps the guest running during the copy and without it
// the guest is paused, and the target must reach the guest's disks and vm.cfg.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { startTestLab, TestLab } from "../support/lab";
import { layout } from "../../lab/layout";
import { waitFor } from "../support/wait-for";

describe("lab: xm migrate is as strict as xend", function () {
  this.timeout(120000);
  let lab: TestLab;
  let pool: string;

  function guestCfg(name: string, memory: number, opts: { disk?: string; cfgAt?: string } = {}): string {
    const d = path.join(pool, name);
    fs.mkdirSync(d, { recursive: true });
    const disk = opts.disk ?? path.join(d, "System.img");
    if (!opts.disk) fs.writeFileSync(disk, "");
    const cfg = opts.cfgAt ?? path.join(d, "vm.cfg");
    const text = `name = '${name}'\nmemory = ${memory}\nvcpus = 1\ndisk = ['file:${disk},xvda,w']\n`;
    if (!opts.cfgAt) fs.writeFileSync(cfg, text);
    return opts.cfgAt ? text : cfg;
  }
  const xm = (server: string, ...args: string[]) => lab.inServer(server, ["xm", ...args]);
  const row = (list: string, name: string) => list.split("\n").find((l) => l.split(/\s+/)[0] === name);
  const records = (name: string) => {
    const p = path.join(pool, name, "System.img.runlog");
    return (fs.existsSync(p) ? fs.readFileSync(p, "utf8").split("\n").filter(Boolean) : []).map((l) => {
      const [server, pid, ms] = l.split(" ");
      return { server, pid: Number(pid), ms: Number(ms) };
    });
  };

  before(async () => {
    lab = await startTestLab({ servers: 2 });
    pool = path.join(layout.nfsRoot(lab.dir), "export", "ovs", "running_pool");
  });
  after(async () => {
    await lab?.down();
  });

  /**
   * Starts a migration and returns the source's listing row seen while it ran, and when it was seen. The target's
   * xend is made busy (it takes the domain 4 s late), so the migration lasts long enough to be watched on a loaded
   * machine.
   */
  async function migrateWatching(name: string, live: boolean): Promise<{ row: string; seenAt: number; result: { code: number; stderr: string } }> {
    await lab.xend("ovs2", { mode: "slow", ms: 4000 });
    const running = xm("ovs1", "migrate", ...(live ? ["-l"] : []), name, "ovs2");
    running.finally(() => lab.xend("ovs2", undefined)).catch(() => undefined);
    const seen = await waitFor(`ovs1 to list migrating-${name}`, async () => {
      const r = row((await xm("ovs1", "list")).stdout, `migrating-${name}`);
      return r ? { row: r, seenAt: Date.now() } : undefined;
    }, 20000, 50);
    // Meanwhile the old name is gone on the source, as with xend.
    expect((await xm("ovs1", "list", name)).code).to.equal(3);
    const result = await running;
    return { ...seen, result };
  }

  it("live (-l): the source lists migrating-NAME running while the guest keeps writing records; then it is on the target", async () => {
    expect((await xm("ovs1", "create", guestCfg("big", 1024))).code).to.equal(0);
    await waitFor("big's first record", () => records("big").length > 0, 5000);
    const { row: r, seenAt, result } = await migrateWatching("big", true);
    expect(result).to.deep.include({ code: 0, stderr: "" });
    expect(r).to.match(/^migrating-big +\d+ +1024 +1 +-b---- /);
    // It ran on the source after the rename was seen (while the target was busy, and during the copy).
    expect(records("big").filter((x) => x.server === "ovs1" && x.ms > seenAt).length).to.be.greaterThan(0);
    expect(row((await xm("ovs2", "list")).stdout, "big")).to.match(/-b----/);
    const after = (await xm("ovs1", "list")).stdout;
    expect(row(after, "big")).to.equal(undefined);
    expect(row(after, "migrating-big")).to.equal(undefined);
    expect((await lab.check({ guests: ["big"] })).ok).to.equal(true);
    await xm("ovs2", "destroy", "big");
  });

  it("without -l the guest is paused for the copy: listed migrating-NAME paused, no records meanwhile", async () => {
    expect((await xm("ovs1", "create", guestCfg("cold", 1024))).code).to.equal(0);
    await waitFor("cold's first record", () => records("cold").length > 0, 5000);
    const { row: r, seenAt, result } = await migrateWatching("cold", false);
    expect(result).to.deep.include({ code: 0, stderr: "" });
    expect(r, r).to.match(/^migrating-cold +\d+ +1024 +1 +--p--- /);
    // A record being written as the pause came may land just after; none later.
    expect(records("cold").filter((x) => x.server === "ovs1" && x.ms > seenAt + 300)).to.deep.equal([]);
    expect(row((await xm("ovs2", "list")).stdout, "cold")).to.match(/-b----/);
    await xm("ovs2", "destroy", "cold");
  });

  it("refuses when the guest's disk is not reachable on the target; the guest runs on under its own name", async () => {
    await lab.inServer("ovs1", ["sh", "-c", "mkdir -p /var/lib/xen/images && truncate -s 1M /var/lib/xen/images/local.img"]);
    expect((await xm("ovs1", "create", guestCfg("localdisk", 256, { disk: "/var/lib/xen/images/local.img" }))).code).to.equal(0);
    const r = await xm("ovs1", "migrate", "-l", "localdisk", "ovs2");
    expect(r).to.deep.include({ code: 1, stderr: "Error: Device 51712 (vbd) could not be connected. /var/lib/xen/images/local.img does not exist.\n" });
    expect(row((await xm("ovs1", "list")).stdout, "localdisk")).to.match(/-b----/);
    expect(row((await xm("ovs2", "list")).stdout, "localdisk")).to.equal(undefined);
    await xm("ovs1", "destroy", "localdisk");
  });

  it("refuses when the guest's vm.cfg is not reachable on the target", async () => {
    const text = guestCfg("localcfg", 256, { cfgAt: "/etc/xen/localcfg.cfg" });
    await lab.inServer("ovs1", ["sh", "-c", 'mkdir -p /etc/xen && printf "%s" "$1" > /etc/xen/localcfg.cfg', "sh", text]);
    expect((await xm("ovs1", "create", "/etc/xen/localcfg.cfg")).code).to.equal(0);
    const r = await xm("ovs1", "migrate", "-l", "localcfg", "ovs2");
    expect(r).to.deep.include({ code: 1, stderr: "Error: Unable to open config file: /etc/xen/localcfg.cfg (on ovs2)\n" });
    expect(row((await xm("ovs1", "list")).stdout, "localcfg")).to.match(/-b----/);
    await xm("ovs1", "destroy", "localcfg");
  });
});
