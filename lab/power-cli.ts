// The lab's power switch as a small tool of its own, as ipmitool is beside a real pool:
//   node dist/lab/power-cli.js off|on|status SERVER [--dir DIR]
// Same code and output as `ovm-ha lab power ...`, without loading the rest of the CLI (the watchdog, SSH, the
// provider): under load that saves about a second per call, and a fence makes two calls (off, then status).
// It runs on the host or inside a lab server (the lab dir and the project are mounted at the same paths there), as
// a watchdog in etcd mode runs a fence's off on a pool server. Each off and on is appended to DIR/power.log (one
// JSON line: when, what, which server, from which machine): what the lab's switch really did, for tests to assert.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEFAULT_LAB_DIR, loadLab } from "./lab";
import { powerOff, powerStatus, powerUp } from "./power";
import { SERVER_IDENTITY } from "./layout";

function powerLog(dir: string, action: string, server: string): void {
  let from = `host ${os.hostname()}`;
  try {
    from = (JSON.parse(fs.readFileSync(SERVER_IDENTITY, "utf8")) as { name: string }).name;
  } catch {
    /* on the host */
  }
  fs.appendFileSync(path.join(dir, "power.log"), JSON.stringify({ at: Date.now(), action, server, from, pid: process.pid }) + "\n");
}

async function main(argv: string[]): Promise<void> {
  const args = [...argv];
  let dir = DEFAULT_LAB_DIR;
  const at = args.indexOf("--dir");
  if (at >= 0) {
    if (args[at + 1] === undefined) throw new Error("--dir needs a directory");
    dir = args[at + 1];
    args.splice(at, 2);
  }
  const [action, server, ...rest] = args;
  if (!action || !server || rest.length) throw new Error("usage: power-cli off|on|status SERVER [--dir DIR]");
  const info = loadLab(path.resolve(dir));
  if (action === "off") {
    powerLog(info.dir, "off", server);
    process.stdout.write(await powerOff(info, server));
  } else if (action === "on") {
    powerLog(info.dir, "on", server);
    process.stdout.write(await powerUp(info, server));
  }
  else if (action === "status") process.stdout.write(await powerStatus(info, server));
  else throw new Error(`power takes 'on', 'off' or 'status', got '${action}'`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: Error) => {
    process.stderr.write(`ovm-ha lab power: ${e.message}\n`);
    process.exit(1);
  });
}
