// What the daemon (watchdog/daemon/watchdog.ts) calls in etcd mode, in one place: load the state from etcd,
// publish the fencing token on the shared storage before acting, persist through the leadership transaction,
// execute a turn's actions only once that transaction committed, and wrap every xm command in the guard.
import type { Registry } from "prom-client";
import type { SshPool, ServerEndpoint } from "../../provider/ssh";
import { restoreState } from "../core/durable-state";
import type { ManagerState } from "../core/manager";
import type { Action } from "../core/types";
import type { WatchdogConfig } from "../daemon/config";
import { endpointFor, seedEndpoints } from "../daemon/ssh-access";
import type { FenceMethodConfig } from "../daemon/config";
import type { FenceTarget, OffStep, StepResult } from "../daemon/fence-runner";
import { ConnectTimeoutError, ConnectionError, ChannelOpenError, CommandTimeoutError, RemoteCommandError } from "../../provider/ssh";
import { guardedCommand, publishTokenCommand, tokenFile } from "./fencing-token";
import { guardedFenceOff } from "./guarded-fence";
import { NotLeaderError, type Replica, type ReplicaLog } from "./replica";

/** Actions that change the world: their turn's state must be in etcd, under our leadership, before they run. */
const WORLD_ACTIONS = new Set<Action["kind"]>(["fence", "start", "migrate", "stop", "proceed"]);

export class ReplicaHook {
  #json?: string;
  readonly file: string;

  /** The replica's metrics are served by run-replica (standing by or leading), not through the watchdog's registry. */
  constructor(readonly replica: Replica, readonly config: WatchdogConfig, readonly ssh: SshPool, _registry?: Registry) {
    this.file = tokenFile(config.pool.clusterRoot);
  }

  /**
   * Records our fencing token on the shared storage, then loads the last leader's state. Once the token is recorded
   * (under the exclusive lock), no guarded command of an older leader is still running or can start: so a command
   * in flight is settled by a listing sent from now on, without waiting for the old command's deadline.
   */
  async loadState(_commandDeadlineMs: number, log: ReplicaLog): Promise<ManagerState | undefined> {
    const json = await this.replica.loadState();
    const saved = json === undefined ? undefined : (JSON.parse(json) as { pool?: { servers?: { name: string; address: string; sshPort: number }[] } });
    const servers = [...(saved?.pool?.servers ?? []).map((s) => endpointFor(this.config, { name: s.name, address: s.address, port: s.sshPort })), ...seedEndpoints(this.config)];
    await this.publishToken(servers, log);
    return json === undefined ? undefined : restoreState(json, Date.now(), 0);
  }

