// The preparation both pool benchmarks (bench/pool-apply.ts, bench/cli-pool-apply.ts) make before the first up:
// cluster.conf for every server of the lab, o2cb online and the pool's cluster root (ovs-makerepo on the NFS
// export) on each; and the count of guests running on the lab, read from xm on every server.
import type { TestLab } from "../test/support/lab";
import { formatClusterConf } from "../provider/parsers";

/** Prepares every server of the lab; returns the cluster root (where ovs-makerepo mounted the pool's repository). */
export async function prepareClusterRoot(lab: TestLab): Promise<string> {
  const servers = lab.info.servers;
  const conf = formatClusterConf({
    cluster: { name: "ocfs2", nodeCount: servers.length, heartbeatMode: "local" },
    nodes: servers.map((s, i) => ({ name: s.name, number: i, ipAddress: s.address, ipPort: 7777, cluster: "ocfs2" })),
  });
  let root = "";
  await Promise.all(
    servers.map(async (s) => {
      const r = await lab.inServer(s.name, ["sh", "-c", `mkdir -p /etc/ocfs2 && cat > /etc/ocfs2/cluster.conf <<'EOF2'\n${conf}EOF2\nservice o2cb online ocfs2 >/dev/null && /usr/lib/ovs/ovs-makerepo ${lab.info.storage.nfs.export} C "pool root"`]);
      if (r.code !== 0) throw new Error(`${s.name}: ${r.stderr}`);
      root = /mounted at (\S+)/.exec(r.stdout)![1];
    }),
  );
  return root;
}

/** Guests running on the lab: the domains `xm list` shows on each server, Domain-0 not counted. */
export async function guestsRunning(lab: TestLab): Promise<number> {
  let running = 0;
  for (const s of lab.info.servers) running += Number((await lab.inServer(s.name, ["sh", "-c", "xm list | tail -n +3 | wc -l"])).stdout.trim());
  return running;
}
