// One look at a server's hypervisor: its domains (`xm list`) and memory/CPUs (`xm info`), in one SSH command.
import { ServerEndpoint, shellWithArgs } from "../../ssh";
import { parseXmInfo, parseXmList, XmDomain, XmInfo } from "../../parsers";
import { run } from "../../runtime/remote";

export interface ServerProbe {
  server: string;
  domains: XmDomain[];
  info: XmInfo;
}

const SEPARATOR = "@@ovm-ha:xm-info@@";

/** `xm list; xm info` on one server; rejects when the server cannot be reached or xm fails. */
export async function probeServer(server: ServerEndpoint): Promise<ServerProbe> {
  const r = await run(server, shellWithArgs('xm list && echo "$1" && xm info', SEPARATOR), { timeoutMs: 30000 });
  const at = r.stdout.indexOf(SEPARATOR + "\n");
  if (at < 0) throw new Error(`xm list/xm info printed no separator`);
  return { server: server.name, domains: parseXmList(r.stdout.slice(0, at)), info: parseXmInfo(r.stdout.slice(at + SEPARATOR.length + 1)) };
}

/** Guests (not Domain-0) in a running state, i.e. not shutting down. */
export function runningGuests(probe: ServerProbe): XmDomain[] {
  return probe.domains.filter((d) => d.name !== "Domain-0" && d.id !== null && !d.flags.shutdown && !d.flags.dying);
}

/** Short text for an error: never more than the first line of a message. */
export function reasonOf(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split("\n")[0];
}
