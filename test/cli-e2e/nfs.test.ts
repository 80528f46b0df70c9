// examples/nfs through the real Pulumi CLI, the whole lifecycle (example-lifecycle.ts says what each step proves):
// its change is of guests only (web1 more memory: `~`; web2 a smaller new disk: `+-`), its bad input a guest's
// priority, and the watchdog drains ovs3 (live migrations).
import { expect } from "chai";
import * as path from "path";
import { describeCliLifecycle, LIFECYCLE_GUESTS } from "./example-lifecycle";
import { where } from "./pool-checks";

const [web1, web2, db1] = LIFECYCLE_GUESTS;

describeCliLifecycle({
  example: "nfs",
  resources: ["cluster", "pool", "web1", "web2", "db1"],
  async checkStorage({ lab, sh, outputs }) {
    // The cluster root is the export itself: guests' files are on the NFS server.
    const cluster = await outputs("cluster");
    const root = cluster.clusterRoot as string;
    expect(cluster.source).to.equal(lab.info.storage.nfs.export);
    for (const s of ["ovs1", "ovs2", "ovs3"]) expect(await sh(s, "cat /etc/mtab"), s).to.include(`${lab.info.storage.nfs.export} ${root} nfs`);
    return { dataDir: root, hostDir: () => path.join(lab.dir, "storage", "nfs", "export", "ovs") };
  },
  change: {
    title: "web1 gets more memory (in place) and web2 a smaller new disk (a replace)",
    config: { guests: [{ ...web1, memory: 384 }, { ...web2, diskMB: 8 }, db1] },
    expected: { web1: "update", web2: "replace" },
    replaces: { web2: ["disk"] },
    async observe({ sh, servers }) {
      return { web1: await where(sh, servers, "web1"), web2: await where(sh, servers, "web2") };
    },
    async verify({ sh, servers }, seen) {
      const before = seen as Record<string, { server: string; id: string } | undefined>;
      // web1: vm.cfg rewritten, not restarted; web2: a new domain on a new 8 MB image.
      expect(await where(sh, servers, "web1")).to.deep.equal(before.web1);
      expect(await sh("ovs1", "cat /OVS/running_pool/web1/vm.cfg")).to.include("memory = 384");
      const web2After = await where(sh, servers, "web2");
      expect(web2After, "web2 runs again").to.not.equal(undefined);
      expect(web2After!.id, "web2 is a new domain").to.not.equal(before.web2!.id);
      expect(await sh("ovs1", "stat -c %s /OVS/running_pool/web2/System.img")).to.equal(`${8 * 1024 * 1024}\n`);
    },
  },
  badInput: {
    config: (current) => ({ ...current, guests: (current.guests ?? LIFECYCLE_GUESTS).map((g) => (g.name === "web1" ? { ...g, priority: 250 } : g)) }),
    resource: "web1",
    mentions: ["priority", "must be a priority: an integer 0..100; got 250"],
  },
  watchdog: { kind: "drain", server: "ovs3" },
});
