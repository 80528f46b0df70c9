// All of the watchdog's I/O, behind one interface: the real one speaks SSH (xm list / xm info, fence commands),
// the simulated one (watchdog/sim) runs on a virtual clock.
import type { Action, Observation } from "./types";
import { step, type ManagerState } from "./manager";
import { serializeState } from "./durable-state";
import type { LogLine } from "./types";

export interface WatchdogEnvironment {
  /** Milliseconds; the manager never reads a clock itself. */
  now(): number;
  /** Everything observed since the last call: heartbeat rounds, command results, requests, config changes. */
  collect(): Observation[];
  /** Must be durable when it returns (write-file-atomic on shared storage in the real one). */
  persist(stateJson: string): void;
  /** Starts the commands; their results arrive through a later collect(). */
  execute(actions: Action[]): void;
  report(lines: LogLine[]): void;
}

/** One turn of the daemon loop: observe, decide, persist, act (in that order; see durable-state.ts). */
export function turn(env: WatchdogEnvironment, state: ManagerState): ManagerState {
  const result = step(state, env.collect(), env.now());
  env.persist(serializeState(result.state));
  env.report(result.log);
  env.execute(result.actions);
  return result.state;
}
