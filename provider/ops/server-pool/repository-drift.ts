// Drift of a member's repositories (seed 9.4: the agent propagates the master's repositories): read finds, on
// each member that answers, whether its /etc/ovs/repositories and repositories.options are the master's and every
// master repository is mounted there; the next update propagates again to the members found drifted. cluster.conf
// is the Cluster's (its read compares it on every server).
import { readFile } from "../../runtime/remote";
import type { ServerEndpoint } from "../../ssh";
import { planMemberRepositories } from "./member-repositories";
import { readFiles, REPOSITORIES, REPOSITORIES_OPTIONS } from "./propagate";

export const REPOSITORY_FILES = [REPOSITORIES, REPOSITORIES_OPTIONS] as const;

/** The master's repository files (the reference for its members); a missing file is an empty one. */
export async function masterRepositoryFiles(master: ServerEndpoint): Promise<Map<string, string>> {
  const found = await readFiles(master, REPOSITORY_FILES);
  return new Map(REPOSITORY_FILES.map((f) => [f, found.get(f) ?? ""]));
}

/**
 * What differs on a member (pure): the repository files that are not the master's, and the master repositories
 * not mounted there. Empty when the member is in sync.
 */
export function memberRepositoryDrift(master: Map<string, string>, member: Map<string, string | undefined>, memberMtab: string): string[] {
  const out: string[] = [];
  for (const f of REPOSITORY_FILES) if ((member.get(f) ?? "") !== (master.get(f) ?? "")) out.push(`${f} differs from the master's`);
  const plan = planMemberRepositories(master.get(REPOSITORIES) ?? "", master.get(REPOSITORIES_OPTIONS) ?? "", memberMtab);
  for (const s of plan.steps) out.push(`repository ${s.uuid} (${s.source}) is not mounted at ${s.mountPoint}`);
  out.push(...plan.problems);
  return out;
}

/** Reads one member and says what differs from the master's repositories (empty: in sync). */
export async function readMemberRepositoryDrift(member: ServerEndpoint, master: Map<string, string>): Promise<string[]> {
  const files = await readFiles(member, REPOSITORY_FILES);
  const mtab = (await readFile(member, "/etc/mtab")) ?? "";
  return memberRepositoryDrift(master, files, mtab);
}
