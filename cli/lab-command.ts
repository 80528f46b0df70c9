// `ovm-ha lab ...`: start, stop and break a lab of simulated Oracle VM servers.
import { Command } from "commander";
import * as lab from "../lab/lab";
import * as power from "../lab/power";
import { parsePositiveInt, resolveDir } from "./main";

export function labCommand(): Command {
  const cmd = new Command("lab").description("a pool of simulated Oracle VM servers on this machine (needs root)");
  const dirOption = (c: Command) => c.option("--dir <dir>", "the lab's directory", lab.DEFAULT_LAB_DIR);

  dirOption(cmd.command("up").description("start N servers; write DIR/lab.json and print it"))
    .requiredOption("--servers <n>", "number of servers", parsePositiveInt)
    .option("--memory <mb>", "memory of each server in MB", parsePositiveInt)
    .option("--lun-size <mb>", "size of each shared LUN in MB", parsePositiveInt)
    .action(async (o: { dir: string; servers: number; memory?: number; lunSize?: number }) => {
      const info = await lab.labUp({ dir: resolveDir(o.dir), servers: o.servers, memoryMb: o.memory, lunSizeMb: o.lunSize });
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
  fault("crash", "the server dies at once: its sshd, its guests and any agent on it", lab.crash);
  fault("hang", "freeze every process of the server until `lab heal`", lab.hang);
  fault("partition", "the server keeps running but nothing can reach it over the network", lab.partition);
  fault("heal", "undo hang or partition", lab.heal);
  fault("shutdown", "planned shutdown: run the server's shutdown hooks, then stop it", (i, s) => lab.shutdown(i, s));

  dirOption(cmd.command("power <action> <server>").description("the lab's IPMI, printing what ipmitool prints: off = crash, on = boot again (empty of guests), status"))
    .action(async (action: string, server: string, o: { dir: string }) => {
      const info = lab.loadLab(resolveDir(o.dir));
      if (action === "off") process.stdout.write(await power.powerOff(info, server));
      else if (action === "on") process.stdout.write(await power.powerUp(info, server));
      else if (action === "status") process.stdout.write(power.powerStatus(info, server));
      else throw new Error(`power takes 'on', 'off' or 'status', got '${action}'`);
    });

  dirOption(cmd.command("fence-lies <server> <on|off>").description("a lying fence: while on, `power off` exits 0 and prints what ipmitool prints, but the server stays on"))
    .action(async (server: string, state: string, o: { dir: string }) => {
      if (state !== "on" && state !== "off") throw new Error(`fence-lies takes 'on' or 'off', got '${state}'`);
      power.setFenceLies(lab.loadLab(resolveDir(o.dir)), server, state === "on");
    });

  dirOption(cmd.command("status").description("each server's power, hang and partition state")).action(async (o: { dir: string }) => {
    const info = lab.loadLab(resolveDir(o.dir));
    process.stdout.write(JSON.stringify(lab.serverStates(info), null, 2) + "\n");
  });

  dirOption(cmd.command("check").description("split-brain checker: exit 0 and `ok` when no guest ever ran twice"))
    .action(async (o: { dir: string }) => {
      // Loaded at call time: the checker reads only the shared storage.
      const check = require("../lab/check") as typeof import("../lab/check");
      const result = await check.checkLab(resolveDir(o.dir));
      process.stdout.write(check.formatCheckReport(result) + "\n");
      if (!result.ok) process.exitCode = 1;
    });
  return cmd;
}
