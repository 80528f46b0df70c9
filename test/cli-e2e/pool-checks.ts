// What the servers of a lab say about an applied example: the seed's configuration (cluster, pool, HA record,
// guests), where each guest runs, the files' mtimes (did anything write?), and a server's state before/after
// (for "destroy leaves it as it was"). Asserted on the servers themselves, never on what the providers believe.
import { expect } from "chai";
import * as fs from "fs";
import type { TestLab } from "../support/lab";
import { PoolRecordSchema, GuestRecordSchema } from "../../ha/ha-record";
import { parseO2cbListCluster, parseO2cbStatus } from "../../provider/parsers";

export type Sh = (server: string, script: string) => Promise<string>;

/** A shell script run as root inside a lab server; fails with its output when it exits non-zero. */
export function labShell(lab: TestLab): Sh {
  return async (server, script) => {
    const r = await lab.inServer(server, ["sh", "-c", script]);
    if (r.code !== 0) throw new Error(`${server}: ${script}: exit ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
}

export interface GuestSpec {
  name: string;
  memory: number;
  preferredServers?: string[];
  priority?: number;
  diskMB?: number;
}

/** fstab, /OVS mounts, shutdown hooks, guests: what "destroy leaves the server as it was" compares. */
export async function serverSnapshot(sh: Sh, server: string) {
  return {
    fstab: await sh(server, "cat /etc/fstab"),
    ovsMounts: (await sh(server, "cat /etc/mtab")).split("\n").filter((l) => / \/OVS/.test(l)).sort(),
    hooks: await sh(server, "ls /etc/rc.d/rc0.d /etc/rc.d/rc6.d 2>/dev/null || true"),
    guests: (await sh(server, "xm list | tail -n +2 | awk '{print $1}'")).trim(),
  };
}
export type ServerSnapshot = Awaited<ReturnType<typeof serverSnapshot>>;

/** Where a guest runs (`xm list` on every server) and its domain id. */
export async function where(sh: Sh, servers: string[], guest: string): Promise<{ server: string; id: string } | undefined> {
  for (const s of servers) {
    const line = (await sh(s, "xm list | tail -n +2")).split("\n").find((l) => l.split(/\s+/)[0] === guest);
    if (line) return { server: s, id: line.trim().split(/\s+/)[1] };
  }
  return undefined;
}

/** Where each guest runs: one `xm list` per server (in parallel), the first server listing it wins. */
export async function placements(sh: Sh, servers: string[], guests: string[]): Promise<Record<string, { server: string; id: string } | undefined>> {
  const lists = await Promise.all(servers.map(async (s) => [s, (await sh(s, "xm list | tail -n +2")).split("\n").map((l) => l.trim().split(/\s+/))] as const));
  const out: Record<string, { server: string; id: string } | undefined> = {};
  for (const g of guests) {
    const hit = lists.map(([s, rows]) => ({ s, row: rows.find((r) => r[0] === g) })).find((x) => x.row);
    out[g] = hit ? { server: hit.s, id: hit.row![1] } : undefined;
  }
  return out;
}

/** mtime and inode of every file the example's resources write, on every server: equal stamps = nothing written. */
export async function stamps(sh: Sh, servers: string[], clusterRoot: string, guests: string[]): Promise<Record<string, string>> {
  const files = [
    "/etc/fstab", "/etc/ocfs2/cluster.conf", "/etc/sysconfig/o2cb", "/etc/ovs/repositories", "/etc/ovs/repositories.options",
    "/etc/rc.d/init.d/ovm-ha-drain", `${clusterRoot}/.ovm-ha/pool.json`,
    ...guests.flatMap((g) => [`/OVS/running_pool/${g}/vm.cfg`, `/OVS/running_pool/${g}/ha.json`]),
  ];
  const out: Record<string, string> = {};
  for (const s of servers) out[s] = await sh(s, `for f in ${files.join(" ")}; do stat -c '%n %Y.%i' $f 2>/dev/null || echo "$f none"; done`);
  return out;
}

/**
 * The seed chapter's pool, as the servers show it: 9.3 every server a node of one cluster.conf (read back by the
 * real o2cb tool) with o2cb online; 9.4 the cluster root mounted everywhere, the master's repositories
 * propagated, the planned-shutdown hook armed, the HA record with every server's fence; 9.1 each guest with its
 * HA record.
 */
export async function expectSeedPool(sh: Sh, servers: string[], clusterRoot: string, guests: GuestSpec[]): Promise<void> {
  expect(clusterRoot).to.match(/^\/OVS\/[0-9A-F]{32}$/);
  for (const s of servers) {
    const conf = parseO2cbListCluster(await sh(s, "o2cb --config-file=/etc/ocfs2/cluster.conf list-cluster ocfs2"), "ocfs2");
    expect(conf.nodes.map((n) => n.name).sort(), s).to.deep.equal([...servers].sort());
    expect(parseO2cbStatus(await sh(s, "service o2cb status")).online, s).to.equal(true);
    expect((await sh(s, "cat /etc/mtab")).split("\n").some((l) => l.split(" ")[1] === clusterRoot), `${s} mounts ${clusterRoot}`).to.equal(true);
    expect(await sh(s, "cat /etc/ovs/repositories"), s).to.equal(await sh(servers[0], "cat /etc/ovs/repositories"));
    expect(await sh(s, "readlink /etc/rc.d/rc0.d/K01ovm-ha-drain"), s).to.equal("/etc/rc.d/init.d/ovm-ha-drain\n");
  }
  expect(await sh(servers[0], "/usr/lib/ovs/ovs-cluster-check --master")).to.match(/online/);
  const rec = PoolRecordSchema.parse(JSON.parse(await sh(servers[1], `cat ${clusterRoot}/.ovm-ha/pool.json`)));
  expect([rec.haEnabled, rec.servers.map((s) => `${s.name}:${s.role}:${s.fence.method}`)]).to.deep.equal([
    true,
    servers.map((s, i) => `${s}:${i === 0 ? "master" : "member"}:power`),
  ]);
  for (const g of guests) {
    const placed = await where(sh, servers, g.name);
    expect(placed, `${g.name} runs`).to.not.equal(undefined);
    if (g.preferredServers) expect(placed!.server, `${g.name} on its first preferred server`).to.equal(g.preferredServers[0]);
    const gr = GuestRecordSchema.parse(JSON.parse(await sh(servers[0], `cat /OVS/running_pool/${g.name}/ha.json`)));
    expect([gr.name, gr.ha, gr.memoryMb]).to.deep.equal([g.name, true, g.memory]);
  }
}

/** The SSH key's body, in pieces that would show in any encoding that keeps base64 text (state, logs). */
export function expectNoKeyIn(text: string, privateKeyPath: string, where: string): void {
  const key = fs.readFileSync(privateKeyPath, "utf8");
  const lines = key.trim().split("\n").slice(1, -1);
  const body = lines.join("");
  expect(text.includes(lines[0]), `${where} holds a line of the SSH key`).to.equal(false);
  expect(text.replace(/\\n|\s/g, "").includes(body.slice(0, 64)), `${where} holds the SSH key`).to.equal(false);
}
