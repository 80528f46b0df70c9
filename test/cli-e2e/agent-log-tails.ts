// When a CLI run fails, what each server's ovm-ha agent and hardware watchdog last said: the agent's log
// (/var/log/ovm-ha-agent.log in the server's file system) and the lab's record of the resets its timer made. A
// failed stop of an agent is otherwise only "did not stop within 15 s".
import * as fs from "fs";
import * as path from "path";
import { hwWatchdogFiles } from "../../lab/hw-watchdog-control";
import { layout } from "../../lab/layout";

function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch (e) {
    return `(${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
}

export function agentLogTails(labDir: string, servers: string[], lines = 12): string {
  return servers
    .map((s) => {
      const log = tail(path.join(layout.serverUpper(labDir, s), "var", "log", "ovm-ha-agent.log"), lines);
      const resets = tail(hwWatchdogFiles.resets(labDir, s), 3);
      return `--- ${s}: agent log (last ${lines} lines)\n${log}\n--- ${s}: hardware watchdog resets\n${resets}`;
    })
    .join("\n");
}
