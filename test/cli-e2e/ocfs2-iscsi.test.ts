// examples/ocfs2-iscsi through the real Pulumi CLI, the whole lifecycle (example-lifecycle.ts), as the repository's
// own Pulumi project runs it (Pulumi.yaml, index.ts, stack config `storage: ocfs2-iscsi`): the iSCSI sessions are
// left as they are by a no-change up; the change and bad input are the OCFS2 ones (ocfs2-storage.ts); the watchdog
// drains ovs2.
import { expect } from "chai";
import * as path from "path";
import { describeCliLifecycle } from "./example-lifecycle";
import { OCFS2_BAD_INPUT, OCFS2_CHANGE } from "./ocfs2-storage";

describeCliLifecycle({
  example: "ocfs2-iscsi",
  resources: ["cluster-root-disk", "cluster", "pool", "web1", "web2", "db1"],
  repoProject: true,
  async checkStorage({ lab, sh, outputs }) {
    // 9.2.1: one session to the chosen target on every server and only its node record; the new disk
    // partitioned and formatted once; 9.3.2: the volume is the cluster root, mounted on every server.
    const t = lab.info.storage.iscsi.targets[0];
    const disk = await outputs("cluster-root-disk");
    expect([disk.formatted, disk.mountedOn, disk.volumeLabel]).to.deep.equal([true, [], "ovsroot"]);
    const uuid = disk.volumeUuid as string;
    const root = (await outputs("cluster")).clusterRoot as string;
    expect(root).to.equal(`/OVS/${uuid}`);
    for (const s of ["ovs1", "ovs2", "ovs3"]) {
      expect((await sh(s, "iscsiadm -m session")).trim().split("\n"), s).to.have.length(1);
      expect((await sh(s, "iscsiadm -m node")).trim(), s).to.equal(`${lab.info.storage.iscsi.portal},${t.tpgt} ${t.iqn}`);
      const dev = (disk.devices as Record<string, string>)[s];
      expect(await sh(s, "cat /etc/mtab"), s).to.match(new RegExp(`^${dev} ${root} ocfs2 `, "m"));
    }
    return { dataDir: root, hostDir: () => path.join(lab.dir, "storage", "volumes", uuid) };
  },
  // A re-login would show as a new session id; a rewritten node record as a new mtime.
  async storageFacts(sh, servers) {
    const out: string[] = [];
    for (const s of servers) out.push(`${s}: ${await sh(s, "iscsiadm -m session; iscsiadm -m node")}`);
    return out.join("\n");
  },
  change: OCFS2_CHANGE,
  badInput: OCFS2_BAD_INPUT,
  watchdog: { kind: "drain", server: "ovs2" },
});
