// A single watchdog (no etcd) is fenced against its own previous process the way replicas are against an older
// leader (watchdog/replica/fencing-token.ts): each start takes the next token on the shared storage, under the
// exclusive lock that every guarded xm command holds shared until xm returns, and sends its own commands through
// the guard. Once the token is taken, no command of an earlier process is still running or can start: the commands
// it left in flight are settled by the first listings sent afterwards (one heartbeat), not by waiting for their
// deadlines (xend finishes a create even after its client is gone; the guard keeps xm, and so the lock, alive).
import type pino from "pino";
import type { ServerEndpoint, SshPool } from "../../provider/ssh";
import { nextTokenCommand } from "../replica/fencing-token";

/** The new token, or undefined when no server took it in time (then commands in flight wait for their deadlines). */
export async function takeIncarnation(ssh: SshPool, endpoints: ServerEndpoint[], file: string, timeoutMs: number, log: pino.Logger): Promise<string | undefined> {
  for (const ep of endpoints) {
    try {
      const r = await ssh.exec(ep, nextTokenCommand(file), { timeoutMs });
      const token = r.stdout.trim();
      if (!/^[1-9][0-9]{0,18}$/.test(token)) throw new Error(`unreadable token '${token.slice(0, 40)}'`);
      log.info({ event: "token-taken", server: ep.name, token }, `fencing token ${token} taken on the shared storage (through ${ep.name}): earlier processes' commands have ended or will be refused`);
      return token;
    } catch (e) {
      log.warn({ event: "token-failed", server: ep.name, err: (e as Error).message }, `cannot take a fencing token through ${ep.name}`);
    }
  }
  log.warn({ event: "token-unavailable", loud: true }, "no fencing token taken: commands left in flight by an earlier process are settled only at their deadlines, and commands are sent unguarded");
  return undefined;
}
