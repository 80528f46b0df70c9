// The self-fencing agent's service on each server (issue 12), installed as the drain hook is: its init script and
// rc links (watchdog/agent/agent-init-script.ts), started once installed; and, on the shared storage, the master's
// propagated files (seed 9.4: the agent compares them at every start, watchdog/agent/propagated-files.ts).
// Removal stops the agent cleanly (slot `stopped`, device disarmed) before its files go.
import { ServerEndpoint, shellWithArgs } from "../../ssh";
import { ensureFile, readFile, removeFile, run } from "../../runtime/remote";
import { AGENT_PATHS, agentInitScript } from "../../../watchdog/agent/agent-init-script";
import { propagatedFile, PROPAGATED_PATHS, renderPropagated } from "../../../watchdog/agent/propagated-files";
import { slotFile } from "../../../ha/disk-heartbeat";

export interface AgentSettings {
  server: string;
  clusterRoot: string;
}

const LINKS = [...AGENT_PATHS.startLinks, ...AGENT_PATHS.stopLinks];
const LINK_PROBE = 'for l in "$@"; do printf "%s\\n" "$(readlink -- "$l" || true)"; done';

async function linksInPlace(server: ServerEndpoint): Promise<boolean> {
  const r = await run(server, shellWithArgs(LINK_PROBE, ...LINKS));
  const lines = r.stdout.split("\n");
  return LINKS.every((_, i) => lines[i] === AGENT_PATHS.initScript);
}

/** Whether the script and its links are as installAgent makes them, and the agent runs (read only). */
export async function agentInSync(server: ServerEndpoint, a: AgentSettings): Promise<boolean> {
  if (!(await linksInPlace(server))) return false;
  if ((await readFile(server, AGENT_PATHS.initScript)) !== agentInitScript(a)) return false;
  const status = await run(server, [AGENT_PATHS.initScript, "status"], { okCodes: [0, 1, 2, 3] });
  return status.code === 0;
}

/**
 * Installs the init script and its S98/K02 links (writing only what differs), then starts the agent, or restarts
 * it when its script changed. Fails, naming the server and the agent's own words, when it does not arm.
 */
export async function installAgent(server: ServerEndpoint, a: AgentSettings): Promise<boolean> {
  let wrote = (await ensureFile(server, AGENT_PATHS.initScript, agentInitScript(a), { mode: "755" })) === "written";
  if (!(await linksInPlace(server))) {
    const script = 'set -e; t="$1"; shift; for l in "$@"; do mkdir -p -- "$(dirname -- "$l")"; ln -sfn -- "$t" "$l"; done';
    await run(server, shellWithArgs(script, AGENT_PATHS.initScript, ...LINKS), { write: true, step: "linking the ovm-ha agent into rc3.d, rc5.d, rc0.d, rc6.d" });
    wrote = true;
  }
  const status = await run(server, [AGENT_PATHS.initScript, "status"], { okCodes: [0, 1, 2, 3] });
  if (status.code === 0 && !wrote) return false;
  const r = await run(server, [AGENT_PATHS.initScript, status.code === 0 ? "restart" : "start"], { okCodes: [0, 1], write: true, step: "starting the ovm-ha agent" });
  if (r.code !== 0) throw new Error(`the ovm-ha agent did not start on ${server.name}: ${(r.stdout + r.stderr).trim().split("\n").slice(-3).join(" ")}`);
  return true;
}

/**
 * Restarts a running agent (its timing is read from the pool record at start: a change of timing.agent needs it).
 */
export async function restartAgent(server: ServerEndpoint): Promise<void> {
  const r = await run(server, [AGENT_PATHS.initScript, "restart"], { okCodes: [0, 1], write: true, step: "restarting the ovm-ha agent" });
  if (r.code !== 0) throw new Error(`the ovm-ha agent did not restart on ${server.name}: ${(r.stdout + r.stderr).trim().split("\n").slice(-3).join(" ")}`);
}

/** Clean stop (the device disarmed), then the script, its links and the agent's slot on the shared storage. */
export async function removeAgent(server: ServerEndpoint, clusterRoot: string | undefined): Promise<void> {
  const present = await run(server, shellWithArgs('[ -e "$1" ] && echo yes || echo no', AGENT_PATHS.initScript));
  if (present.stdout.trim() === "yes") {
    const r = await run(server, [AGENT_PATHS.initScript, "stop"], { okCodes: [0, 1], write: true, step: "stopping the ovm-ha agent" });
    if (r.code !== 0) throw new Error(`the ovm-ha agent did not stop on ${server.name}: ${(r.stdout + r.stderr).trim()}`);
  }
  await run(server, shellWithArgs('for p in "$@"; do rm -f -- "$p"; done', AGENT_PATHS.initScript, ...LINKS, AGENT_PATHS.lockFile, AGENT_PATHS.pidFile), { write: true, step: `removing the ovm-ha agent from ${server.name}` });
  if (clusterRoot) await removeFile(server, slotFile(clusterRoot, server.name));
}

/** The master's propagated files on the shared storage (written only when they differ). */
export async function writePropagated(master: ServerEndpoint, clusterRoot: string, files: Map<string, string>): Promise<boolean> {
  const listed: Partial<Record<(typeof PROPAGATED_PATHS)[number], string>> = {};
  for (const p of PROPAGATED_PATHS) if (files.has(p)) listed[p] = files.get(p)!;
  const text = renderPropagated({ schemaVersion: 1, master: master.name, files: listed });
  return (await ensureFile(master, propagatedFile(clusterRoot), text, { mode: "644" })) === "written";
}

export async function removePropagated(master: ServerEndpoint, clusterRoot: string): Promise<void> {
  await removeFile(master, propagatedFile(clusterRoot));
}
