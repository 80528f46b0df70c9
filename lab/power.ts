// The lab's IPMI, as `ipmitool chassis power ...` answers: `off` prints "Chassis Power Control: Down/Off",
// `on` "Chassis Power Control: Up/On", `status` "Chassis Power is on|off" (ipmitool's exact lines).
// A fence that lies (`lab fence-lies SERVER on`): off still exits 0 and prints the same line, but the server
// stays on. Status always tells the truth, so a watchdog that confirms with a status query can catch the lie.
// A BMC whose status query hangs (`lab fence-status-hang SERVER on`): `power status` gives no answer while it is
// on (as a BMC that accepts the session and never replies); the caller's deadline has to end it.
import * as fs from "fs";
import * as path from "path";
import { crash, LabError, powerOn } from "./lab";
import type { LabInfo } from "./layout";
import { serverIsRunning } from "./server";

function serverName(info: LabInfo, name: string): string {
  const s = info.servers.find((x) => x.name === name || x.address === name);
  if (!s) throw new LabError(`no server '${name}' in the lab at ${info.dir}; its servers are: ${info.servers.map((x) => x.name).join(", ")}`);
  return s.name;
}

/** Beside the servers' directories (which a power on prepares afresh), so that the lie outlives power cycles. */
const lieFile = (info: LabInfo, name: string) => path.join(info.dir, "fence-lies", name);

export function fenceLies(info: LabInfo, name: string): boolean {
  return fs.existsSync(lieFile(info, serverName(info, name)));
}

/** A fault flag is a file (its content says since when): present = on. */
function setFlag(file: string, on: boolean): void {
  if (on) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, new Date().toISOString() + "\n");
  } else fs.rmSync(file, { force: true });
}

export function setFenceLies(info: LabInfo, name: string, lies: boolean): void {
  setFlag(lieFile(info, serverName(info, name)), lies);
}

const statusHangFile = (info: LabInfo, name: string) => path.join(info.dir, "fence-status-hang", name);

export function setFenceStatusHang(info: LabInfo, name: string, hang: boolean): void {
  setFlag(statusHangFile(info, serverName(info, name)), hang);
}

export async function powerOff(info: LabInfo, name: string): Promise<string> {
  const server = serverName(info, name);
  if (!fenceLies(info, server)) await crash(info, server);
  return "Chassis Power Control: Down/Off\n";
}

export async function powerUp(info: LabInfo, name: string): Promise<string> {
  await powerOn(info, serverName(info, name));
  return "Chassis Power Control: Up/On\n";
}

export async function powerStatus(info: LabInfo, name: string): Promise<string> {
  const server = serverName(info, name);
  while (fs.existsSync(statusHangFile(info, server))) await new Promise((r) => setTimeout(r, 100));
  return `Chassis Power is ${serverIsRunning(info, server) ? "on" : "off"}\n`;
}
