// The cluster root's description (ovs-makerepo SOURCE C "DESCRIPTION"): ovs-makerepo keeps it in the repository's
// /etc/ovs/repositories.options line (`UUID TYPE OPTIONS ROLE "DESCRIPTION"`, lab/STANDINS.md). A repository that
// is already registered and mounted is described again with the same documented command, on the master first;
// the servers that hold a copy of the master's repository files (seed 9.4: the master's agent propagates them)
// get the master's new copies, so they stay copies; a server with its own registration runs ovs-makerepo itself.
// The stored copies the ovm-ha agent propagates from at start (<clusterRoot>/.ovm-ha/propagated.json, written by
// ServerPool) get the master's new files too, or an agent starting later would put the old description back.
import { ovsMakerepo } from "../../commands";
import { ensureFile, readFile, run } from "../../runtime/remote";
import { parsePropagated, propagatedFile, renderPropagated } from "../../../watchdog/agent/propagated-files";
import type { ServerEndpoint } from "../../ssh";
import { readFiles, syncFiles } from "../server-pool/propagate";
import { parseRepositoryOptionsFile } from "../server-pool/member-repositories";
import { parseMakerepoOutput, parseRepositoriesFile, RepositoryRecord, repositoryMountPoint } from "./repository-output";

export const REPOSITORIES_FILE = "/etc/ovs/repositories";
export const REPOSITORIES_OPTIONS_FILE = "/etc/ovs/repositories.options";
const FILES = [REPOSITORIES_FILE, REPOSITORIES_OPTIONS_FILE] as const;

/** A server's two repository files (a missing file is undefined). */
export type RepositoryFiles = Map<string, string | undefined>;

export function readRepositoryFiles(server: ServerEndpoint): Promise<RepositoryFiles> {
  return readFiles(server, FILES);
}

/** The registration of `source` in a server's files, with its description (undefined: no options line). */
export function registrationOf(files: RepositoryFiles, by: { source: string } | { uuid: string }): (RepositoryRecord & { description?: string }) | undefined {
  const repo = parseRepositoriesFile(files.get(REPOSITORIES_FILE) ?? "").find((r) => ("source" in by ? r.source === by.source : r.uuid === by.uuid));
  if (!repo) return undefined;
  const opts = parseRepositoryOptionsFile(files.get(REPOSITORIES_OPTIONS_FILE) ?? "").find((o) => o.uuid === repo.uuid);
  return { ...repo, description: opts?.description };
}

function sameFiles(a: RepositoryFiles, b: RepositoryFiles): boolean {
  return FILES.every((f) => (a.get(f) ?? "") === (b.get(f) ?? ""));
}

async function makerepo(server: ServerEndpoint, repo: RepositoryRecord, description: string): Promise<void> {
  const r = await run(server, ovsMakerepo(repo.source, "C", description), { okCodes: [0, 1, 32], write: true, step: `ovs-makerepo ${repo.source} C` });
  const made = parseMakerepoOutput(r.stdout);
  if (r.code !== 0 || !made) throw new Error(`ovs-makerepo ${repo.source} C on ${server.name} failed: ${(r.stderr + r.stdout).trim().split("\n").slice(-3).join("; ") || `exit ${r.code}`}`);
  if (made.uuid !== repo.uuid) throw new Error(`ovs-makerepo ${repo.source} C on ${server.name} described repository ${made.uuid}, not ${repo.uuid}`);
}

/**
 * Gives the registered repository `repo` the description on the master, then on every other server that
 * registers it with another one. Returns the names of the servers written to.
 */
export async function describeRepository(
  master: ServerEndpoint,
  others: readonly ServerEndpoint[],
  repo: RepositoryRecord,
  description: string,
  masterBefore: RepositoryFiles,
): Promise<string[]> {
  const written: string[] = [];
  if (registrationOf(masterBefore, { uuid: repo.uuid })?.description !== description) {
    await makerepo(master, repo, description);
    written.push(master.name);
  }
  const masterAfter = await readRepositoryFiles(master);
  const copies = new Map([...masterAfter].filter((e): e is [string, string] => e[1] !== undefined));
  await restoreStoredCopies(master, repositoryMountPoint(repo.uuid), masterBefore, copies);
  const done = await Promise.all(
    others.map(async (s) => {
      const files = await readRepositoryFiles(s);
      const own = registrationOf(files, { uuid: repo.uuid });
      if (!own || own.description === description) return false;
      // A copy of the master's files stays a copy (byte for byte, as the ServerPool compares them).
      if (sameFiles(files, masterBefore)) return (await syncFiles(s, copies)).length > 0;
      await makerepo(s, own, description);
      return true;
    }),
  );
  others.forEach((s, i) => done[i] && written.push(s.name));
  return written;
}

/** The agent's stored copies of the master's repository files, where they were the master's old ones. */
async function restoreStoredCopies(master: ServerEndpoint, clusterRoot: string, before: RepositoryFiles, after: Map<string, string>): Promise<void> {
  const file = propagatedFile(clusterRoot);
  const text = await readFile(master, file);
  if (text === undefined) return;
  const stored = parsePropagated(text);
  if (!stored.ok) return;
  const files = { ...stored.value.files };
  let changed = false;
  for (const f of FILES) {
    if (files[f] === undefined || files[f] !== before.get(f) || !after.has(f) || files[f] === after.get(f)) continue;
    files[f] = after.get(f)!;
    changed = true;
  }
  if (changed) await ensureFile(master, file, renderPropagated({ ...stored.value, files }), { mode: "644" });
}
