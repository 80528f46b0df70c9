// Seed 9.4 step 1: "the Oracle VM Agent on the Server Pool Master propagates the repositories and the
// cluster.conf file to other Oracle VM Servers in the server pool". Files are read on the master, read back on
// each member in one command, and written (atomically, with a backup) only where they differ. Then, as the
// agent does, the member's repositories are made live: each master repository not mounted at /OVS/<UUID> on the
// member is made with the documented `ovs-makerepo SOURCE C "DESCRIPTION"` (registers, mounts, creates the pools
// and links /OVS/running_pool ...). Last, a read: the cluster root must be mounted on the member and
// /OVS/running_pool must lead into it. A converged member costs three reads and no write.
import { blkidFull, ovsMakerepo } from "../../commands";
import { findMount, parseBlkid, parseMtab } from "../../parsers";
import { ServerEndpoint, shellWithArgs } from "../../ssh";
import { ensureFile, run } from "../../runtime/remote";
import { parseMakerepoOutput } from "../cluster/repository-output";
import { MakerepoStep, planMemberRepositories, repositoryUuidOf, runningPoolInside } from "./member-repositories";
import { reasonOf } from "./server-probe";

export const REPOSITORIES = "/etc/ovs/repositories";
export const REPOSITORIES_OPTIONS = "/etc/ovs/repositories.options";
export const CLUSTER_CONF = "/etc/ocfs2/cluster.conf";
export const PROPAGATED_FILES = [REPOSITORIES, REPOSITORIES_OPTIONS, CLUSTER_CONF] as const;

const SEP = "@@ovm-ha:file@@";

/** Reads several files in one command: path -> content, undefined when missing. */
export async function readFiles(server: ServerEndpoint, paths: readonly string[]): Promise<Map<string, string | undefined>> {
  const script = 'for f in "$@"; do if [ -e "$f" ]; then printf "%s present\\n" "' + SEP + '"; cat -- "$f"; else printf "%s missing\\n" "' + SEP + '"; fi; done';
  const r = await run(server, shellWithArgs(script, ...paths));
  const parts = r.stdout.split(new RegExp(`(?:^|(?<=\\n))${SEP} (present|missing)\\n`)).slice(1);
  const out = new Map<string, string | undefined>();
  paths.forEach((p, i) => out.set(p, parts[2 * i] === "present" ? parts[2 * i + 1] : undefined));
  return out;
}

/** The master's copies of the propagated files (those it has). */
export async function masterFiles(master: ServerEndpoint, clusterConf: string): Promise<Map<string, string>> {
  const found = await readFiles(master, PROPAGATED_FILES.filter((f) => f !== CLUSTER_CONF));
  const out = new Map<string, string>();
  for (const [p, c] of found) if (c !== undefined) out.set(p, c);
  out.set(CLUSTER_CONF, clusterConf);
  return out;
}

/** Makes the member's copies equal the master's; returns the paths written. */
export async function syncFiles(member: ServerEndpoint, files: Map<string, string>): Promise<string[]> {
  const current = await readFiles(member, [...files.keys()]);
  const written: string[] = [];
  for (const [path, content] of files) {
    if (current.get(path) === content) continue;
    await ensureFile(member, path, content, { mode: "644", backup: true });
    written.push(path);
  }
  return written;
}

const MOUNT_SEP = "@@ovm-ha:running-pool@@";

/** The member's /etc/mtab and where /OVS/running_pool leads (empty when it does not resolve), in one read. */
async function mountState(member: ServerEndpoint): Promise<{ mtab: string; runningPool: string }> {
  const r = await run(member, shellWithArgs('cat /etc/mtab; echo "$1"; readlink -e /OVS/running_pool || true', MOUNT_SEP));
  const at = r.stdout.indexOf(MOUNT_SEP + "\n");
  if (at < 0) throw new Error("reading /etc/mtab and /OVS/running_pool printed no separator");
  return { mtab: r.stdout.slice(0, at), runningPool: r.stdout.slice(at + MOUNT_SEP.length + 1).trim() };
}

/**
 * An OCFS2 source must be the same volume on the member (a disk may get another name on each server): checked
 * with blkid before anything is mounted, so a wrong device is never registered.
 */
async function checkSameVolume(member: ServerEndpoint, step: MakerepoStep): Promise<void> {
  if (!step.source.startsWith("/dev/")) return;
  const r = await run(member, blkidFull(step.source), { okCodes: [0, 2] });
  const uuid = r.code === 0 ? parseBlkid(r.stdout)[0]?.uuid : undefined;
  if (uuid === undefined || repositoryUuidOf(uuid) !== step.uuid) {
    throw new Error(
      `${step.source} on ${member.name} is ${uuid ? `volume ${repositoryUuidOf(uuid)}` : "no volume"}, not repository ${step.uuid}: ` +
        `the master's device has another name there; nothing was mounted`,
    );
  }
}

async function makeRepository(member: ServerEndpoint, step: MakerepoStep): Promise<void> {
  await checkSameVolume(member, step);
  const r = await run(member, ovsMakerepo(step.source, "C", step.description), { okCodes: [0, 1, 32], write: true });
  const made = parseMakerepoOutput(r.stdout);
  if (r.code !== 0 || !made) throw new Error(`ovs-makerepo ${step.source} ${step.role} failed: ${(r.stderr + r.stdout).trim().slice(-500) || `exit ${r.code}`}`);
  if (made.uuid !== step.uuid) throw new Error(`ovs-makerepo ${step.source} made repository ${made.uuid}, not the master's ${step.uuid}`);
}

export interface Propagation {
  /** Files written on the member. */
  written: string[];
  /** Repository UUIDs made live on the member with ovs-makerepo. */
  made: string[];
}

/**
 * Propagates to one member: the files, then the repositories made live, then the cluster-root check. `done`
 * receives each step as it completes, so a failure part-way can say what was already done.
 */
export async function propagateTo(member: ServerEndpoint, files: Map<string, string>, clusterRoot: string, done?: (step: string) => void): Promise<Propagation> {
  const result: Propagation = { written: await syncFiles(member, files), made: [] };
  if (result.written.length) done?.(`${member.name}: wrote ${result.written.join(", ")}`);
  let state = await mountState(member);
  let plan;
  try {
    plan = planMemberRepositories(files.get(REPOSITORIES) ?? "", files.get(REPOSITORIES_OPTIONS) ?? "", state.mtab);
  } catch (e) {
    throw new Error(`cannot plan its repositories (${reasonOf(e)})`);
  }
  if (plan.problems.length) throw new Error(plan.problems.join("; "));
  for (const step of plan.steps) {
    await makeRepository(member, step);
    result.made.push(step.uuid);
    done?.(`${member.name}: ovs-makerepo ${step.source} ${step.role} (${step.mountPoint})`);
  }
  if (result.made.length) {
    // ovs-makerepo rewrites the repository files (order, quoting): the master's copies stay the reference.
    const again = await syncFiles(member, files);
    result.written.push(...again.filter((f) => !result.written.includes(f)));
    state = await mountState(member);
  }
  if (!findMount(parseMtab(state.mtab, "/etc/mtab"), clusterRoot)) {
    throw new Error(`cluster root ${clusterRoot} is not mounted after propagation${result.made.length ? "" : " (the master's /etc/ovs/repositories does not list it)"}`);
  }
  if (!runningPoolInside(state.runningPool, clusterRoot)) {
    throw new Error(`/OVS/running_pool ${state.runningPool ? `leads to ${state.runningPool}` : "does not exist"}, not into the cluster root ${clusterRoot}`);
  }
  return result;
}
