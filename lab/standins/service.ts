// service NAME ARGS: runs /etc/init.d/NAME ARGS, as RHEL's service(8) does.
import * as fs from "fs";
import { spawnSync } from "child_process";

export function service(argv: string[]): number {
  const [name, ...args] = argv;
  if (!name) {
    process.stdout.write("Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]\n");
    return 1;
  }
  const script = `/etc/init.d/${name}`;
  if (!fs.existsSync(script)) {
    process.stderr.write(`${name}: unrecognized service\n`);
    return 1;
  }
  const r = spawnSync(script, args, { stdio: "inherit" });
  return r.status ?? 1;
}

if (require.main === module) process.exitCode = service(process.argv.slice(2));
