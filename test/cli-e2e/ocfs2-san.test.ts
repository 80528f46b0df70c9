// examples/ocfs2-san through the real Pulumi CLI, the whole lifecycle (example-lifecycle.ts): the partition and
// its volume are left as they are by a no-change up; the change and bad input are the OCFS2 ones
// (ocfs2-storage.ts); the watchdog fails ovs2 over after a crash (fenced, its guests restarted), and refresh,
// preview and up with ovs2 off show no change.
import { expect } from "chai";
import * as path from "path";
import { describeCliLifecycle } from "./example-lifecycle";
import { OCFS2_BAD_INPUT, OCFS2_CHANGE } from "./ocfs2-storage";

describeCliLifecycle({
  example: "ocfs2-san",
  resources: ["cluster-root-disk", "cluster", "pool", "web1", "web2", "db1"],
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
  // The partition table and the volume's identity, as every server probes them.
  async storageFacts(sh, servers) {
    const out: string[] = [];
    for (const s of servers) out.push(`${s}: ${await sh(s, "d=$(awk '$3 == \"ocfs2\" {print $1; exit}' /etc/mtab); blkid -p -o export \"$d\"; sfdisk -d \"${d%1}\"")}`);
    return out.join("\n");
  },
  change: OCFS2_CHANGE,
  badInput: OCFS2_BAD_INPUT,
  watchdog: { kind: "crash", server: "ovs2" },
});
