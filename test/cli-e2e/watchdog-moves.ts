// The real watchdog (in-process, fence = the lab's power switch, as in the demo) moving the guests of an applied
// example, for the lifecycle's refresh step: a planned drain (`ovm-ha drain`'s drainServer: live migrations, the
// server stays up) or a crash (fenced, its guests restarted elsewhere). Returns where every guest runs afterwards,
// as `xm list` on the servers that are up shows it.
import { expect } from "chai";
import * as path from "path";
import pino from "pino";
import type { TestLab } from "../support/lab";
import { Watchdog } from "../../watchdog/daemon/watchdog";
import { parseWatchdogConfig } from "../../watchdog/daemon/config";
import { drainServer } from "../../watchdog/drain";
import type { LogLine } from "../../watchdog/core/types";
import { waitFor } from "../support/wait-for";
import { PROJECT_DIR } from "./pulumi-cli";
import { placements, Sh } from "./pool-checks";

const CLI_MAIN = path.join(PROJECT_DIR, "dist", "cli", "main.js");

export interface WatchdogMove {
  kind: "drain" | "crash";
  server: string;
}

export interface Placed {
  server: string;
  id: string;
}

/**
 * Starts the watchdog on the pool, lets it see every guest, drains or crashes `move.server`, waits until the
 * watchdog has every guest that ran there running elsewhere, and stops it. Asserts how they moved (a drain
 * migrates live and restarts nothing; a crash fences that server only and starts each of its guests once).
 */
export async function moveGuestsWithWatchdog(o: { lab: TestLab; sh: Sh; tmp: string; clusterRoot: string; guests: string[]; move: WatchdogMove }): Promise<Record<string, Placed>> {
  const { lab, move } = o;
  const config = parseWatchdogConfig({
    pool: { addresses: lab.info.servers.map((s) => s.address), clusterRoot: o.clusterRoot },
    ssh: { user: "root", privateKeyFile: lab.info.privateKeyPath, knownHostsFile: lab.info.knownHostsPath },
    fence: { "*": { off: [process.execPath, CLI_MAIN, "lab", "power", "off", "{server}", "--dir", lab.dir], status: [process.execPath, CLI_MAIN, "lab", "power", "status", "{server}", "--dir", lab.dir], timeoutMs: 15000 } },
    stateFile: path.join(o.tmp, `watchdog-state-${move.kind}.json`),
    log: { level: "info" },
  });
  const log: LogLine[] = [];
  const logger = pino({ level: "info" }, pino.destination({ dest: path.join(o.tmp, `watchdog-${move.kind}.log`), sync: true }));
  const wd = new Watchdog({ config, logger, onLog: (l) => log.push(l), processMetrics: false });
  const events = (event: string, since: number, guest?: string) => log.filter((l) => l.event === event && l.t >= since && (guest === undefined || l.guest === guest));
  const runningOn = (g: string) => {
    const st = wd.state?.guests[g]?.status;
    return st?.state === "running" ? st.server : undefined;
  };
  const tStart = Date.now();
  await wd.start();
  let moved: string[];
  try {
    await waitFor("the watchdog to see every guest running", () => o.guests.every((g) => runningOn(g)), 20000);
    const tSeen = Date.now();
    moved = o.guests.filter((g) => runningOn(g) === move.server);
    expect(moved, `guests on ${move.server} before the ${move.kind}`).to.not.deep.equal([]);
    const t0 = Date.now();
    if (move.kind === "drain") {
      const r = await drainServer(config, { server: move.server, timeoutMs: 60000 });
      expect(r.state, r.reason).to.equal("done");
    } else {
      await lab.fault("crash", move.server);
    }
    const tMove = Date.now();
    await waitFor(`the guests of ${move.server} running elsewhere`, () => moved.every((g) => runningOn(g) && runningOn(g) !== move.server), 40000);
    console.log(`      watchdog: every guest seen ${((tSeen - tStart) / 1000).toFixed(1)} s after start; ${move.kind} of ${move.server}: ${moved.join(", ")} running elsewhere ${((Date.now() - t0) / 1000).toFixed(1)} s after it began (the ${move.kind} call ${((tMove - t0) / 1000).toFixed(1)} s)`);
    for (const g of moved) {
      if (move.kind === "drain") {
        const seen = log.filter((l) => l.t >= t0 && l.guest === g).map((l) => `${l.event}${l.server ? `@${l.server}` : ""}`);
        expect(events("guest-migrate", t0, g), `${g} migrated (its events since the drain: ${seen.join(", ") || "none"})`).to.have.length(1);
        expect(events("guest-start", t0, g), `${g} never restarted`).to.have.length(0);
      } else {
        expect(events("guest-start", t0, g), `${g} restarted once`).to.have.length(1);
      }
    }
    if (move.kind === "crash") expect(events("server-fenced", t0).map((l) => l.server), "fenced").to.deep.equal([move.server]);
    else expect(events("server-fenced", t0), "nothing fenced in a drain").to.deep.equal([]);
  } finally {
    await wd.stop();
  }
  const up = lab.info.servers.map((s) => s.name).filter((s) => move.kind === "drain" || s !== move.server);
  const found = await placements(o.sh, up, o.guests);
  const placed: Record<string, Placed> = {};
  for (const g of o.guests) {
    expect(found[g], `${g} runs after the ${move.kind}`).to.not.equal(undefined);
    placed[g] = found[g]!;
  }
  for (const g of moved!) expect(placed[g].server, `${g} moved off ${move.server}`).to.not.equal(move.server);
  return placed;
}
