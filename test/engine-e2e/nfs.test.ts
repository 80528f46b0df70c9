// examples/nfs end to end through the engine path: see example-lifecycle.ts for what each step proves.
import { expect } from "chai";
import * as path from "path";
import { describeExampleLifecycle } from "./example-lifecycle";
import { nfsPool } from "../../examples/nfs/program";

describeExampleLifecycle({
  example: "nfs",
  program: nfsPool,
  resources: ["cluster", "pool", "web1", "web2", "db1"],
  async checkStorage({ lab, stack, sh }) {
    // The cluster root is the export itself: guests' files are on the NFS server.
    const root = stack.resource("cluster")!.outputs.clusterRoot as string;
    expect(stack.resource("cluster")!.outputs.source).to.equal(lab.info.storage.nfs.export);
    for (const s of ["ovs1", "ovs2", "ovs3"]) expect(await sh(s, "cat /etc/mtab"), s).to.include(`${lab.info.storage.nfs.export} ${root} nfs`);
    return { dataDir: root, hostDir: () => path.join(lab.dir, "storage", "nfs", "export", "ovs") };
  },
});
