// False-reset soak of `ovm-ha agent` (issue 12: "No healthy server resets itself during a 10-minute run with both
// cores saturated"): 4 lab servers running 40 guests, an agent on each with the default timing (interval 1 s, lease
// 3 s, device timeout 4 s) and the lab's hardware watchdog at 4 s, while CPU hogs (busy-loop node processes at
// normal priority, one per core by default, as bench/watchdog-soak.ts) saturate the machine. Nothing fails and no
// pill is written, so every reset and every self-fence is a false one. Counted from the world: the lab's own record
// of each hardware watchdog reset (hw-watchdog.resets, written by the timer on the host), slots that say
// `self-fencing` or a new boot id, the guests' run records (`lab check`, longest gap). Measured from the host by
// reading every slot and every timer's state every 200 ms: the worst gap between slot renewals (the agent's own
// `writtenAt` of consecutive seqs) and between device feeds (the timer's `lastKeepaliveAt`, as the timer saw them).
// Hogs `shared` (default, as bench/watchdog-soak.ts): children of this process, in its session. With the kernel's
// autogroup scheduling (sched_autogroup_enabled=1) a session is one scheduling group, so they weigh as one against
// the agent's session (the init script starts it with setsid). Hogs `sessions`: each hog in a session of its own
// (setsid), so N hogs weigh N groups, as N busy daemons in dom0 would.
// Exits non-zero if a server reset or fenced itself, or `lab check` fails.
// Run (root): sh scripts/node22 node dist/bench/agent-soak.js [minutes=10] [hogs=cores] [shared|sessions]
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import { DEFAULT_AGENT_TIMING } from "../ha/disk-heartbeat";
import { hwWatchdogResets, readHwWatchdogState } from "../lab/hw-watchdog-control";
import { readSlot, startAgents, type LabAgents } from "../test/support/agents";
import { startTestLab } from "../test/support/lab";
import { LabPool } from "../test/watchdog-e2e/lab-pool";
import { sleep } from "../test/support/wait-for";

const GUESTS = 40;
const SAMPLE_MS = 200;

interface Watch {
  seq?: number;
  writtenAt?: number;
  bootId?: string;
  keepaliveAt?: number;
  /** Worst gap between consecutive slot renewals (consecutive seqs, the agent's writtenAt). */
  worstRenewalMs: number;
  /** Renewals seen two or more seqs apart (the sampler missed one: the gap over them is not counted). */
  skippedSeqs: number;
  worstFeedMs: number;
  renewals: number;
  feeds: number;
  bootIds: Set<string>;
  selfFencing: string[];
  states: Set<string>;
}

function sample(pool: LabPool, labDir: string, s: string, w: Watch): void {
  const slot = readSlot(pool.root, s);
  if (slot) {
    w.bootIds.add(slot.bootId);
    w.states.add(slot.state);
    if (slot.state === "self-fencing" && !w.selfFencing.includes(`${slot.bootId}:${slot.seq}`)) w.selfFencing.push(`${slot.bootId}:${slot.seq}`);
    if (w.seq !== undefined && slot.bootId === w.bootId && slot.seq > w.seq) {
      if (slot.seq === w.seq + 1) w.worstRenewalMs = Math.max(w.worstRenewalMs, slot.writtenAt - w.writtenAt!);
      else w.skippedSeqs++;
      w.renewals += slot.seq - w.seq;
    }
    w.seq = slot.seq;
    w.writtenAt = slot.writtenAt;
    w.bootId = slot.bootId;
  }
  const st = readHwWatchdogState(labDir, s);
  const k = st?.lastKeepaliveAt;
  if (k !== undefined && k !== w.keepaliveAt) {
    if (w.keepaliveAt !== undefined && k > w.keepaliveAt) {
      w.worstFeedMs = Math.max(w.worstFeedMs, k - w.keepaliveAt);
      w.feeds++;
    }
    w.keepaliveAt = k;
  }
}

function loadavg(): string {
  return os.loadavg().map((x) => x.toFixed(1)).join(" ");
}

