// events.txt: one timed command per line, `at <ms> <command> [argument] [number]`; `#` starts a comment.
export const EVENT_COMMANDS = {
  crash: "server", // power lost: the server and its guests stop at once
  hang: "server", // dom0 stops answering (sshd, xm); its guests keep running
  partition: "server", // cut off from the watchdog and the other servers; guests keep running
  cut: "server", // cut off from the watchdog only: the other servers still reach it
  "cut-peers": "server", // cut off from the other servers only (the migration channel): the watchdog still reaches it
  heal: "server", // undoes hang, partition, cut and cut-peers
  "power-on": "server",
  shutdown: "server", // planned, requested through the watchdog
  restart: "server", // planned
  "remove-server": "server", // planned
  "fence-fails": "server",
  "fence-timeout": "server",
  "fence-lies": "server", // the fence exits 0 but the server stays on (its status query says so)
  "fence-ok": "server",
  "xend-down": "server", // xm fails at once while SSH answers
  "xend-slow": "server+ms", // xm answers this many ms late
  "xend-up": "server",
  "ssh-slow": "server+ms", // the server is loaded: everything over SSH answers this many ms late (0: no more)
  "lose-answers": "server+n", // the next N commands on the server run, but their answers never arrive
  jitter: "ms", // from now on every answer comes up to this many ms late (so answers overtake each other)
  "isolate-watchdog": "none", // the watchdog's own network is cut
  "heal-watchdog": "none",
  "restart-watchdog": "none", // state goes through JSON; answers in flight are lost
  "hang-machine": "server", // the whole machine freezes (dom0, agent, guests); its watchdog device, outside, still runs
  "storage-loss": "server", // its writes to (and reads from) the shared storage fail: its agent cannot renew
  "storage-ok": "server",
  "agent-stop": "server", // the agent stops cleanly: its slot says stopped, its device is disarmed
  "operator-pill": "server", // ovm-ha fence SERVER --storage: a poison pill aimed at the boot in its slot
  "start-fails": "guest", // every `xm create` of this guest fails from now on
  "start-ok": "guest",
  end: "none",
} as const;

export type EventCommand = keyof typeof EVENT_COMMANDS;
export interface SimEvent {
  at: number;
  command: EventCommand;
  arg?: string;
  n?: number;
  line: number;
}

export function parseEvents(text: string): SimEvent[] {
  const events: SimEvent[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const m = /^at\s+(\d+)\s+([a-z-]+)(?:\s+(\S+))?(?:\s+(\d+))?$/.exec(line);
    if (!m) throw new Error(`events.txt line ${i + 1}: expected "at <ms> <command> [argument] [number]", got "${raw}"`);
    const command = m[2] as EventCommand;
    const kind = EVENT_COMMANDS[command];
    if (!kind) throw new Error(`events.txt line ${i + 1}: unknown command "${m[2]}"`);
    const wantsArg = kind !== "none";
    const wantsNumber = kind === "server+ms" || kind === "server+n";
    const ok = kind === "ms" ? /^\d+$/.test(m[3] ?? "") && m[4] === undefined : wantsArg === (m[3] !== undefined) && wantsNumber === (m[4] !== undefined);
    if (!ok) throw new Error(`events.txt line ${i + 1}: "${command}" takes ${usage(kind)}`);
    events.push({ at: Number(m[1]), command, arg: kind === "ms" ? undefined : m[3], n: kind === "ms" ? Number(m[3]) : m[4] !== undefined ? Number(m[4]) : undefined, line: i + 1 });
  }
  for (let i = 1; i < events.length; i++) {
    if (events[i].at < events[i - 1].at) throw new Error(`events.txt line ${events[i].line}: times must not go backwards`);
  }
  return events;
}

function usage(kind: string): string {
  switch (kind) {
    case "none":
      return "no argument";
    case "server+ms":
      return "a server name and a number of ms";
    case "server+n":
      return "a server name and a count";
    case "ms":
      return "a number of ms";
    default:
      return `a ${kind} name`;
  }
}

export function renderEvents(events: Omit<SimEvent, "line">[]): string {
  return events.map((e) => `at ${e.at} ${e.command}${e.arg !== undefined ? ` ${e.arg}` : ""}${e.n !== undefined ? ` ${e.n}` : ""}`).join("\n") + "\n";
}
