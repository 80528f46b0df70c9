// events.txt: one timed command per line, `at <ms> <command> [argument]`; `#` starts a comment.
export const EVENT_COMMANDS = {
  crash: "server", // power lost: the server and its guests stop at once
  hang: "server", // dom0 stops answering; guests keep running
  partition: "server", // cut off from the watchdog and the other servers; guests keep running
  heal: "server", // undoes hang and partition
  "power-on": "server",
  shutdown: "server", // planned, requested through the watchdog
  restart: "server", // planned
  "remove-server": "server", // planned
  "fence-fails": "server",
  "fence-timeout": "server",
  "fence-ok": "server",
  "isolate-watchdog": "none", // the watchdog's own network is cut
  "heal-watchdog": "none",
  "restart-watchdog": "none", // state goes through JSON; answers in flight are lost
  "start-fails": "guest", // every `xm create` of this guest fails from now on
  "start-ok": "guest",
  end: "none",
} as const;

export type EventCommand = keyof typeof EVENT_COMMANDS;
export interface SimEvent {
  at: number;
  command: EventCommand;
  arg?: string;
  line: number;
}

export function parseEvents(text: string): SimEvent[] {
  const events: SimEvent[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const m = /^at\s+(\d+)\s+([a-z-]+)(?:\s+(\S+))?$/.exec(line);
    if (!m) throw new Error(`events.txt line ${i + 1}: expected "at <ms> <command> [argument]", got "${raw}"`);
    const command = m[2] as EventCommand;
    const kind = EVENT_COMMANDS[command];
    if (!kind) throw new Error(`events.txt line ${i + 1}: unknown command "${m[2]}"`);
    if ((kind === "none") !== (m[3] === undefined)) {
      throw new Error(`events.txt line ${i + 1}: "${command}" ${kind === "none" ? "takes no argument" : `needs a ${kind} name`}`);
    }
    events.push({ at: Number(m[1]), command, arg: m[3], line: i + 1 });
  }
  for (let i = 1; i < events.length; i++) {
    if (events[i].at < events[i - 1].at) throw new Error(`events.txt line ${events[i].line}: times must not go backwards`);
  }
  return events;
}
