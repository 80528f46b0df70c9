// The fencing token on the shared storage, and the guard every guarded command (xm create, xm migrate) runs through
// on the server itself. The token is the leader's leadership revision in etcd (the create revision of its
// leadership key): it only grows from one leader to the next.
//
// Why a guard on the server and not a check in the watchdog: a leader frozen (SIGSTOP, a long GC, a VM pause)
// between its last check and the command wakes up deposed and sends the command anyway. The check has to happen
// where the command runs, after it arrives. Why flock: check-then-run is a race unless the new leader's token write
// and the old leader's check-and-run exclude each other. The guard holds a shared lock on the token file from its
// check until xm returns; the new leader writes its token under an exclusive lock. So either the old command ended
// before the new token was written (and the new leader's first listing, sent after that, sees its effect), or the
// guard reads the new token and refuses. Scripts are fixed text; file, token and the command are positional
// arguments (quoted by the SSH layer), never pasted into the script.
import * as path from "path";

/** Exit status of a refusal: EX_TEMPFAIL, an error answer (the command did not run). */
export const GUARD_REFUSED = 75;

const GUARD_SCRIPT = [
  // A lost SSH connection must not end the guard before xm returns (the lock would go while xend works on).
  "trap '' HUP",
  'f=$1; mine=$2; shift 2',
  // A failed redirection on `exec` ends the shell (status 2): test first (the file is never removed).
  '[ -f "$f" ] && [ -r "$f" ] || { echo "ovm-ha guard: no fencing token at $f: refused" >&2; exit 75; }',
  'exec 9<"$f"',
  'flock -s 9 || { echo "ovm-ha guard: cannot lock $f: refused" >&2; exit 75; }',
  'newest=$(cat "$f")',
  'case $newest in ""|*[!0-9]*) echo "ovm-ha guard: unreadable fencing token in $f: refused" >&2; exit 75;; esac',
  'if [ "$mine" -lt "$newest" ]; then echo "ovm-ha guard: fencing token $mine is older than $newest (a newer leader exists): refused" >&2; exit 75; fi',
  // fd 9 closed for the command: a guest process must not inherit (and keep) the lock; the shell holds it until xm returns.
  '"$@" 9<&-',
].join("\n");

const PUBLISH_SCRIPT = [
  'f=$1; t=$2',
  'mkdir -p "$(dirname "$f")" && touch "$f" || exit 1',
  'exec 9<"$f" || exit 1',
  'flock -x 9 || exit 1',
  'cur=$(cat "$f")',
  'case $cur in *[!0-9]*) cur=0;; esac',
  'if [ -n "$cur" ] && [ "$cur" -gt "$t" ]; then echo "ovm-ha: fencing token $cur on the shared storage is newer than $t: not the leader" >&2; exit 75; fi',
  'printf "%s\\n" "$t" > "$f"',
].join("\n");

// A single watchdog (no etcd) takes the next number at each start: the same lock, so the same guarantee.
const NEXT_SCRIPT = [
  'f=$1',
  'mkdir -p "$(dirname "$f")" && touch "$f" || exit 1',
  'exec 9<"$f" || exit 1',
  'flock -x 9 || exit 1',
  'cur=$(cat "$f")',
  'case $cur in ""|*[!0-9]*) cur=0;; esac',
  'next=$((cur + 1))',
  'printf "%s\n" "$next" > "$f" && printf "%s\n" "$next"',
].join("\n");

export function tokenFile(clusterRoot: string): string {
  return path.posix.join(clusterRoot, ".ovm-ha", "leader-token");
}

function checkToken(token: string): void {
  if (!/^[1-9][0-9]{0,18}$/.test(token)) throw new Error(`fencing token must be a positive integer, got '${token}'`);
}

/** argv that runs `command` on the server only if `token` is not older than the newest token recorded there. */
export function guardedCommand(file: string, token: string, command: readonly string[]): string[] {
  checkToken(token);
  return ["sh", "-c", GUARD_SCRIPT, "ovm-ha-guard", file, token, ...command];
}

/** argv that records the recorded token plus one as the newest, and prints it (waits for guarded commands running). */
export function nextTokenCommand(file: string): string[] {
  return ["sh", "-c", NEXT_SCRIPT, "ovm-ha-token", file];
}

/** argv that records `token` as the newest (refused, exit 75, when a newer one is already there). */
export function publishTokenCommand(file: string, token: string): string[] {
  checkToken(token);
  return ["sh", "-c", PUBLISH_SCRIPT, "ovm-ha-token", file, token];
}