  /**
   * Writes our token as the newest on the shared storage, through any server that answers (they all see the same
   * file). Until this succeeds nothing is executed: an older leader's guarded commands still pass before it.
   */
  async publishToken(servers: ServerEndpoint[], log: ReplicaLog): Promise<void> {
    const token = this.replica.token;
    if (token === undefined) throw new NotLeaderError("not the leader");
    for (;;) {
      for (const ep of servers) {
        try {
          await this.ssh.exec(ep, publishTokenCommand(this.file, token), { timeoutMs: 5000 });
          log.info({ event: "token-published", server: ep.name, token }, `fencing token ${token} recorded on the shared storage (through ${ep.name})`);
          return;
        } catch (e) {
          log.warn({ event: "token-publish-failed", server: ep.name, err: (e as Error).message }, `cannot record the fencing token through ${ep.name}`);
        }
        if (!this.replica.leading) throw new NotLeaderError("deposed before the fencing token was recorded");
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** Keeps the turn's state; execute (afterCommit) commits it, proving leadership when actions touch the world. */
  persist(stateJson: string): void {
    this.#json = stateJson;
  }

  /** Called right after persist() for the same turn (core/environment.ts: persist, report, execute). */
  afterCommit(actions: Action[], run: (a: Action[]) => void, log: ReplicaLog): void {
    const json = this.#json;
    this.#json = undefined;
    const world = actions.some((a) => WORLD_ACTIONS.has(a.kind));
    if (json === undefined) {
      if (actions.length) log.warn({ event: "actions-dropped", loud: true }, "actions without a persisted state: not executed");
      return;
    }
    this.replica.commit(json, world).then(
      () => {
        // Last check on this side (the fence runs here, not behind the server-side guard): leading, lease unexpired.
        if (actions.length && this.replica.leading && this.replica.leaseFresh()) run(actions);
        else if (actions.length) log.warn({ event: "actions-dropped", loud: true, actions: actions.length }, "not executed: leadership or lease no longer certain");
      },
      (e: Error) => {
        if (actions.length) log.warn({ event: "actions-dropped", loud: true, actions: actions.length, err: e.message }, `not executed (${actions.map((a) => a.kind).join(", ")}): ${e.message}`);
      },
    );
  }

  /**
   * The fence's off step for runFence: on the first of `runners` (healthy pool servers, never the target) that
   * can be reached, through the guard. A runner that cannot be reached (the command never started) is passed over.
   */
  fenceOff(runners: () => ServerEndpoint[], log: ReplicaLog): OffStep {
    return async (f: FenceMethodConfig, target: FenceTarget, password: string | undefined, timeoutMs: number): Promise<StepResult & { display: string }> => {
      const t0 = Date.now();
      const token = this.replica.token;
      let display = "fence off";
      let g;
      try {
        if (token === undefined) throw new NotLeaderError("not the leader: fence not sent");
        g = guardedFenceOff(f, target, password, this.file, token);
        display = g.display;
      } catch (e) {
        return { code: null, signal: null, output: "", timedOut: false, error: (e as Error).message, display };
      }
      const candidates = runners().filter((ep) => ep.name !== target.name && ep.address !== target.address);
      if (!candidates.length) return { code: null, signal: null, output: "", timedOut: false, error: "no healthy pool server (other than the target) to run the fence through its guard", display };
      const errors: string[] = [];
      for (const ep of candidates) {
        const left = timeoutMs - (Date.now() - t0);
        if (left <= 0) break;
        const shown = `${display} (on ${ep.name}, behind the fencing-token guard)`;
        freezePoint("fence", log);
        try {
          const r = await this.ssh.exec(ep, g.argv, { input: g.input, timeoutMs: left });
          return { code: r.code, signal: null, output: r.stdout + r.stderr, timedOut: false, display: shown };
        } catch (e) {
          if (e instanceof RemoteCommandError) return { code: e.exitCode, signal: (e.signal as NodeJS.Signals | null) ?? null, output: `${e.stdout}${e.stderr}`, timedOut: false, display: shown };
          if (e instanceof CommandTimeoutError) return { code: null, signal: null, output: "", timedOut: true, display: shown };
          if (e instanceof ConnectTimeoutError || e instanceof ConnectionError || e instanceof ChannelOpenError) {
            errors.push(`${ep.name}: ${(e as Error).message}`);
            continue; // never started there: another server may do
          }
          // Lost after it was sent: it may be running; its outcome is unknown.
          return { code: null, signal: null, output: (e as Error).message, timedOut: true, display: shown };
        }
      }
      return { code: null, signal: null, output: "", timedOut: false, error: `no pool server could run the fence: ${errors.join("; ") || "no time left"}`, display };
    };
  }

  guard(argv: readonly string[]): string[] {
    const token = this.replica.token;
    if (token === undefined) throw new NotLeaderError("not the leader: command not sent");
    return guardedCommand(this.file, token, argv);
  }
}

/**
 * Fault injection for the lab tests (README "etcd mode"): with OVM_HA_FAULT_FREEZE=fence in its environment, the
 * replica stops itself (SIGSTOP) at the last instant before the fence leaves: every watchdog-side check passed.
 * Only a SIGCONT resumes it. Never set in production.
 */
const frozenAt = new Set<string>();
function freezePoint(point: string, log: ReplicaLog): void {
  if (process.env.OVM_HA_FAULT_FREEZE !== point || frozenAt.has(point)) return;
  frozenAt.add(point); // once per process
  log.warn({ event: "fault-freeze", point }, `fault injection: freezing before the ${point} leaves`);
  process.kill(process.pid, "SIGSTOP");
}
