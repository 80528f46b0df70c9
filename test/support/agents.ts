// Test helper: `ovm-ha agent` on lab servers, installed and run exactly as ServerPool does it on a real pool (the
// same init script, the same S98/K02 links, so the agent starts again at every boot, a hardware-watchdog reset
// included). Each lab server has /dev/watchdog (lab/hw-watchdog.ts); its timeout is the lab's (default 4000 ms;
// `startAgents({ deviceTimeoutMs })`, `lab watchdog-timeout MS`, `lab up --watchdog-timeout MS`) and must match the pool record's
// timing.agent.deviceTimeoutMs (the agent reads its timing from <clusterRoot>/.ovm-ha/pool.json).
//
//   const lab = await startTestLab({ servers: 3 });
//   const pool = new LabPool(lab); pool.writePool({ timing: { agent: { intervalMs: 1000, leaseMs: 3000, deviceTimeoutMs: 4000 } } });
//   const agents = await startAgents(lab, { clusterRoot: pool.root, deviceTimeoutMs: 4000 });  // armed, slots `ready`
//   ... agents.slot("ovs2"), agents.resets("ovs2"), writePill(pool.root, "ovs2", bootId, "test") ...
//   await agents.stopAll();                                              // clean stops: devices disarmed
// The agents read timing.agent from pool.json when they start: after writePool() changes it, restartAll().
// Storage faults: storageLoss(lab.info, S, "fail" | "hang") / storageRestore(lab.info, S) from lab/storage-loss.ts.
import * as fs from "fs";
import * as path from "path";
import { Pill, pillFile, parseSlot, renderPill, Slot, slotFile } from "../../ha/disk-heartbeat";
import { AGENT_PATHS, agentInitScript } from "../../watchdog/agent/agent-init-script";
import { propagatedFile, renderPropagated } from "../../watchdog/agent/propagated-files";
import { hwWatchdogResets, HwWatchdogReset, hwWatchdogStatus, HwWatchdogStatus, setHwWatchdogTimeout } from "../../lab/hw-watchdog-control";
import { layout } from "../../lab/layout";
import type { TestLab } from "./lab";
import { waitFor } from "./wait-for";

export interface StartAgentsOptions {
  /** The cluster root as the servers see it (LabPool.root: the same path on the host and in every server). */
  clusterRoot: string;
  /** Where the host sees it, when different (a ServerPool-made /OVS/<UUID>); default clusterRoot. */
  hostClusterRoot?: string;
  /** Default: every server of the lab. */
  servers?: string[];
  /**
   * Seed 9.4's reference: without a <clusterRoot>/.ovm-ha/propagated.json (ServerPool writes it), one listing no
   * files is written, so the agents' check has nothing to differ on and they become `ready`. Default true.
   */
  writePropagated?: boolean;
  /** Wait until every slot says `ready` (default) or just armed (pid file, first slot). */
  waitReady?: boolean;
  timeoutMs?: number;
  /**
   * Sets the lab's hardware watchdog timeout first (applies from the next open of /dev/watchdog); keep it equal to
   * the pool record's timing.agent.deviceTimeoutMs. Default: the lab's as it is (4000 ms unless set).
   */
  deviceTimeoutMs?: number;
}

export interface LabAgents {
  readonly servers: string[];
  /** The slot as the shared storage holds it now (undefined: none or unreadable). */
  slot(server: string): Slot | undefined;
  /** Waits (bounded) until the slot satisfies `pred`; returns it. */
  waitSlot(server: string, pred: (s: Slot) => boolean, what: string, timeoutMs?: number): Promise<Slot>;
  /** The lab's record of the resets the server's hardware watchdog made (the world's evidence, not the agent's). */
  resets(server: string): HwWatchdogReset[];
  watchdog(server: string): HwWatchdogStatus;
  /** The agent's log on the server (/var/log/ovm-ha-agent.log). */
  log(server: string): string;
  /** `/etc/rc.d/init.d/ovm-ha-agent start|stop` on the server. */
  start(server: string): Promise<void>;
  stop(server: string): Promise<void>;
  /** Clean stops on every server that is up (devices disarmed), before `lab.down()`. */
  stopAll(): Promise<void>;
  /** Clean stop and start on every server (to pick up a new timing.agent), waiting until each slot is `ready`. */
  restartAll(): Promise<void>;
}

