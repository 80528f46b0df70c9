// examples/ocfs2-san end to end through the engine path: see example-lifecycle.ts for what each step proves.
import { expect } from "chai";
import * as path from "path";
import { describeExampleLifecycle } from "./example-lifecycle";
import { ocfs2SanPool } from "../../examples/ocfs2-san/program";

describeExampleLifecycle({
  example: "ocfs2-san",
  program: ocfs2SanPool,
  resources: ["cluster-root-disk", "cluster", "pool", "web1", "web2", "db1"],
  async checkStorage({ lab, stack, sh }) {
    // 9.2.2: one partition, formatted once with the given parameters, not mounted at /OVS/remote; 9.3.2: the
    // volume is the cluster root (its OCFS2 UUID is the repository's), mounted on every server.
    const disk = stack.resource("cluster-root-disk")!.outputs;
    const part = `${lab.info.storage.san[0].device}1`;
    expect([disk.formatted, disk.devicePath, disk.mountedOn, disk.volumeLabel]).to.deep.equal([true, part, [], "ovsroot"]);
    const uuid = disk.volumeUuid as string;
    const root = stack.resource("cluster")!.outputs.clusterRoot as string;
    expect(root).to.equal(`/OVS/${uuid}`);
    for (const s of ["ovs1", "ovs2", "ovs3"]) {
      expect(await sh(s, "cat /etc/mtab"), s).to.match(new RegExp(`^${part} ${root} ocfs2 `, "m"));
      expect((await sh(s, `blkid -o value -s LABEL ${part}`)).trim(), s).to.equal("ovsroot");
    }
    return { dataDir: root, hostDir: () => path.join(lab.dir, "storage", "volumes", uuid) };
  },
});
