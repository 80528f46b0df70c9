// examples/nfs through the real Pulumi CLI, the whole lifecycle: see example-lifecycle.ts for what each step proves.
import { expect } from "chai";
import * as path from "path";
import { describeCliLifecycle } from "./example-lifecycle";

describeCliLifecycle({
  example: "nfs",
  resources: ["cluster", "pool", "web1", "web2", "db1"],
  full: true,
  async checkStorage({ lab, sh, outputs }) {
    // The cluster root is the export itself: guests' files are on the NFS server.
    const cluster = await outputs("cluster");
    const root = cluster.clusterRoot as string;
    expect(cluster.source).to.equal(lab.info.storage.nfs.export);
    for (const s of ["ovs1", "ovs2", "ovs3"]) expect(await sh(s, "cat /etc/mtab"), s).to.include(`${lab.info.storage.nfs.export} ${root} nfs`);
    return { dataDir: root, hostDir: () => path.join(lab.dir, "storage", "nfs", "export", "ovs") };
  },
});
