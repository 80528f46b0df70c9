// Seed 9.4 step 1: "the Oracle VM Agent on the Server Pool Master propagates the repositories and the
// cluster.conf file to other Oracle VM Servers in the server pool". Files are read on the master, read back on
// each member in one command, and written (atomically, with a backup) only where they differ.
import { ServerEndpoint, shellWithArgs } from "../../ssh";
import { ensureFile, run } from "../../runtime/remote";

export const PROPAGATED_FILES = ["/etc/ovs/repositories", "/etc/ovs/repositories.options", "/etc/ocfs2/cluster.conf"] as const;

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
  const found = await readFiles(master, PROPAGATED_FILES.filter((f) => f !== "/etc/ocfs2/cluster.conf"));
  const out = new Map<string, string>();
  for (const [p, c] of found) if (c !== undefined) out.set(p, c);
  out.set("/etc/ocfs2/cluster.conf", clusterConf);
  return out;
}

/** Makes the member's copies equal the master's; returns the paths written. */
export async function propagateTo(member: ServerEndpoint, files: Map<string, string>): Promise<string[]> {
  const current = await readFiles(member, [...files.keys()]);
  const written: string[] = [];
  for (const [path, content] of files) {
    if (current.get(path) === content) continue;
    await ensureFile(member, path, content, { mode: "644", backup: true });
    written.push(path);
  }
  return written;
}
