// One heartbeat round for one server: `xm list` (and every few rounds `xm info`) in one SSH command over the
// connection the watchdog already holds, with a bare `true` beside it on a second channel: if `true` answers and
// xm does not (fails, or is too slow), SSH is alive and only xend is not: the server is degraded, not lost.
// Between two `xm info`s, free memory follows the memory of the listed guests (what xend does as well).
import { allOf, type Command } from "../../provider/ssh";
import { xmInfo, xmList } from "../../provider/commands/xm";
import { parseXmList } from "../../provider/parsers/xm-list";
import { parseXmInfo } from "../../provider/parsers/xm-info";
import type { PollObservation, RunningGuest } from "../core/types";

const INFO_MARK = "==ovm-ha-xm-info==";
/** xend renames the source copy of a live migration in progress (XendCheckpoint: "migrating-" + name). */
const MIGRATING_PREFIX = "migrating-";

export function heartbeatCommand(withInfo: boolean): Command {
  return withInfo ? allOf(xmList(), ["echo", INFO_MARK], xmInfo()) : xmList();
}

/** The liveness probe sent beside the listing: answers whenever sshd and a shell run. */
export const SSH_ALIVE_COMMAND: Command = ["true"];

export interface MemoryBaseline {
  totalMemoryMb: number;
  freeMemoryMb: number;
  /** Sum of the listed guests' memory when xm info was read. */
  guestsMb: number;
}

export interface HeartbeatAnswer {
  guests: RunningGuest[];
  info?: { totalMemoryMb: number; freeMemoryMb: number };
  /** Domain-0's Time(s) column. */
  dom0CpuSeconds?: number;
}

export function parseHeartbeat(stdout: string): HeartbeatAnswer {
  const at = stdout.indexOf(INFO_MARK);
  const listText = at < 0 ? stdout : stdout.slice(0, at);
  const domains = parseXmList(listText);
  const dom0 = domains.find((d) => d.name === "Domain-0" || d.id === 0);
  const guests = domains
    .filter((d) => d.name !== "Domain-0" && d.id !== 0)
    .map((d) =>
      d.name.startsWith(MIGRATING_PREFIX) && d.name.length > MIGRATING_PREFIX.length
        ? { name: d.name.slice(MIGRATING_PREFIX.length), memoryMb: d.memoryMb, migrating: true }
        : { name: d.name, memoryMb: d.memoryMb, ...(d.flags.paused ? { paused: true } : {}) },
    );
  const answer: HeartbeatAnswer = { guests };
  if (dom0) answer.dom0CpuSeconds = dom0.cpuTimeSeconds;
  if (at < 0) return answer;
  const info = parseXmInfo(stdout.slice(at + INFO_MARK.length));
  return { ...answer, info: { totalMemoryMb: info.totalMemoryMb, freeMemoryMb: info.freeMemoryMb } };
}

const sum = (gs: RunningGuest[]) => gs.reduce((n, g) => n + g.memoryMb, 0);

/** The observation for an answered round; updates the baseline when xm info came with it. */
export function pollObservation(
  server: string,
  answer: HeartbeatAnswer,
  baseline: MemoryBaseline | undefined,
  times: { sentAt: number; answeredAt: number },
): { obs: PollObservation; baseline: MemoryBaseline } | undefined {
  const listed = sum(answer.guests);
  const base = answer.info ? { ...answer.info, guestsMb: listed } : baseline;
  if (!base) return undefined; // no memory figures yet: the caller asks for xm info next round
  const free = Math.max(0, base.freeMemoryMb - (listed - base.guestsMb));
  const obs: PollObservation = { kind: "poll", server, ok: true, guests: answer.guests, totalMemoryMb: base.totalMemoryMb, freeMemoryMb: free, ...times };
  if (answer.dom0CpuSeconds !== undefined) obs.dom0CpuSeconds = answer.dom0CpuSeconds;
  return { obs, baseline: base };
}
