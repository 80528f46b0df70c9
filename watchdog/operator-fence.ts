// `ovm-ha fence SERVER --storage`: an operator's poison pill. Through any configured pool address that answers, it
// reads the pool record and the slots, then writes the pill into SERVER's slot, aimed at the boot its slot shows
// (writer "operator"). The agent on SERVER destroys its guests and stops feeding its watchdog device: SERVER is off
// within the message wait, even if nobody can reach it over the network. The watchdog sees the slot go
// self-fencing (or stale) and restarts the guests elsewhere once it knows.
import type { SshPool } from "../provider/ssh";
import { messageWaitMs, type Pill } from "../ha/disk-heartbeat";
import { PoolRecordSchema, describeIssues } from "../ha/ha-record";
import type { WatchdogConfig } from "./daemon/config";
import { parseSlots, pillFor, readSlotsCommand, writePill } from "./daemon/disk-heartbeat-io";
import { readRemoteFile, seedEndpoints, sshPoolFromConfig } from "./daemon/ssh-access";

export interface OperatorFenceResult {
  pill: Pill;
  via: string;
  messageWaitMs: number;
  /** Said to the operator: the slot's state and what to expect. */
  warnings: string[];
}

export async function storageFenceByOperator(config: WatchdogConfig, server: string, reason: string, ssh: SshPool = sshPoolFromConfig(config, { connectTimeoutMs: 5000 })): Promise<OperatorFenceResult> {
  const root = config.pool.clusterRoot;
  const errors: string[] = [];
  try {
    for (const ep of seedEndpoints(config)) {
      try {
        const text = await readRemoteFile(ssh, ep, `${root}/.ovm-ha/pool.json`, 10000);
        if (text === undefined) throw new Error(`no pool record at ${root}/.ovm-ha/pool.json`);
        const pool = PoolRecordSchema.safeParse(JSON.parse(text));
        if (!pool.success) throw new Error(`pool record: ${describeIssues(pool.error).join("; ")}`);
        const names = pool.data.servers.map((s) => s.name);
        if (!names.includes(server)) throw new UsageError(`server '${server}' is not in pool '${pool.data.name}' (its servers: ${names.join(", ")})`);
        const read = await ssh.exec(ep, readSlotsCommand(root), { timeoutMs: 10000 });
        const slot = parseSlots(read.stdout, names).slots[server];
        const warnings: string[] = [];
        // A pill aimed at no boot would be obeyed by every later boot (an agent removes only pills aimed at an
        // earlier boot): refused rather than leave a server that resets itself at every start.
        if (!slot) throw new UsageError(`${server} has no readable agent slot under ${root}/.ovm-ha/slots: no pill written (a pill aimed at no boot would reset every later boot); is ovm-ha agent running there?`);
        if (slot.state === "stopped") warnings.push(`${server}'s agent is stopped and its watchdog device disarmed: nothing will reset it until an agent runs again`);
        const pill = pillFor(server, slot.bootId, "operator", reason, Date.now());
        await writePill(ssh, ep, root, pill, 10000);
        return { pill, via: ep.name, messageWaitMs: messageWaitMs(pool.data.timing.agent), warnings };
      } catch (e) {
        if (e instanceof UsageError) throw e;
        errors.push(`${ep.name}: ${(e as Error).message}`);
      }
    }
    throw new Error(`no pool address answered: ${errors.join("; ")}`);
  } finally {
    ssh.close();
  }
}

export class UsageError extends Error {}
