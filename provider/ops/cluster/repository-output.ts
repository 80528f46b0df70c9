// What the ovs-* scripts leave behind, read by the provider (pure): ovs-makerepo's
// `Repository UUID (SOURCE) mounted at /OVS/UUID` line and /etc/ovs/repositories (`UUID SOURCE` per line after
// `#` comments; formats.md: not confirmed from an Oracle source, the lab's documented choice).

export interface RepositoryRecord {
  uuid: string;
  source: string;
}

export interface MakerepoResult extends RepositoryRecord {
  mountPoint: string;
}

/** The `Repository ... mounted at ...` line of ovs-makerepo, or undefined. */
export function parseMakerepoOutput(text: string): MakerepoResult | undefined {
  for (const line of text.split("\n")) {
    const m = /^Repository\s+([0-9A-Fa-f]+)\s+\((.+)\)\s+mounted at\s+(\/\S+)\s*$/.exec(line.trim());
    if (m) return { uuid: m[1].toUpperCase(), source: m[2], mountPoint: m[3] };
  }
  return undefined;
}

/** /etc/ovs/repositories: `UUID SOURCE` lines; comments and blank lines skipped. */
export function parseRepositoriesFile(text: string): RepositoryRecord[] {
  const out: RepositoryRecord[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const f = line.split(/\s+/);
    if (f.length >= 2 && /^[0-9A-Fa-f]+$/.test(f[0])) out.push({ uuid: f[0].toUpperCase(), source: f[1] });
  }
  return out;
}

/** The repository mount path of a UUID, as ovs-makerepo mounts it. */
export function repositoryMountPoint(uuid: string): string {
  return `/OVS/${uuid}`;
}

/** `ERROR: ...` lines of ovs-cluster-check, for an error message. */
export function clusterCheckProblems(text: string): string[] {
  return text.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("ERROR:")).map((l) => l.slice(6).trim());
}
