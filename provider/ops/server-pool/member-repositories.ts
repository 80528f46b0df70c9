// Which of the master's repositories a member still has to make live (seed 9.4: the agent propagates the
// repositories): pure parts, no servers. Inputs are the master's /etc/ovs/repositories (`UUID SOURCE`),
// /etc/ovs/repositories.options (`UUID TYPE OPTIONS ROLE "DESCRIPTION"`, lab/STANDINS.md) and the member's
// /etc/mtab; a repository counts as live when something is mounted at /OVS/<UUID>.
import { findMount, parseMtab } from "../../parsers";
import { parseRepositoriesFile, repositoryMountPoint } from "../cluster/repository-output";

export interface RepositoryOptionsRecord {
  uuid: string;
  type: string;
  options: string;
  role: string;
  description: string;
}

/** /etc/ovs/repositories.options lines; comments, blank and unreadable lines skipped. */
export function parseRepositoryOptionsFile(text: string): RepositoryOptionsRecord[] {
  const out: RepositoryOptionsRecord[] = [];
  for (const raw of text.split("\n")) {
    const m = /^\s*([0-9A-Fa-f]+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(?:"(.*)")?\s*$/.exec(raw);
    if (m) out.push({ uuid: m[1].toUpperCase(), type: m[2], options: m[3], role: m[4], description: m[5] ?? "" });
  }
  return out;
}

/** One `/usr/lib/ovs/ovs-makerepo SOURCE ROLE "DESCRIPTION"` to run on the member. */
export interface MakerepoStep {
  uuid: string;
  source: string;
  role: string;
  description: string;
  mountPoint: string;
}

export interface MemberRepositoryPlan {
  /** Repositories not mounted on the member, in the master's file order. */
  steps: MakerepoStep[];
  /** Repositories that cannot be made live by the documented command (reason per repository). */
  problems: string[];
}

/**
 * The ovs-makerepo runs a member needs: one per master repository whose /OVS/<UUID> is not mounted there.
 * Only role C (cluster root) is documented for ovs-makerepo in 2.1, so any other role is a problem, as is a
 * repository without an options line (its role and description are unknown).
 */
export function planMemberRepositories(repositories: string, options: string, memberMtab: string): MemberRepositoryPlan {
  const opts = parseRepositoryOptionsFile(options);
  const mtab = parseMtab(memberMtab, "/etc/mtab");
  const plan: MemberRepositoryPlan = { steps: [], problems: [] };
  for (const repo of parseRepositoriesFile(repositories)) {
    const mountPoint = repositoryMountPoint(repo.uuid);
    if (findMount(mtab, mountPoint)) continue;
    const o = opts.find((x) => x.uuid === repo.uuid);
    if (!o) plan.problems.push(`repository ${repo.uuid} (${repo.source}) has no line in the master's /etc/ovs/repositories.options (role unknown)`);
    else if (o.role !== "C") plan.problems.push(`repository ${repo.uuid} (${repo.source}) has role ${o.role}; only C (cluster root) can be made with ovs-makerepo`);
    else plan.steps.push({ uuid: repo.uuid, source: repo.source, role: o.role, description: o.description, mountPoint });
  }
  return plan;
}

/** An OCFS2 volume UUID as blkid prints it (lower case, dashes) in the repositories' form (32 upper-case hex). */
export function repositoryUuidOf(blkidUuid: string): string {
  return blkidUuid.replace(/-/g, "").toUpperCase();
}

/** Whether /OVS/running_pool (resolved by `readlink -f`) lies inside the cluster root. */
export function runningPoolInside(resolved: string, clusterRoot: string): boolean {
  const root = clusterRoot.replace(/\/+$/, "");
  return resolved.trim().startsWith(root + "/");
}
