// One heartbeat round for one server: `xm list` (and every few rounds `xm info`) in one SSH command over the
// connection the watchdog already holds. Between two `xm info`s, free memory follows the memory of the listed
// guests (what xend does as well: free = total - dom0 - domains).
import { allOf, type Command } from "../../provider/ssh";
import { xmInfo, xmList } from "../../provider/commands/xm";
import { parseXmList } from "../../provider/parsers/xm-list";
import { parseXmInfo } from "../../provider/parsers/xm-info";
import type { PollObservation, RunningGuest } from "../core/types";

const INFO_MARK = "==ovm-ha-xm-info==";

export function heartbeatCommand(withInfo: boolean): Command {
  return withInfo ? allOf(xmList(), ["echo", INFO_MARK], xmInfo()) : xmList();
}

export interface MemoryBaseline {
  totalMemoryMb: number;
  freeMemoryMb: number;
  /** Sum of the listed guests' memory when xm info was read. */
  guestsMb: number;
}

export interface HeartbeatAnswer {
  guests: RunningGuest[];
  info?: { totalMemoryMb: number; freeMemoryMb: number };
}

export function parseHeartbeat(stdout: string): HeartbeatAnswer {
  const at = stdout.indexOf(INFO_MARK);
  const listText = at < 0 ? stdout : stdout.slice(0, at);
  const guests = parseXmList(listText)
    .filter((d) => d.name !== "Domain-0" && d.id !== 0)
    .map((d) => ({ name: d.name, memoryMb: d.memoryMb }));
  if (at < 0) return { guests };
  const info = parseXmInfo(stdout.slice(at + INFO_MARK.length));
  return { guests, info: { totalMemoryMb: info.totalMemoryMb, freeMemoryMb: info.freeMemoryMb } };
}

const sum = (gs: RunningGuest[]) => gs.reduce((n, g) => n + g.memoryMb, 0);

/** The observation for an answered round; updates the baseline when xm info came with it. */
export function pollObservation(server: string, answer: HeartbeatAnswer, baseline: MemoryBaseline | undefined): { obs: PollObservation; baseline: MemoryBaseline } | undefined {
  const listed = sum(answer.guests);
  const base = answer.info ? { ...answer.info, guestsMb: listed } : baseline;
  if (!base) return undefined; // no memory figures yet: the caller asks for xm info next round
  const free = Math.max(0, base.freeMemoryMb - (listed - base.guestsMb));
  return {
    obs: { kind: "poll", server, ok: true, guests: answer.guests, totalMemoryMb: base.totalMemoryMb, freeMemoryMb: free },
    baseline: base,
  };
}
