// The planned-shutdown hook (seed 9.1: "When a Virtual Machine Server is restarted or shut down, the guests
// running on it are ... migrated to another Virtual Machine Server"): an EL5 init script, run with "stop" by rc 0
// (halt) and rc 6 (reboot) through K01 links, that asks the HA watchdog to drain this server and waits, bounded.
// The script's text and paths are the watchdog's (watchdog/agent/drain-hook.ts); this module installs it.
import { ServerEndpoint, shellWithArgs } from "../../ssh";
import { ensureFile, run } from "../../runtime/remote";
import { DRAIN_HOOK_PATHS, drainHookScript } from "../../../watchdog/agent/drain-hook";

export const HOOK_SCRIPT = DRAIN_HOOK_PATHS.initScript;
/** rc 0 (halt) and rc 6 (reboot) run K scripts with "stop"; K01 runs first, before xendomains stops the guests. */
export const HOOK_LINKS = [DRAIN_HOOK_PATHS.haltLink, DRAIN_HOOK_PATHS.rebootLink] as const;
/** S99 in the multi-user runlevels recreates the subsys lock EL5's rc needs to run a K script at all. */
export const HOOK_START_LINKS = DRAIN_HOOK_PATHS.startLinks;
export const HOOK_LOCK = DRAIN_HOOK_PATHS.lockFile;

export interface HookSettings {
  server: string;
  /** The cluster root as mounted on the server: the watchdog's drain requests go under it. */
  clusterRoot: string;
  /** Longest wait for the drain before the shutdown goes on. */
  timeoutSeconds: number;
}

/** The init script, from the watchdog's own definition (watchdog/agent/drain-hook.ts). */
export function renderShutdownHook(h: HookSettings): string {
  return drainHookScript({ server: h.server, clusterRoot: h.clusterRoot, timeoutS: h.timeoutSeconds });
}

const LINKS_SCRIPT = [
  "set -e",
  'target="$1"; shift',
  'for l in "$@"; do mkdir -p -- "$(dirname -- "$l")"; ln -sfn -- "$target" "$l"; done',
  'mkdir -p /var/lock/subsys && touch "$0"',
].join("\n");

/** Installs the script, its K01/S99 links and the subsys lock; writes only what is missing or different. */
export async function installHook(server: ServerEndpoint, h: HookSettings): Promise<boolean> {
  const wrote = (await ensureFile(server, HOOK_SCRIPT, renderShutdownHook(h), { mode: "755" })) === "written";
  const links = [...HOOK_LINKS, ...HOOK_START_LINKS];
  const probe = await run(server, shellWithArgs('for l in "$@"; do printf "%s\\n" "$(readlink -- "$l" || true)"; done; [ -e ' + HOOK_LOCK + " ] && echo lock || echo nolock", ...links));
  const lines = probe.stdout.split("\n");
  const ok = links.every((_, i) => lines[i] === HOOK_SCRIPT) && lines[links.length] === "lock";
  if (ok) return wrote;
  await run(server, ["sh", "-c", LINKS_SCRIPT, HOOK_LOCK, HOOK_SCRIPT, ...links], { write: true });
  return true;
}

/** Removes the hook from a server leaving the pool. */
export async function removeHook(server: ServerEndpoint): Promise<void> {
  const paths = [HOOK_SCRIPT, ...HOOK_LINKS, ...HOOK_START_LINKS, HOOK_LOCK];
  const present = await run(server, shellWithArgs('for p in "$@"; do if [ -e "$p" ] || [ -L "$p" ]; then echo "$p"; fi; done', ...paths));
  if (present.stdout.trim() === "") return;
  await run(server, shellWithArgs('rm -f -- "$@"', ...paths), { write: true });
}
