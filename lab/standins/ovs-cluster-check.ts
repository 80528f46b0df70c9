// /usr/lib/ovs/ovs-cluster-check [--master] [--alter-fstab] for lab servers. Its internals are not documented
// (formats.md); the lab checks the documented conditions (cluster.conf sane, o2cb online, cluster storage mounted)
// and prints one line per problem with exit 1. --alter-fstab backs fstab up to /tmp/fstab.ovs-cluster-check.<ms>
// and moves /OVS mount lines out of fstab into /etc/ovs/repositories. --master also requires a cluster root.
import * as fs from "fs";
import { identifySource } from "./ovs-makerepo";
import { readRuntime, readSysconfig, CLUSTER_CONF } from "../storage/o2cb-state";
import { clusterConfProblems, parseClusterConf } from "../storage/cluster-conf";
import { formatMountLine, readFstab, readMtab } from "../storage/mtab";
import { readRepositories, readRepositoryOptions, registerRepository, repositoryMountPoint } from "../storage/repositories";
import { Io, readIfExists, runStandin, serverPath, StandinContext } from "../storage/server-context";

function isOvsMount(dir: string): boolean {
  return dir === "/OVS" || dir.startsWith("/OVS/");
}

export function alterFstab(ctx: StandinContext, io: Io): string[] {
  const problems: string[] = [];
  const fstabFile = serverPath(ctx, "/etc/fstab");
  const text = readIfExists(fstabFile);
  if (text === undefined) return problems;
  const backup = `/tmp/fstab.ovs-cluster-check.${Date.now()}`;
  fs.writeFileSync(serverPath(ctx, backup), text);
  io.out(`Backed up /etc/fstab to ${backup}\n`);
  const moved = readFstab(ctx).filter((e) => isOvsMount(e.dir) && ["ocfs2", "nfs", "nfs4"].includes(e.type));
  for (const e of moved) {
    const id = identifySource(ctx, e.device);
    if (typeof id === "string") {
      problems.push(`cannot move ${e.dir} to /etc/ovs/repositories: ${id}`);
      continue;
    }
    registerRepository(ctx, { uuid: id.uuid, source: e.device }, {
      uuid: id.uuid, type: id.type, options: e.options || id.options, role: "C", description: `moved from /etc/fstab (${e.dir})`,
    });
    io.out(`Moved ${formatMountLine(e)} to /etc/ovs/repositories\n`);
  }
  const keep = text
    .split("\n")
    .filter((line) => {
      const f = line.trim().split(/\s+/);
      return line.trim().startsWith("#") || f.length < 3 || !moved.some((m) => m.device === f[0] && m.dir === f[1]);
    })
    .join("\n");
  fs.writeFileSync(fstabFile, keep);
  return problems;
}

export function clusterCheck(argv: string[], ctx: StandinContext, io: Io): number {
  const master = argv.includes("--master");
  const problems: string[] = [];
  const sys = readSysconfig(ctx);
  const cluster = sys.bootCluster || "ocfs2";
  const confText = readIfExists(serverPath(ctx, CLUSTER_CONF));
  if (confText === undefined) problems.push(`${CLUSTER_CONF} does not exist`);
  else problems.push(...clusterConfProblems(parseClusterConf(confText), cluster, ctx.identity.name.split(".")[0]));
  if (!sys.enabled) problems.push("O2CB is not enabled on boot (O2CB_ENABLED in /etc/sysconfig/o2cb)");
  if (readRuntime(ctx).online !== cluster) problems.push(`O2CB cluster ${cluster} is not online`);
  if (argv.includes("--alter-fstab")) problems.push(...alterFstab(ctx, io));
  const mtab = readMtab(ctx);
  const repos = readRepositories(ctx);
  for (const r of repos) {
    if (!mtab.some((e) => e.dir === repositoryMountPoint(r.uuid))) problems.push(`repository ${r.uuid} (${r.source}) is not mounted`);
  }
  const roots = readRepositoryOptions(ctx).filter((o) => o.role === "C" && repos.some((r) => r.uuid === o.uuid));
  if (master && roots.length === 0) problems.push("no cluster root repository is registered (ovs-makerepo SOURCE C ...)");
  if (roots.length > 0 && !fs.existsSync(serverPath(ctx, "/OVS/running_pool"))) problems.push("/OVS/running_pool is missing");
  for (const p of problems) io.out(`ERROR: ${p}\n`);
  if (problems.length > 0) return 1;
  io.out(`O2CB cluster ${cluster} is online; ${repos.length} repositor${repos.length === 1 ? "y" : "ies"} mounted.\n`);
  io.out("Cluster configuration is OK.\n");
  return 0;
}

if (require.main === module) runStandin(clusterCheck);
