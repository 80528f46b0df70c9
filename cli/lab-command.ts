// `ovm-ha lab ...`: start, stop and break a lab of simulated Oracle VM servers.
import { Command } from "commander";
import * as lab from "../lab/lab";
import * as power from "../lab/power";
import { setHwWatchdogTimeout } from "../lab/hw-watchdog-control";
import { parsePositiveInt, resolveDir } from "./main";

export function labCommand(): Command {
  const cmd = new Command("lab").description("a pool of simulated Oracle VM servers on this machine (needs root)");
  const dirOption = (c: Command) => c.option("--dir <dir>", "the lab's directory", lab.DEFAULT_LAB_DIR);

  dirOption(cmd.command("up").description("start N servers; write DIR/lab.json and print it"))
    .requiredOption("--servers <n>", "number of servers", parsePositiveInt)
    .option("--memory <mb>", "memory of each server in MB", parsePositiveInt)
    .option("--lun-size <mb>", "size of each shared LUN in MB", parsePositiveInt)
    .option("--watchdog-timeout <ms>", "timeout of each server's hardware watchdog (/dev/watchdog), like softdog's soft_margin (default 4000)", parsePositiveInt)
    .action(async (o: { dir: string; servers: number; memory?: number; lunSize?: number; watchdogTimeout?: number }) => {
      const info = await lab.labUp({ dir: resolveDir(o.dir), servers: o.servers, memoryMb: o.memory, lunSizeMb: o.lunSize, watchdogTimeoutMs: o.watchdogTimeout });
      process.stdout.write(JSON.stringify(info, null, 2) + "\n");
    });

  dirOption(cmd.command("down").description("stop everything the lab started (idempotent)")).action(async (o: { dir: string }) => {
    await lab.labDown(resolveDir(o.dir));
  });

  const fault = (name: string, description: string, run: (info: ReturnType<typeof lab.loadLab>, server: string) => Promise<unknown>) => {
    dirOption(cmd.command(`${name} <server>`).description(description)).action(async (server: string, o: { dir: string }) => {
      const info = lab.loadLab(resolveDir(o.dir));
      const out = await run(info, server);
      if (typeof out === "string" && out) process.stdout.write(out);
    });
  };
  dirOption(cmd.command("crash <server>").description("the server dies at once: its sshd, its guests and any agent on it"))
    .option("--silent", "its address drops every packet from the crash until power-on, as a dead machine's does (without it this host's kernel resets its connections)")
    .action(async (server: string, o: { dir: string; silent?: boolean }) => {
      await lab.crash(lab.loadLab(resolveDir(o.dir)), server, { silent: o.silent === true });
    });
  dirOption(cmd.command("hang <server>").description("freeze dom0 (sshd, xm, agents) until `lab heal`; its guests keep running"))
    .option("--machine", "freeze the whole machine, guests too")
    .action(async (server: string, o: { dir: string; machine?: boolean }) => {
      await lab.hang(lab.loadLab(resolveDir(o.dir)), server, o.machine ? "machine" : "dom0");
    });
  dirOption(cmd.command("partition <server>").description("cut the server off the network (both ways) until `lab heal`"))
    .option("--from <address>", "cut only the traffic between the server and this address (or server name); the rest still reach it")
    .action(async (server: string, o: { dir: string; from?: string }) => {
      await lab.partition(lab.loadLab(resolveDir(o.dir)), server, { from: o.from });
    });
  fault("heal", "undo hang and partition (every --from cut too)", lab.heal);
  dirOption(cmd.command("xend <server> <state> [ms]").description("xend down (xm fails as with xend stopped), slow MS (xm answers MS late), or up; SSH keeps working"))
    .option("--stale", "with slow: handle each request at once and hold only its answer back MS (an answer overtaken by events)")
    .action(async (server: string, state: string, ms: string | undefined, o: { dir: string; stale?: boolean }) => {
      const info = lab.loadLab(resolveDir(o.dir));
      if (state === "down" || state === "up") {
        if (ms !== undefined || o.stale) throw new Error(`xend ${state} takes no milliseconds and no --stale`);
        await lab.xend(info, server, state === "down" ? { mode: "down" } : undefined);
      } else if (state === "slow") {
        if (ms === undefined) throw new Error("xend slow needs the delay in milliseconds, e.g. `lab xend ovs1 slow 3000`");
        await lab.xend(info, server, { mode: "slow", ms: parsePositiveInt(ms), stale: o.stale === true });
      } else {
        throw new Error(`xend takes 'down', 'slow MS' or 'up', got '${state}'`);
      }
    });
  dirOption(cmd.command("lose-answers <server> <n>").description("the next N commands on the server run, but their answers never arrive (their SSH connection is cut); 0 disarms"))
    .option("--at <when>", "end: cut when the command has ended (default); start: cut once it started, leaving it running", "end")
    .option("--match <text>", "only commands whose text contains TEXT count (default: every command)", "")
    .action(async (server: string, n: string, o: { dir: string; at: string; match: string }) => {
      if (o.at !== "end" && o.at !== "start") throw new Error(`--at takes 'end' or 'start', got '${o.at}'`);
      const count = Number(n);
      if (!/^\d+$/.test(n)) throw new Error(`lose-answers takes a whole number of commands (0 disarms), got '${n}'`);
      await lab.loseAnswers(lab.loadLab(resolveDir(o.dir)), server, count, o.at, o.match);
    });
  dirOption(cmd.command("storage-loss <server>").description("the server loses its shared storage (only it): every read and write fails (EIO) or hangs, until `lab storage-restore` or a power cycle"))
    .option("--mode <mode>", "fail: EIO at once; hang: no answer until restored (like a dead NFS hard mount)", "fail")
    .action(async (server: string, o: { dir: string; mode: string }) => {
      if (o.mode !== "fail" && o.mode !== "hang") throw new Error(`--mode takes 'fail' or 'hang', got '${o.mode}'`);
      const sl = require("../lab/storage-loss") as typeof import("../lab/storage-loss");
      const info = lab.loadLab(resolveDir(o.dir));
      await sl.storageLoss(info, lab.serverName(info, server), o.mode);
    });
  dirOption(cmd.command("storage-restore <server>").description("give the server its shared storage back (operations waiting on a hang complete)"))
    .action(async (server: string, o: { dir: string }) => {
      const sl = require("../lab/storage-loss") as typeof import("../lab/storage-loss");
      const info = lab.loadLab(resolveDir(o.dir));
      await sl.storageRestore(info, lab.serverName(info, server));
    });
  fault("shutdown", "planned shutdown: run the server's shutdown hooks, then stop it", (i, s) => lab.shutdown(i, s));

  dirOption(cmd.command("power <action> <server>").description("the lab's IPMI, printing what ipmitool prints: off = crash, on = boot again (empty of guests), status"))
    .action(async (action: string, server: string, o: { dir: string }) => {
      const info = lab.loadLab(resolveDir(o.dir));
      if (action === "off") process.stdout.write(await power.powerOff(info, server));
      else if (action === "on") process.stdout.write(await power.powerUp(info, server));
      else if (action === "status") process.stdout.write(await power.powerStatus(info, server));
      else throw new Error(`power takes 'on', 'off' or 'status', got '${action}'`);
    });

  dirOption(cmd.command("fence-lies <server> <on|off>").description("a lying fence: while on, `power off` exits 0 and prints what ipmitool prints, but the server stays on"))
    .action(async (server: string, state: string, o: { dir: string }) => {
      if (state !== "on" && state !== "off") throw new Error(`fence-lies takes 'on' or 'off', got '${state}'`);
      power.setFenceLies(lab.loadLab(resolveDir(o.dir)), server, state === "on");
    });

  dirOption(cmd.command("fence-status-hang <server> <on|off>").description("a fence device whose status query hangs: while on, `power status` never answers (off still works)"))
    .action(async (server: string, state: string, o: { dir: string }) => {
      if (state !== "on" && state !== "off") throw new Error(`fence-status-hang takes 'on' or 'off', got '${state}'`);
      power.setFenceStatusHang(lab.loadLab(resolveDir(o.dir)), server, state === "on");
    });

  dirOption(cmd.command("watchdog-timeout <ms>").description("set the hardware watchdogs' timeout (applies from the next open of /dev/watchdog on each server)"))
    .action(async (ms: string, o: { dir: string }) => {
      const info = lab.loadLab(resolveDir(o.dir));
      setHwWatchdogTimeout(info.dir, parsePositiveInt(ms));
    });

  dirOption(cmd.command("status").description("the watchdog's source address, each server's power, hang, partition and xend state, and its hardware watchdog (armed, resets)"))
    .action(async (o: { dir: string }) => {
      const info = lab.loadLab(resolveDir(o.dir));
      process.stdout.write(JSON.stringify(lab.labStatus(info), null, 2) + "\n");
    });

  dirOption(cmd.command("check").description("split-brain checker: fails on a guest that ran twice at once, an expected guest with no run record in the window, or nothing to check; reports each guest's downtime"))
    .option("--guests <names>", "comma-separated guests that must have run (default: the HA guest records on the shared storage)")
    .option("--since <time>", "window start: ISO time or epoch ms (default: the first record of an expected guest)")
    .option("--until <time>", "window end: ISO time or epoch ms (default: now)")
    .option("--max-downtime <ms>", "also fail when a guest went longer than this without a record", parsePositiveInt)
    .option("--json", "print the whole result as JSON")
    .action(async (o: { dir: string; guests?: string; since?: string; until?: string; maxDowntime?: number; json?: boolean }) => {
      // Loaded at call time: the checker reads only the shared storage.
      const check = require("../lab/check") as typeof import("../lab/check");
      const guests = o.guests === undefined ? undefined : o.guests.split(",").map((g) => g.trim()).filter(Boolean);
      const result = await check.checkLab(resolveDir(o.dir), {
        guests,
        since: o.since === undefined ? undefined : parseTime("--since", o.since),
        until: o.until === undefined ? undefined : parseTime("--until", o.until),
        maxDowntimeMs: o.maxDowntime,
      });
      process.stdout.write((o.json ? JSON.stringify(result, null, 2) : check.formatCheckReport(result)) + "\n");
      if (!result.ok) process.exitCode = 1;
    });
  return cmd;
}

function parseTime(option: string, value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new Error(`${option} takes an ISO time (2026-11-29T14:00:00Z) or epoch milliseconds, got '${value}'`);
  return ms;
}