async function main(): Promise<void> {
  const minutes = Number(process.argv[2] || 10);
  const hogCount = Number(process.argv[3] || os.cpus().length);
  const hogMode = process.argv[4] || "shared";
  if (hogMode !== "shared" && hogMode !== "sessions") throw new Error(`hog mode is 'shared' or 'sessions', got '${hogMode}'`);
  let autogroup = "unknown";
  try { autogroup = fs.readFileSync("/proc/sys/kernel/sched_autogroup_enabled", "utf8").trim() === "1" ? "on" : "off"; } catch { /* no such sysctl */ }
  const timing = DEFAULT_AGENT_TIMING;
  const lab = await startTestLab({ servers: 4 });
  const hogs: ChildProcess[] = [];
  let agents: LabAgents | undefined;
  try {
    const pool = new LabPool(lab);
    // No fence settings: the agents only (nobody writes a pill). timing.agent is the product's default.
    pool.writePool({ timing: { agent: { ...timing } } });
    const names = lab.info.servers.map((s) => s.name);
    const guests: string[] = [];
    for (let i = 0; i < GUESTS; i++) {
      const g = `a${String(i + 1).padStart(3, "0")}`;
      pool.addGuest(g, { memoryMb: 256 });
      guests.push(g);
    }
    await Promise.all(names.map(async (s, k) => { for (let i = k; i < GUESTS; i += names.length) await pool.startGuest(guests[i], s); }));
    agents = await startAgents(lab, { clusterRoot: pool.root, deviceTimeoutMs: timing.deviceTimeoutMs });
    const resetsBefore = new Map(names.map((s) => [s, hwWatchdogResets(lab.dir, s).length]));

    const watch = new Map<string, Watch>(names.map((s) => [s, { worstRenewalMs: 0, skippedSeqs: 0, worstFeedMs: 0, renewals: 0, feeds: 0, bootIds: new Set(), selfFencing: [], states: new Set() }]));
    process.once("exit", () => { for (const h of hogs) if (h.exitCode === null) h.kill("SIGKILL"); }); // sessions: not in our group
    for (let i = 0; i < hogCount; i++) hogs.push(spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore", detached: hogMode === "sessions" }));
    const t0 = Date.now();
    const end = t0 + minutes * 60000;
    process.stdout.write(`agent soak: ${minutes} min, ${hogCount} CPU hogs (busy loops, normal priority, ${hogMode === "sessions" ? "each in its own session" : "in the bench's session"}; autogroup ${autogroup}) on ${os.cpus().length} cores; 4 servers, ${GUESTS} guests; agent interval ${timing.intervalMs} ms, lease ${timing.leaseMs} ms, device timeout ${timing.deviceTimeoutMs} ms; load ${loadavg()}\n`);
    const loads: number[] = [];
    let worstSampleLagMs = 0;
    let nextReport = t0 + 30000;
    let last = Date.now();
    while (Date.now() < end) {
      await sleep(SAMPLE_MS);
      const now = Date.now();
      worstSampleLagMs = Math.max(worstSampleLagMs, now - last - SAMPLE_MS);
      last = now;
      for (const s of names) sample(pool, lab.dir, s, watch.get(s)!);
      if (now >= nextReport) {
        nextReport += 30000;
        loads.push(os.loadavg()[0]);
        const resets = names.map((s) => hwWatchdogResets(lab.dir, s).length - resetsBefore.get(s)!).reduce((a, b) => a + b, 0);
        const worstR = Math.max(...[...watch.values()].map((w) => w.worstRenewalMs));
        const worstF = Math.max(...[...watch.values()].map((w) => w.worstFeedMs));
        process.stdout.write(`  +${Math.round((now - t0) / 1000)} s: load ${loadavg()}; resets ${resets}; worst renewal gap ${worstR} ms, worst feed gap ${worstF} ms\n`);
      }
    }
    const t1 = Date.now();
    for (const h of hogs) h.kill("SIGKILL");
    await sleep(2000); // a reset that began at the end of the load gets recorded
    const check = await lab.check({ guests, since: t0, until: t1 });
    const worstGuestGap = Math.max(...check.result.expected.map((e) => e.downtimeMs));
    const avgLoad = loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length);
    process.stdout.write(`\nagent soak: ${((t1 - t0) / 60000).toFixed(1)} min under ${hogCount} CPU hogs (${hogMode}, autogroup ${autogroup}), 4 servers, ${GUESTS} guests, default agent timing (${timing.intervalMs} / ${timing.leaseMs} / ${timing.deviceTimeoutMs} ms)\n`);
    process.stdout.write(`  load average (1 min): mean ${avgLoad.toFixed(1)}, max ${Math.max(...loads).toFixed(1)}; at the end ${loadavg()} (machine shared with other work)\n`);
    let bad = 0;
    for (const s of names) {
      const w = watch.get(s)!;
      const resets = hwWatchdogResets(lab.dir, s).slice(resetsBefore.get(s)!);
      const fencedLog = agents.log(s).split("\n").filter((l) => l.includes("SELF-FENCING"));
      bad += resets.length + w.selfFencing.length + (w.bootIds.size > 1 ? 1 : 0);
      process.stdout.write(
        `  ${s}: hardware watchdog resets ${resets.length}${resets.length ? ` (${resets.map((r) => `at +${Math.round((r.at - t0) / 1000)} s, unfed ${r.at - r.lastKeepaliveAt} ms`).join("; ")})` : ""}; ` +
        `self-fencing slots ${w.selfFencing.length}, agent log SELF-FENCING lines ${fencedLog.length}; boots seen ${w.bootIds.size}; ` +
        `renewals ${w.renewals} (worst gap ${w.worstRenewalMs} ms${w.skippedSeqs ? `, ${w.skippedSeqs} sampled across a skipped seq` : ""}); feeds ${w.feeds} (worst gap ${w.worstFeedMs} ms)\n`,
      );
      for (const l of fencedLog) process.stdout.write(`      ${l}\n`);
    }
    process.stdout.write(`  sampler (every ${SAMPLE_MS} ms, normal priority): worst extra delay ${worstSampleLagMs} ms\n`);
    process.stdout.write(`  guests: longest gap in a guest's run records ${worstGuestGap} ms; lab check: ${check.ok ? `ok (${check.result.expected.length} guests ran, none on two servers at once)` : check.report}\n`);
    process.stdout.write(`  verdict: ${bad === 0 && check.ok ? "no healthy server reset or fenced itself" : "A HEALTHY SERVER RESET OR FENCED ITSELF (or lab check failed)"}\n`);
    if (bad > 0 || !check.ok) process.exitCode = 1;
  } finally {
    for (const h of hogs) if (h.exitCode === null) h.kill("SIGKILL");
    if (agents) await agents.stopAll();
    await lab.down();
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
