// /etc/init.d/iscsi (RHEL 5 era) for lab servers: start logs in to every node record, stop logs out of every
// session, restart does both (the seed's `service iscsi restart` makes the discovered disk appear).
import * as fs from "fs";
import { login, logout } from "./iscsiadm";
import { readRecords, readSessions } from "../storage/iscsi-state";
import { Io, runStandin, serverPath, StandinContext } from "../storage/server-context";

const RUNNING = "/run/iscsi/iscsid.running";

export async function iscsiService(args: string[], ctx: StandinContext, io: Io): Promise<number> {
  const running = serverPath(ctx, RUNNING);
  const start = async () => {
    fs.mkdirSync(serverPath(ctx, "/run/iscsi"), { recursive: true });
    if (!fs.existsSync(running)) io.out("Starting iSCSI daemon:                                     [  OK  ]\n");
    fs.writeFileSync(running, String(process.pid));
    io.out("Setting up iSCSI targets: ");
    const pending = readRecords(ctx).filter((r) => !readSessions(ctx).some((s) => s.iqn === r.iqn && s.address === r.address));
    if (pending.length > 0) await login(ctx, io, { mode: "node", loginall: "automatic" });
    else if (readRecords(ctx).length === 0) io.out("iscsiadm: No records found\n");
    io.out("                                                           [  OK  ]\n");
    return 0;
  };
  const stop = async () => {
    if (readSessions(ctx).length > 0) await logout(ctx, io, { mode: "node", logoutall: "all" });
    io.out("Stopping iSCSI daemon: \n");
    fs.rmSync(running, { force: true });
    return 0;
  };
  switch (args[0]) {
    case "start":
      return start();
    case "stop":
      return stop();
    case "restart":
    case "reload":
    case "force-reload":
      await stop();
      return start();
    case "status":
      if (fs.existsSync(running)) {
        io.out(`iscsid (pid ${fs.readFileSync(running, "utf8").trim()}) is running...\n`);
        return 0;
      }
      io.out("iscsid is stopped\n");
      return 3;
    default:
      io.out("Usage: /etc/init.d/iscsi {start|stop|restart|status}\n");
      return 1;
  }
}

if (require.main === module) runStandin(iscsiService);
