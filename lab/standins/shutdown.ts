// Planned shutdown of a lab server, run inside it by `lab shutdown` before the lab stops its processes: like
// EL5's rc 0, every /etc/rc.d/rc0.d/K* script runs with "stop" in order (each bounded), then the guests still
// running are shut down as xendomains would.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const RC0 = "/etc/rc.d/rc0.d";
const SCRIPT_TIMEOUT_MS = Number(process.env.OVM_LAB_SHUTDOWN_HOOK_TIMEOUT_MS || 240000);

function log(line: string): void {
  process.stdout.write(`shutdown: ${line}\n`);
}

function main(): void {
  const scripts = fs.existsSync(RC0) ? fs.readdirSync(RC0).filter((f) => f.startsWith("K")).sort() : [];
  for (const s of scripts) {
    const file = path.join(RC0, s);
    log(`running ${file} stop`);
    const r = spawnSync(file, ["stop"], { stdio: "inherit", timeout: SCRIPT_TIMEOUT_MS });
    if (r.error) log(`${file} failed: ${r.error.message}`);
    else log(`${file} exited ${r.status ?? "by signal " + r.signal}`);
  }
  // xendomains: whatever is still running gets a clean shutdown, bounded.
  const list = spawnSync("/usr/sbin/xm", ["list"], { encoding: "utf8" });
  if (list.status === 0) {
    const names = list.stdout.split("\n").slice(1).map((l) => l.trim().split(/\s+/)[0]).filter((n) => n && n !== "Domain-0");
    for (const n of names) {
      log(`xm shutdown -w ${n}`);
      spawnSync("/usr/sbin/xm", ["shutdown", n, "-w"], { stdio: "inherit", timeout: 30000 });
    }
  }
  log("done");
}

if (require.main === module) main();
