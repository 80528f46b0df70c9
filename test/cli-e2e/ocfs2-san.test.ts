// examples/ocfs2-san through the real Pulumi CLI: preview, up, destroy (the whole lifecycle runs for examples/nfs).
import { expect } from "chai";
import * as path from "path";
import { describeCliLifecycle } from "./example-lifecycle";

describeCliLifecycle({
  example: "ocfs2-san",
  resources: ["cluster-root-disk", "cluster", "pool", "web1", "web2", "db1"],
  full: false,
  async checkStorage({ lab, sh, outputs }) {
    // 9.2.2: one partition, formatted once with the given parameters, not mounted at /OVS/remote; 9.3.2: the
    // volume is the cluster root (its OCFS2 UUID is the repository's), mounted on every server.
    const disk = await outputs("cluster-root-disk");
    const part = `${lab.info.storage.san[0].device}1`;
    expect([disk.formatted, disk.devicePath, disk.mountedOn, disk.volumeLabel]).to.deep.equal([true, part, [], "ovsroot"]);
    const uuid = disk.volumeUuid as string;
    const root = (await outputs("cluster")).clusterRoot as string;
    expect(root).to.equal(`/OVS/${uuid}`);
    for (const s of ["ovs1", "ovs2", "ovs3"]) {
      expect(await sh(s, "cat /etc/mtab"), s).to.match(new RegExp(`^${part} ${root} ocfs2 `, "m"));
      expect((await sh(s, `blkid -o value -s LABEL ${part}`)).trim(), s).to.equal("ovsroot");
    }
    return { dataDir: root, hostDir: () => path.join(lab.dir, "storage", "volumes", uuid) };
  },
});