function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp.${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** Writes a poison pill as the watchdog would (aimed at `bootId`, or at any boot with null). */
export function writePill(hostClusterRoot: string, server: string, bootId: string | null, reason: string, writer = "test"): Pill {
  const pill: Pill = { schemaVersion: 1, server, bootId, writer, reason, writtenAt: Date.now() };
  writeAtomic(pillFile(hostClusterRoot, server), renderPill(pill));
  return pill;
}

export function readSlot(hostClusterRoot: string, server: string): Slot | undefined {
  try {
    const r = parseSlot(fs.readFileSync(slotFile(hostClusterRoot, server), "utf8"));
    return r.ok ? r.value : undefined;
  } catch {
    return undefined;
  }
}

async function run(lab: TestLab, server: string, argv: string[], what: string): Promise<string> {
  const r = await lab.inServer(server, argv);
  if (r.code !== 0) throw new Error(`${what} on ${server} failed (exit ${r.code}): ${(r.stdout + r.stderr).trim()}`);
  return r.stdout;
}

/** Installs the init script and its links (as ServerPool does), then starts the agent on each server. */
export async function startAgents(lab: TestLab, opts: StartAgentsOptions): Promise<LabAgents> {
  const servers = opts.servers ?? lab.info.servers.map((s) => s.name);
  const host = opts.hostClusterRoot ?? opts.clusterRoot;
  if (opts.deviceTimeoutMs !== undefined) setHwWatchdogTimeout(lab.dir, opts.deviceTimeoutMs);
  if (opts.writePropagated !== false && !fs.existsSync(propagatedFile(host))) {
    writeAtomic(propagatedFile(host), renderPropagated({ schemaVersion: 1, master: servers[0], files: {} }));
  }
  const install = 'set -e; f="$1"; text="$2"; shift 2; mkdir -p "$(dirname "$f")"; printf "%s" "$text" > "$f"; chmod 755 "$f"; for l in "$@"; do mkdir -p "$(dirname "$l")"; ln -sfn "$f" "$l"; done';
  const agents: LabAgents = {
    servers,
    slot: (s) => readSlot(host, s),
    async waitSlot(s, pred, what, timeoutMs = 30000) {
      try {
        return await waitFor(`${s}: slot ${what}`, () => { const x = readSlot(host, s); return x !== undefined && pred(x) ? x : undefined; }, timeoutMs, 50);
      } catch (e) {
        throw new Error(`${(e as Error).message} (last slot: ${JSON.stringify(readSlot(host, s))}; agent log: ${agents.log(s).split("\n").slice(-6).join(" | ")})`);
      }
    },
    resets: (s) => hwWatchdogResets(lab.dir, s),
    watchdog: (s) => hwWatchdogStatus(lab.dir, s),
    log(s) {
      try {
        return fs.readFileSync(path.join(layout.serverUpper(lab.dir, s), AGENT_PATHS.log), "utf8");
      } catch {
        return "";
      }
    },
    async start(s) {
      await run(lab, s, [AGENT_PATHS.initScript, "start"], "starting the agent");
    },
    async stop(s) {
      await run(lab, s, [AGENT_PATHS.initScript, "stop"], "stopping the agent");
    },
    async stopAll() {
      await Promise.all(servers.map(async (s) => {
        if (!agents.watchdog(s).running) return;
        try {
          await agents.stop(s);
        } catch {
          /* hung or down: lab.down() ends it */
        }
      }));
    },
    async restartAll() {
      await Promise.all(servers.map(async (s) => {
        await agents.stop(s);
        const stopped = agents.slot(s)?.seq ?? 0;
        await agents.start(s);
        await agents.waitSlot(s, (x) => x.state === "ready" && x.seq > stopped, "ready after the restart", opts.timeoutMs ?? 30000);
      }));
    },
  };
  await Promise.all(servers.map(async (s) => {
    await run(lab, s, ["sh", "-c", install, "install", AGENT_PATHS.initScript, agentInitScript({ server: s, clusterRoot: opts.clusterRoot }), ...AGENT_PATHS.startLinks, ...AGENT_PATHS.stopLinks], "installing the agent");
    await agents.start(s);
  }));
  if (opts.waitReady !== false) {
    await Promise.all(servers.map((s) => agents.waitSlot(s, (x) => x.state === "ready", "ready", opts.timeoutMs ?? 30000)));
  }
  return agents;
}
