// What the two OCFS2 examples share in their lifecycle through the CLI: the change (the Cluster's o2cb heartbeat
// threshold in place, `~`, with the SharedDisk and the pool untouched; web2 a new smaller image on the OCFS2
// volume, `+-`) and the bad input (fewer node slots than servers, refused by the SharedDisk's check).
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { LAB_OCFS2_FORMAT } from "../../examples/lab-stack";
import { CliExampleSpec, LIFECYCLE_GUESTS } from "./example-lifecycle";
import { where } from "./pool-checks";

const [web1, web2, db1] = LIFECYCLE_GUESTS;

export const OCFS2_CHANGE: CliExampleSpec["change"] = {
  title: "the cluster's o2cb heartbeat threshold (in place) and web2 a smaller new image on the volume (a replace)",
  config: { guests: [web1, { ...web2, diskMB: 8 }, db1], extra: { o2cbHeartbeatThreshold: "61" } },
  expected: { cluster: "update", web2: "replace" },
  replaces: { web2: ["disk"] },
  async observe({ sh, servers }) {
    return { web2: await where(sh, servers, "web2"), mtab: await Promise.all(servers.map((s) => sh(s, "cat /etc/mtab"))) };
  },
  async verify({ sh, servers, data }, seen) {
    const before = seen as { web2?: { id: string }; mtab: string[] };
    for (const s of servers) expect(await sh(s, "cat /etc/sysconfig/o2cb"), s).to.match(/^O2CB_HEARTBEAT_THRESHOLD='?61'?$/m);
    // The volume stays mounted as it was on every server (the Cluster changed in place, nothing remounted).
    expect(await Promise.all(servers.map((s) => sh(s, "cat /etc/mtab")))).to.deep.equal(before.mtab);
    const web2After = await where(sh, servers, "web2");
    expect(web2After!.id, "web2 is a new domain").to.not.equal(before.web2!.id);
    // The new image is on the OCFS2 volume itself (the lab's file behind it).
    expect(fs.statSync(path.join(data.hostDir(), "running_pool", "web2", "System.img")).size).to.equal(8 * 1024 * 1024);
  },
};

export const OCFS2_BAD_INPUT: CliExampleSpec["badInput"] = {
  config: (current) => ({ ...current, extra: { ...current.extra, ocfs2Format: JSON.stringify({ ...LAB_OCFS2_FORMAT, nodeSlots: 2 }) } }),
  resource: "cluster-root-disk",
  mentions: ["nodeSlots", "must be at least the number of servers that mount the volume (3)"],
};
