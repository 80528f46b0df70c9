// The planned-shutdown hook the ServerPool resource installs on each server: an EL5 init script that, when the
// server goes to runlevel 0 or 6, asks the watchdog (through a request file on the shared storage) to migrate
// the server's HA guests away, and waits for the answer or a bounded timeout. Same path as `ovm-ha drain`.
//
// Install (as root on the server):
//   /etc/rc.d/init.d/ovm-ha-drain            mode 0755, content = drainHookScript({...})
//   /etc/rc.d/rc0.d/K01ovm-ha-drain -> ../init.d/ovm-ha-drain   (halt)
//   /etc/rc.d/rc6.d/K01ovm-ha-drain -> ../init.d/ovm-ha-drain   (reboot)
//   /etc/rc.d/rc3.d/S99ovm-ha-drain and rc5.d/S99ovm-ha-drain -> ../init.d/ovm-ha-drain
// (or `chkconfig --add ovm-ha-drain`, which reads the header). EL5's rc runs K scripts at shutdown only for
// services whose /var/lock/subsys/<name> exists: `start` creates it, so run `service ovm-ha-drain start` once
// after installing (the S99 links do it at every boot).
import { DrainRequestSchema, REQUESTS_DIR } from "../daemon/drain-request";

export interface DrainHookParams {
  /** The server's name as in the pool record. */
  server: string;
  /** The cluster root repository as mounted on the server (Oracle VM: /OVS). */
  clusterRoot: string;
  /** How long shutdown waits for the watchdog, at most (seconds). */
  timeoutS: number;
}

export const DRAIN_HOOK_SERVICE = "ovm-ha-drain";
export const DRAIN_HOOK_PATHS = {
  initScript: "/etc/rc.d/init.d/ovm-ha-drain",
  haltLink: "/etc/rc.d/rc0.d/K01ovm-ha-drain",
  rebootLink: "/etc/rc.d/rc6.d/K01ovm-ha-drain",
  startLinks: ["/etc/rc.d/rc3.d/S99ovm-ha-drain", "/etc/rc.d/rc5.d/S99ovm-ha-drain"],
  lockFile: "/var/lock/subsys/ovm-ha-drain",
};

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SAFE_PATH = /^\/[A-Za-z0-9._\/-]*$/;

/** Single-quoted for sh; the values are also checked against strict patterns (they end up in a boot script). */
function sq(v: string): string {
  return "'" + v.replace(/'/g, "'\\''") + "'";
}

export function drainHookScript(p: DrainHookParams): string {
  if (!SAFE_NAME.test(p.server)) throw new Error(`drain hook: server name '${p.server}' must be 1-64 letters, digits, '.', '_', '-'`);
  if (!SAFE_PATH.test(p.clusterRoot)) throw new Error(`drain hook: clusterRoot '${p.clusterRoot}' must be an absolute path of letters, digits, '.', '_', '-', '/'`);
  if (!Number.isInteger(p.timeoutS) || p.timeoutS < 1 || p.timeoutS > 3600) throw new Error("drain hook: timeoutS must be a whole number of seconds, 1..3600");
  // Keep the request fields in step with DrainRequestSchema (checked by the unit test).
  void DrainRequestSchema;
  return `#!/bin/sh
#
# ${DRAIN_HOOK_SERVICE}  Ask the ovm-ha watchdog to live-migrate this server's HA guests away before it halts
#                or reboots, and wait (at most ${p.timeoutS} s) until it has.
#
# chkconfig: 345 99 01
# description: ovm-ha planned-shutdown hook (written by ovm-ha; do not edit)

SERVER=${sq(p.server)}
CLUSTER_ROOT=${sq(p.clusterRoot)}
TIMEOUT=${p.timeoutS}
DIR="$CLUSTER_ROOT/${REQUESTS_DIR}"
REQUEST="$DIR/$SERVER.json"
RESPONSE="$DIR/$SERVER.response.json"
LOCK=${DRAIN_HOOK_PATHS.lockFile}

say() { echo "${DRAIN_HOOK_SERVICE}: $*"; logger -t ${DRAIN_HOOK_SERVICE} "$*" 2>/dev/null; return 0; }

case "$1" in
  start) mkdir -p /var/lock/subsys && touch "$LOCK"; exit 0 ;;
  status) [ -f "$LOCK" ] && exit 0; exit 3 ;;
  stop) ;;
  *) echo "Usage: $0 {start|stop|status}"; exit 2 ;;
esac

op=shutdown
case "$0" in */rc6.d/*) op=restart ;; esac
[ "$RUNLEVEL" = 6 ] && op=restart

if [ ! -d "$CLUSTER_ROOT" ]; then
  say "$CLUSTER_ROOT is not mounted: cannot ask the watchdog to drain $SERVER"
  rm -f "$LOCK"; exit 0
fi
id="$(date +%s)-$$"
mkdir -p "$DIR" 2>/dev/null
tmp="$DIR/.$SERVER.json.$$"
if ! printf '{"schemaVersion": 1, "server": "%s", "op": "%s", "id": "%s", "requestedAt": %s000}\\n' "$SERVER" "$op" "$id" "$(date +%s)" > "$tmp" || ! mv -f "$tmp" "$REQUEST"; then
  say "cannot write $REQUEST: guests are not drained"
  rm -f "$tmp" "$LOCK"; exit 0
fi
say "$op: asked the watchdog to migrate the HA guests of $SERVER away (request $id, waiting up to $TIMEOUT s)"
waited=0
state=
while [ "$waited" -lt "$TIMEOUT" ]; do
  if [ -f "$RESPONSE" ] && grep -q "\\"id\\": *\\"$id\\"" "$RESPONSE" 2>/dev/null; then
    state=$(sed -n 's/.*"state": *"\\([a-z]*\\)".*/\\1/p' "$RESPONSE")
    case "$state" in done|refused) break ;; esac
  fi
  sleep 1
  waited=$((waited + 1))
done
case "$state" in
  done) say "drained: going ahead with the $op" ;;
  refused) say "the watchdog refused: $(sed -n 's/.*"reason": *"\\([^"]*\\)".*/\\1/p' "$RESPONSE")" ;;
  *) say "no answer from the watchdog within $TIMEOUT s: going ahead with the $op" ;;
esac
rm -f "$REQUEST" "$LOCK"
exit 0
`;
}
