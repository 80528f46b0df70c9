// Stable OCFS2 node numbers: a server keeps its number while others join or leave (o2cb identifies nodes by
// number; renumbering a live node would make peers treat it as a different node).

export const MAX_NODE_NUMBER = 254;

/**
 * Keeps each current server's previous number (0..254), then gives new servers the lowest free numbers, in
 * the order the servers are listed. Numbers of servers no longer listed are released. When `previous` maps two
 * current servers to the same number, the one listed first keeps it. Pure; throws when more than 255 servers.
 */
export function assignNodeNumbers(
  previous: Readonly<Record<string, number>> | undefined,
  servers: readonly (string | { name: string })[],
): Record<string, number> {
  const names = servers.map((s) => (typeof s === "string" ? s : s.name));
  if (names.length > MAX_NODE_NUMBER + 1) {
    throw new RangeError(`an OCFS2 cluster has at most ${MAX_NODE_NUMBER + 1} nodes; got ${names.length} servers`);
  }
  const result: Record<string, number> = {};
  const taken = new Set<number>();
  const prev = previous ?? {};
  for (const name of names) {
    if (Object.prototype.hasOwnProperty.call(result, name)) continue;
    const n = Object.prototype.hasOwnProperty.call(prev, name) ? prev[name] : undefined;
    if (typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= MAX_NODE_NUMBER && !taken.has(n)) {
      result[name] = n;
      taken.add(n);
    }
  }
  let next = 0;
  for (const name of names) {
    if (Object.prototype.hasOwnProperty.call(result, name)) continue;
    while (taken.has(next)) next++;
    result[name] = next;
    taken.add(next);
  }
  return result;
}
