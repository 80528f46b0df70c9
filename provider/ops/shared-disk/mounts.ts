// Mounting on one server (seed 9.2.2 step 3, 9.2.3): the fstab line in the ovm-ha block (written atomically with
// a backup, and only when it differs), the mount point, and the mount itself; and the reverse for delete.
import { mountCmd, serviceO2cb, umountCmd } from "../../commands";
import { findMount, MountEntry, parseMtab, parseO2cbStatus } from "../../parsers";
import { FstabEntry } from "../../render/fstab";
import { ensureFile, readFile, run } from "../../runtime/remote";
import { shellWithArgs, ServerEndpoint } from "../../ssh";
import { entryFor, withEntry, withoutEntry } from "./fstab-block";
import { step } from "./step";

export const FSTAB = "/etc/fstab";
export const MTAB = "/etc/mtab";

/** fstab edits of one server are made one at a time within this process (several SharedDisks share the block). */
const fstabQueues = new Map<string, Promise<unknown>>();
function serialized<T>(server: ServerEndpoint, fn: () => Promise<T>): Promise<T> {
  const key = `${server.address}:${server.port}`;
  const prev = fstabQueues.get(key) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(fn);
  fstabQueues.set(key, next);
  return next;
}

export async function readMounts(server: ServerEndpoint): Promise<MountEntry[]> {
  return parseMtab((await readFile(server, MTAB)) ?? "", MTAB);
}

export async function readFstabText(server: ServerEndpoint): Promise<string> {
  return (await readFile(server, FSTAB)) ?? "";
}

export async function ensureFstabEntry(server: ServerEndpoint, entry: FstabEntry): Promise<boolean> {
  return serialized(server, () =>
    step(`writing the ${entry.mountPoint} line of ${FSTAB}`, server, async () => (await ensureFile(server, FSTAB, withEntry(await readFstabText(server), entry), { backup: true })) === "written"),
  );
}

/**
 * Removes the block's line for the mount point when it names one of `devices` (another resource's line is left
 * alone); `devices` undefined: whatever it names.
 */
export async function removeFstabEntry(server: ServerEndpoint, mountPoint: string, devices: readonly string[] | undefined): Promise<boolean> {
  return serialized(server, async () => {
    const text = await readFstabText(server);
    const e = entryFor(text, mountPoint);
    if (!e || (devices !== undefined && !devices.includes(e.device))) return false;
    return step(`removing the ${mountPoint} line of ${FSTAB}`, server, async () => (await ensureFile(server, FSTAB, withoutEntry(text, mountPoint), { backup: true })) === "written");
  });
}

export async function o2cbOnline(server: ServerEndpoint): Promise<boolean> {
  return parseO2cbStatus((await step("checking o2cb (service o2cb status)", server, () => run(server, serviceO2cb("status")))).stdout).online;
}

/**
 * Creates the mount point and its missing parents. Returns the directories it created, outermost first (what
 * destroy removes again, and only those).
 */
export async function ensureMountPoint(server: ServerEndpoint, dir: string): Promise<string[]> {
  // Prints each missing directory, innermost first, then makes them all.
  const script = ['d="$1"', 'while [ ! -e "$d" ] && [ "$d" != / ]; do printf "%s\\n" "$d"; d=$(dirname -- "$d"); done', '[ -e "$1" ] || mkdir -p -- "$1"'].join("; ");
  const r = await step(`creating the mount point ${dir}`, server, () => run(server, shellWithArgs(script, dir), { write: true }));
  return r.stdout.split("\n").filter((l) => l !== "").reverse();
}

/**
 * Removes the directories `created` (outermost first, as ensureMountPoint returned them) when they are empty,
 * innermost first; a directory that holds anything now is kept.
 */
export async function removeCreatedDirs(server: ServerEndpoint, created: readonly string[]): Promise<void> {
  if (created.length === 0) return;
  const inner = [...created].reverse();
  await step("removing the mount point it created", server, () =>
    run(server, shellWithArgs('for d in "$@"; do [ ! -d "$d" ] || rmdir -- "$d" 2>/dev/null || true; done', ...inner), { write: true }),
  );
}

/**
 * Mounts the entry's source (as the fstab line names it, so the line is proved to work) at its mount point
 * unless it is mounted there already. `mountedAs`: the device mtab shows for it (mount records the device a
 * `UUID=` source resolved to); another source there is an error. Returns whether it mounted and the directories
 * it created for the mount point.
 */
export async function ensureMounted(server: ServerEndpoint, entry: FstabEntry, mountedAs: string = entry.device): Promise<{ mounted: boolean; createdDirs: string[] }> {
  const current = findMount(await readMounts(server), entry.mountPoint);
  if (current) {
    if (current.source === mountedAs || current.source === entry.device) return { mounted: false, createdDirs: [] };
    throw new Error(`${entry.mountPoint} on ${server.name} already has ${current.source} (${current.fsType}) mounted, not ${mountedAs}`);
  }
  const createdDirs = await ensureMountPoint(server, entry.mountPoint);
  await step(`mounting ${entry.mountPoint}`, server, () =>
    run(server, mountCmd({ source: entry.device, mountPoint: entry.mountPoint, fsType: entry.type, options: [...entry.options] }), { write: true }),
  );
  return { mounted: true, createdDirs };
}

/** Unmounts `mountPoint` when `source` is what is mounted there. Returns whether it unmounted. */
export async function unmountIfOurs(server: ServerEndpoint, mountPoint: string, source: string | undefined): Promise<boolean> {
  const current = findMount(await readMounts(server), mountPoint);
  if (!current || (source !== undefined && current.source !== source)) return false;
  await step(`unmounting ${mountPoint}`, server, () => run(server, umountCmd(mountPoint), { write: true }));
  return true;
}
