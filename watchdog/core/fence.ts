// How a failed server becomes known off, per fence method. A guest of an unreachable server is started
// elsewhere only after one of these says "off"; otherwise it stays where it is.
import type { FenceMethod, Timing } from "./ha-record";
import type { ServerStatus } from "./server-state";

export type FenceStart =
  | { kind: "issue" } // send a power fence, wait for its result
  | { kind: "lease-wait"; until: number } // wait until the server's self-fence has certainly fired
  | { kind: "impossible"; reason: string };

/**
 * Lease: the server's self-fence agent resets it `leaseMs` after it loses contact with the majority. It lost
 * contact no later than the first heartbeat the watchdog saw missed, so it is off by firstMissAt + leaseMs;
 * one more heartbeat interval covers clock drift between the two.
 */
export function startFence(method: FenceMethod, status: ServerStatus, timing: Timing, now: number): FenceStart {
  switch (method.method) {
    case "power":
      return { kind: "issue" };
    case "lease": {
      const lostAt = status.firstMissAt ?? now;
      return { kind: "lease-wait", until: lostAt + (timing.leaseMs ?? 0) + timing.heartbeatIntervalMs };
    }
    case "none":
      return { kind: "impossible", reason: "no fence method configured" };
  }
}

/** A power fence with no answer by then is treated as timed out (the environment should answer first). */
export function fenceDeadline(issuedAt: number, timing: Timing): number {
  return issuedAt + timing.fenceTimeoutMs + timing.heartbeatIntervalMs;
}
