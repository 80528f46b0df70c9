// Starts a real lab for one test file in a fresh temporary directory and tears it down after.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as lab from "../../lab/lab";
import type { Fault, TestLab } from "./lab";

export async function startTestLab(opts: { servers: number; memoryMb?: number; lunSizeMb?: number }): Promise<TestLab> {
  if (process.getuid && process.getuid() !== 0) {
    throw new Error("lab tests need root: the lab makes mount namespaces, loop devices and cgroups (run npm test as root, as CI does)");
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-lab-"));
  const info = await lab.labUp({ dir, servers: opts.servers, memoryMb: opts.memoryMb, lunSizeMb: opts.lunSizeMb ?? 256 });
  let down = false;
  const t: TestLab = {
    info,
    dir,
    watchdogAddress: info.watchdogAddress!,
    async fault(fault: Fault, server: string) {
      switch (fault) {
        case "crash": case "power-off": return lab.crash(info, server);
        case "crash-silent": return lab.crash(info, server, { silent: true });
        case "hang": return lab.hang(info, server, "dom0");
        case "hang-machine": return lab.hang(info, server, "machine");
        case "partition": return lab.partition(info, server);
        case "heal": return lab.heal(info, server);
        case "power-on": return lab.powerOn(info, server);
        case "shutdown": await lab.shutdown(info, server); return;
      }
    },
    partitionFrom: (server, from) => lab.partition(info, server, { from }),
    xend: (server, fault) => lab.xend(info, server, fault),
    loseAnswers: (server, count, at) => lab.loseAnswers(info, server, count, at),
    inServer: (server, argv) => lab.inServer(info, server, argv),
    async check(opts = {}) {
      const check = require("../../lab/check") as typeof import("../../lab/check");
      const result = await check.checkLab(dir, opts);
      return { ok: result.ok, report: check.formatCheckReport(result), result };
    },
    async down() {
      if (down) return;
      down = true;
      await lab.labDown(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}
