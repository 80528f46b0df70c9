// Seed 9.4: "When an Oracle VM Agent is started in the server pool, this propagation is repeated for that Oracle VM
// Server." The master's propagated files (cluster.conf and the repositories files, provider/ops/server-pool/
// propagate.ts) are kept on the shared storage beside the pool's HA record, at <clusterRoot>/.ovm-ha/propagated.json,
// written by ServerPool whenever it propagates. The agent on a server, at start, compares its own copies with them,
// propagates again where they differ, and calls the server a failover target (slot state `ready`) only once they
// match. This module is the record and the pure comparison; the agent does the I/O (propagation.ts).
import * as path from "path";
import { z } from "zod";

export const PROPAGATED_SCHEMA_VERSION = 1;
export const CLUSTER_CONF = "/etc/ocfs2/cluster.conf";
export const REPOSITORIES = "/etc/ovs/repositories";
export const REPOSITORIES_OPTIONS = "/etc/ovs/repositories.options";
export const PROPAGATED_PATHS = [CLUSTER_CONF, REPOSITORIES, REPOSITORIES_OPTIONS] as const;

export function propagatedFile(clusterRoot: string): string {
  return path.posix.join(clusterRoot, ".ovm-ha", "propagated.json");
}

export const PropagatedSchema = z.object({
  schemaVersion: z.literal(PROPAGATED_SCHEMA_VERSION, { error: `schemaVersion must be ${PROPAGATED_SCHEMA_VERSION}` }),
  /** The master the files were read on. */
  master: z.string(),
  /**
   * Path -> content, for the files the master has (cluster.conf always). A file the master does not have is not
   * listed and not compared.
   */
  files: z.partialRecord(z.enum(PROPAGATED_PATHS, { error: `files keys must be one of ${PROPAGATED_PATHS.join(", ")}` }), z.string()),
});
export type Propagated = z.infer<typeof PropagatedSchema>;

export function renderPropagated(p: Propagated): string {
  return JSON.stringify(PropagatedSchema.parse(p), null, 2) + "\n";
}

export function parsePropagated(text: string): { ok: true; value: Propagated } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  const r = PropagatedSchema.safeParse(raw);
  return r.success ? { ok: true, value: r.data } : { ok: false, error: r.error.issues.map((i) => `${i.path.join(".") || "(file)"}: ${i.message}`).join("; ") };
}

/** The files whose local copy (undefined: missing) differs from the pool's, in the record's order. */
export function differingFiles(pool: Propagated, local: ReadonlyMap<string, string | undefined>): (typeof PROPAGATED_PATHS)[number][] {
  return PROPAGATED_PATHS.filter((p) => pool.files[p] !== undefined && local.get(p) !== pool.files[p]);
}
