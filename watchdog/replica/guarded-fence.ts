// etcd mode: the power fence's "off" runs on a healthy pool server (never its target), behind the fencing-token
// guard (fencing-token.ts), so that a leader frozen between deciding a fence and sending it cannot power a server
// off once a newer leader has recorded its token: the guard's check and the off command run under the shared lock,
// and the new leader's token write waits for an off already running. The status queries that confirm the fence
// stay on the watchdog's machine (they change nothing).
//
// Secrets never travel as arguments: standard input carries, in order, the password (when {passwordFile} is used:
// the script writes it to a private temporary file and puts that file's path where the marker stands), the
// environment the method gives its command (NAME=value lines, the password filled in), then the fence agent's own
// key=value lines. The script is fixed text; counts and the command are positional arguments.
import type { FenceMethodConfig, } from "../daemon/config";
import { fenceInvocation, type FenceTarget } from "../daemon/fence-runner";
import { guardedCommand } from "./fencing-token";

/** Stands for {passwordFile} in a command sent to a server: replaced there by the private copy's path. */
export const PASSWORD_FILE_MARK = "@OVM_HA_PASSWORD_FILE@";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const RUN_SCRIPT = [
  "pwfile=$1; n=$2; shift 2",
  "t=",
  'if [ "$pwfile" = 1 ]; then',
  "  umask 077",
  '  t=$(mktemp /tmp/ovm-ha-fence.XXXXXX) || { echo "ovm-ha fence: cannot create a private password file" >&2; exit 1; }',
  "  trap 'rm -f \"$t\"' EXIT",
  '  IFS= read -r pw || true',
  "  printf '%s' \"$pw\" > \"$t\"",
  "  pw=",
  "fi",
  // Replaces the marker in one word (sed, as EL5's sh has no ${x//}).
  `sub() { case $1 in *${PASSWORD_FILE_MARK}*) printf '%s\\n' "$1" | sed "s|${PASSWORD_FILE_MARK}|$t|g";; *) printf '%s\\n' "$1";; esac; }`,
  'while [ "$n" -gt 0 ]; do',
  '  IFS= read -r kv || { echo "ovm-ha fence: environment lines missing on stdin" >&2; exit 1; }',
  '  case $kv in [A-Za-z_]*=*) ;; *) echo "ovm-ha fence: bad environment line on stdin" >&2; exit 1;; esac',
  '  [ -n "$t" ] && kv=$(sub "$kv")',
  '  export "$kv"',
  "  n=$((n - 1))",
  "done",
  'if [ -n "$t" ]; then',
  "  c=$#",
  '  while [ "$c" -gt 0 ]; do a=$(sub "$1"); shift; set -- "$@" "$a"; c=$((c - 1)); done',
  "fi",
  // Not exec: the private file is removed when the command ends (the EXIT trap).
  '"$@"',
].join("\n");

export interface GuardedOff {
  argv: string[];
  /** Standard input: secrets first (see above), then the agent's lines. */
  input: string;
  /** For logs and errors: no secret. */
  display: string;
}

/** The off command of `f` for `target`, to be run on another server through the guard with `token`. */
export function guardedFenceOff(f: FenceMethodConfig, target: FenceTarget, password: string | undefined, file: string, token: string): GuardedOff {
  const inv = fenceInvocation(f, "off", target, password, PASSWORD_FILE_MARK);
  const usesFile = inv.argv.some((a) => a.includes(PASSWORD_FILE_MARK)) || Object.values(inv.env).some((v) => v.includes(PASSWORD_FILE_MARK)) || (inv.stdin ?? "").includes(PASSWORD_FILE_MARK);
  if (usesFile && (inv.stdin ?? "").includes(PASSWORD_FILE_MARK)) throw new Error("fence options may not use {passwordFile} when the fence runs on a pool server (etcd mode): give {password} instead, it travels on standard input");
  const envLines: string[] = [];
  for (const [k, v] of Object.entries(inv.env)) {
    if (!ENV_NAME.test(k)) throw new Error(`fence env name '${k}' must be letters, digits and _ (not starting with a digit)`);
    if (/[\0\r\n]/.test(v)) throw new Error(`fence env ${k} must be one line`);
    envLines.push(`${k}=${v}`);
  }
  const lines = [...(usesFile ? [password ?? ""] : []), ...envLines];
  const input = (lines.length ? lines.join("\n") + "\n" : "") + (inv.stdin ?? "");
  const argv = guardedCommand(file, token, ["sh", "-c", RUN_SCRIPT, "ovm-ha-fence", usesFile ? "1" : "0", String(envLines.length), ...inv.argv]);
  return { argv, input, display: inv.display.split(PASSWORD_FILE_MARK).join("{passwordFile}") };
}
