// The properties checked at every simulated instant.
import type { SimWorld } from "./world";

export class InvariantViolation extends Error {
  constructor(
    readonly t: number,
    message: string,
  ) {
    super(`t=${t}: ${message}`);
  }
}

/** No guest process runs on two servers at once; no server runs more guest memory than it has. */
export function checkInvariants(world: SimWorld): string[] {
  const problems: string[] = [];
  for (const [guest, servers] of world.whereRunning()) {
    if (servers.length > 1) problems.push(`guest ${guest} runs on ${servers.join(" and ")} at once`);
  }
  for (const s of world.servers.values()) {
    if (s.power && world.freeMb(s) < 0) problems.push(`server ${s.name} overcommitted by ${-world.freeMb(s)} MB`);
  }
  return problems;
}

export function assertInvariants(world: SimWorld): void {
  const problems = checkInvariants(world);
  if (problems.length) throw new InvariantViolation(world.t, problems.join("; "));
}
