// Seed 9.4 at the agent's start (propagated-files.ts says why): compare this server's cluster.conf and repository
// files with the pool's copies on the shared storage, write those that differ (atomically, keeping a backup, as
// ServerPool does), make the pool's repositories live with the documented `ovs-makerepo SOURCE C "DESCRIPTION"`
// where they are not mounted, and check again. `ready` only when everything matches; `mismatch` with the reason
// otherwise (the server is then not a failover target, and says why in its slot).
import * as fs from "fs";
import * as path from "path";
import { planMemberRepositories, repositoryUuidOf } from "../../provider/ops/server-pool/member-repositories";
import { differingFiles, parsePropagated, Propagated, propagatedFile, PROPAGATED_PATHS, REPOSITORIES, REPOSITORIES_OPTIONS } from "./propagated-files";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PropagationEnv {
  clusterRoot: string;
  /** This server's name: on the master (the source of the propagation) nothing is written. */
  server: string;
  /** Runs a command on this server, bounded. */
  run(argv: string[]): Promise<CommandResult>;
  log(line: string): void;
  /** Prefix of the server's root, for unit tests (default "/"). */
  root?: string;
}

export type PropagationOutcome = { state: "ready"; wrote: string[]; made: string[] } | { state: "mismatch"; reason: string; wrote: string[]; made: string[] };

const at = (env: PropagationEnv, p: string) => path.join(env.root ?? "/", p);

async function readLocal(env: PropagationEnv): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  for (const p of PROPAGATED_PATHS) {
    try {
      out.set(p, await fs.promises.readFile(at(env, p), "utf8"));
    } catch {
      out.set(p, undefined);
    }
  }
  return out;
}

/** Temporary file beside it, backup of the old one (`.ovm-ha.bak`), rename: a crash never leaves half a file. */
async function writeLocal(env: PropagationEnv, p: string, content: string): Promise<void> {
  const file = at(env, p);
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.ovm-ha.tmp.${process.pid}`;
  await fs.promises.writeFile(tmp, content, { mode: 0o644 });
  try {
    await fs.promises.copyFile(file, `${file}.ovm-ha.bak`);
  } catch {
    /* no old copy */
  }
  await fs.promises.rename(tmp, file);
}

async function syncFiles(env: PropagationEnv, pool: Propagated): Promise<string[]> {
  const wrote: string[] = [];
  for (const p of differingFiles(pool, await readLocal(env))) {
    await writeLocal(env, p, pool.files[p]!);
    wrote.push(p);
  }
  return wrote;
}

async function mtab(env: PropagationEnv): Promise<string> {
  try {
    return await fs.promises.readFile(at(env, "/etc/mtab"), "utf8");
  } catch {
    return "";
  }
}

export async function checkAndPropagate(env: PropagationEnv): Promise<PropagationOutcome> {
  const file = propagatedFile(env.clusterRoot);
  let text: string;
  try {
    text = await fs.promises.readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { state: "mismatch", reason: code === "ENOENT" ? `the pool's propagated files are not on the shared storage (${file}, written by ServerPool)` : `cannot read ${file}: ${(e as Error).message}`, wrote: [], made: [] };
  }
  const parsed = parsePropagated(text);
  if (!parsed.ok) return { state: "mismatch", reason: `${file} is not a propagated-files record: ${parsed.error}`, wrote: [], made: [] };
  const pool = parsed.value;
  if (pool.master === env.server) {
    // The master is where the files come from: its own copies are the pool's, even when the stored ones are older
    // (a Cluster change since the last ServerPool up, which rewrites them). Never overwrite the master with them.
    const stale = differingFiles(pool, await readLocal(env));
    if (stale.length) env.log(`seed 9.4: this is the master; the copies on the shared storage of ${stale.join(", ")} are older than its own (the next ServerPool up rewrites them)`);
    return { state: "ready", wrote: [], made: [] };
  }
  const wrote = await syncFiles(env, pool);
  for (const p of wrote) env.log(`seed 9.4: ${p} differed from the pool's copy (master ${pool.master}): written`);
  const made: string[] = [];
  const plan = planMemberRepositories(pool.files[REPOSITORIES] ?? "", pool.files[REPOSITORIES_OPTIONS] ?? "", await mtab(env));
  if (plan.problems.length) return { state: "mismatch", reason: plan.problems.join("; "), wrote, made };
  for (const step of plan.steps) {
    // A device may have another name on this server: the volume must be the pool's before it is registered.
    if (step.source.startsWith("/dev/")) {
      const probe = await env.run(["blkid", "-o", "value", "-s", "UUID", step.source]);
      const uuid = probe.code === 0 ? probe.stdout.trim() : "";
      if (!uuid || repositoryUuidOf(uuid) !== step.uuid) {
        return { state: "mismatch", reason: `${step.source} here is ${uuid ? `volume ${repositoryUuidOf(uuid)}` : "no volume"}, not repository ${step.uuid}: not mounted`, wrote, made };
      }
    }
    const r = await env.run(["/usr/lib/ovs/ovs-makerepo", step.source, step.role, step.description]);
    if (r.code !== 0) return { state: "mismatch", reason: `ovs-makerepo ${step.source} ${step.role} failed: ${(r.stderr + r.stdout).trim().slice(-300) || `exit ${r.code}`}`, wrote, made };
    made.push(step.uuid);
    env.log(`seed 9.4: repository ${step.uuid} made live (ovs-makerepo ${step.source} ${step.role})`);
  }
  // ovs-makerepo rewrites the repository files: the pool's copies stay the reference.
  if (made.length) for (const p of await syncFiles(env, pool)) if (!wrote.includes(p)) wrote.push(p);
  const still = differingFiles(pool, await readLocal(env));
  if (still.length) return { state: "mismatch", reason: `${still.join(", ")} still differ from the pool's copies after writing them`, wrote, made };
  const again = planMemberRepositories(pool.files[REPOSITORIES] ?? "", pool.files[REPOSITORIES_OPTIONS] ?? "", await mtab(env));
  if (again.steps.length) return { state: "mismatch", reason: `repositories not mounted after propagation: ${again.steps.map((s) => `${s.uuid} at ${s.mountPoint}`).join(", ")}`, wrote, made };
  return { state: "ready", wrote, made };
}
