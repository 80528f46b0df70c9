// The planned-shutdown hook (seed 9.1: "When a Virtual Machine Server is restarted or shut down, the guests
// running on it are ... migrated to another Virtual Machine Server"): an EL5 init script, run with "stop" by rc 0
// (halt) and rc 6 (reboot) through K01 links, that asks the HA watchdog to drain this server and waits, bounded.
// The script's text and paths are the watchdog's (watchdog/agent/drain-hook.ts); this module installs it.
import * as path from "path";
import { ServerEndpoint, shellWithArgs } from "../../ssh";
import { ensureFile, readFile, run } from "../../runtime/remote";
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

/** Whether the script, its links and the subsys lock are as installHook makes them (read only). */
export async function hookInSync(server: ServerEndpoint, h: HookSettings): Promise<boolean> {
  const links = [...HOOK_LINKS, ...HOOK_START_LINKS];
  const probe = await run(server, shellWithArgs('for l in "$@"; do printf "%s\\n" "$(readlink -- "$l" || true)"; done; [ -e ' + HOOK_LOCK + " ] && echo lock || echo nolock", ...links));
  const lines = probe.stdout.split("\n");
  if (!(links.every((_, i) => lines[i] === HOOK_SCRIPT) && lines[links.length] === "lock")) return false;
  return (await readFile(server, HOOK_SCRIPT)) === renderShutdownHook(h);
}

/** The directories the hook's files go in, deepest first (what removeHook may take away again when empty). */
export function hookDirectories(): string[] {
  const dirs = new Set<string>();
  for (const f of [HOOK_SCRIPT, ...HOOK_LINKS, ...HOOK_START_LINKS, HOOK_LOCK]) {
    for (let d = path.posix.dirname(f); d !== "/" && d !== "/etc" && d !== "/var"; d = path.posix.dirname(d)) dirs.add(d);
  }
  return [...dirs].sort((a, b) => b.split("/").length - a.split("/").length || a.localeCompare(b));
}

/** Which of the hook's directories do not exist on the server (so installing creates them). */
async function missingDirectories(server: ServerEndpoint): Promise<string[]> {
  const r = await run(server, shellWithArgs('for d in "$@"; do [ -d "$d" ] || printf "%s\\n" "$d"; done', ...hookDirectories()));
  return r.stdout.split("\n").filter(Boolean);
}

/**
 * Installs the script, its K01/S99 links and the subsys lock; writes only what is missing or different. Returns
 * whether it wrote, and the directories it created (recorded in state, so that removing the hook removes them too).
 */
export async function installHook(server: ServerEndpoint, h: HookSettings): Promise<{ wrote: boolean; createdDirs: string[] }> {
  const createdDirs = await missingDirectories(server);
  return { wrote: await install(server, h), createdDirs };
}

async function install(server: ServerEndpoint, h: HookSettings): Promise<boolean> {
  const wrote = (await ensureFile(server, HOOK_SCRIPT, renderShutdownHook(h), { mode: "755" })) === "written";
  const links = [...HOOK_LINKS, ...HOOK_START_LINKS];
  const probe = await run(server, shellWithArgs('for l in "$@"; do printf "%s\\n" "$(readlink -- "$l" || true)"; done; [ -e ' + HOOK_LOCK + " ] && echo lock || echo nolock", ...links));
  const lines = probe.stdout.split("\n");
  const ok = links.every((_, i) => lines[i] === HOOK_SCRIPT) && lines[links.length] === "lock";
  if (ok) return wrote;
  await run(server, ["sh", "-c", LINKS_SCRIPT, HOOK_LOCK, HOOK_SCRIPT, ...links], { write: true, step: "linking the drain hook into rc0.d, rc6.d, rc3.d, rc5.d" });
  return true;
}

/**
 * Removes the hook from a server: its files, then the directories installing it created (`createdDirs`, from
 * state), each only if empty, deepest first. Directories that were there before are never touched.
 */
export async function removeHook(server: ServerEndpoint, createdDirs: readonly string[] = []): Promise<void> {
  const paths = [HOOK_SCRIPT, ...HOOK_LINKS, ...HOOK_START_LINKS, HOOK_LOCK];
  const ours = hookDirectories().filter((d) => createdDirs.includes(d));
  const present = await run(server, shellWithArgs('for p in "$@"; do if [ -e "$p" ] || [ -L "$p" ]; then echo "$p"; fi; done', ...paths, ...ours));
  if (present.stdout.trim() === "") return;
  const script = 'n="$1"; shift; i=0; for p in "$@"; do i=$((i+1)); if [ "$i" -le "$n" ]; then rm -f -- "$p"; else rmdir -- "$p" 2>/dev/null || true; fi; done';
  await run(server, shellWithArgs(script, String(paths.length), ...paths, ...ours), { write: true, step: `removing the drain hook from ${server.name}` });
}
