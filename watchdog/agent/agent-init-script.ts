// The agent's EL5 init script, which ServerPool installs on every server (as it installs the drain hook):
//   /etc/rc.d/init.d/ovm-ha-agent                       mode 0755, content = agentInitScript({...})
//   /etc/rc.d/rc3.d/S98ovm-ha-agent, rc5.d/S98...       start at boot, after the storage is mounted
//   /etc/rc.d/rc0.d/K02ovm-ha-agent, rc6.d/K02...       clean stop at halt and reboot, right after the drain hook (K01)
// `start` runs `ovm-ha agent` in its own session and returns once the agent has armed the device (pid file) or
// failed (its last log lines). `stop` sends SIGTERM and waits: the agent writes `stopped` in its slot and disarms
// the device (magic close), or, if it cannot write that or is self-fencing, ends with the device armed and the
// server resets: `stop` then fails, quoting what the agent logged.
// /etc/sysconfig/ovm-ha-agent may set OVM_HA (the ovm-ha command), DEVICE and OPTIONS (more agent options).

export interface AgentInitParams {
  /** The server's name as in the pool record. */
  server: string;
  /** The cluster root as mounted on the server. */
  clusterRoot: string;
}

export const AGENT_SERVICE = "ovm-ha-agent";
export const AGENT_PATHS = {
  initScript: "/etc/rc.d/init.d/ovm-ha-agent",
  startLinks: ["/etc/rc.d/rc3.d/S98ovm-ha-agent", "/etc/rc.d/rc5.d/S98ovm-ha-agent"],
  stopLinks: ["/etc/rc.d/rc0.d/K02ovm-ha-agent", "/etc/rc.d/rc6.d/K02ovm-ha-agent"],
  lockFile: "/var/lock/subsys/ovm-ha-agent",
  pidFile: "/var/run/ovm-ha-agent.pid",
  log: "/var/log/ovm-ha-agent.log",
  sysconfig: "/etc/sysconfig/ovm-ha-agent",
};

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SAFE_PATH = /^\/[A-Za-z0-9._\/-]*$/;

export class AgentInitScriptError extends Error {}

function sq(v: string): string {
  return "'" + v.replace(/'/g, "'\\''") + "'";
}

export function agentInitScript(p: AgentInitParams): string {
  if (!SAFE_NAME.test(p.server)) throw new AgentInitScriptError(`agent init script: server name '${p.server}' must be 1-64 letters, digits, '.', '_', '-'`);
  if (!SAFE_PATH.test(p.clusterRoot)) throw new AgentInitScriptError(`agent init script: clusterRoot '${p.clusterRoot}' must be an absolute path of letters, digits, '.', '_', '-', '/'`);
  return `#!/bin/sh
#
# ${AGENT_SERVICE}  The ovm-ha self-fencing agent: a disk heartbeat in this server's slot on the shared storage,
#               its poison pill, and the watchdog device, fed only while both hold.
#
# chkconfig: 345 98 02
# description: ovm-ha self-fencing agent (written by ovm-ha; do not edit)

SERVER=${sq(p.server)}
CLUSTER_ROOT=${sq(p.clusterRoot)}
OVM_HA=/usr/bin/ovm-ha
DEVICE=/dev/watchdog
OPTIONS=
[ -f ${AGENT_PATHS.sysconfig} ] && . ${AGENT_PATHS.sysconfig}
PIDFILE=${AGENT_PATHS.pidFile}
LOCK=${AGENT_PATHS.lockFile}
LOG=${AGENT_PATHS.log}

say() { echo "${AGENT_SERVICE}: $*"; logger -t ${AGENT_SERVICE} "$*" 2>/dev/null; return 0; }
# A process that exists and is not a zombie. Its status must be read: one reaped between a test of /proc/PID and
# the read is gone, not alive (read as alive, a clean stop was reported as "did not stop within 15 s").
alive() {
  [ -n "$1" ] || return 1
  st=$(grep '^State:' "/proc/$1/status" 2>/dev/null) || return 1
  case "$st" in *Z*|*X*) return 1 ;; esac
  return 0
}
# The pid file's process, if it is alive and is this agent (pids are reused: it was started with --pid-file PIDFILE).
running() { pid=$(cat "$PIDFILE" 2>/dev/null); alive "$pid" && tr '\\000' '\\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$PIDFILE"; }

start() {
  if running; then say "already running (pid $pid)"; return 0; fi
  rm -f "$PIDFILE"
  mkdir -p "$(dirname "$LOG")" "$(dirname "$PIDFILE")"
  setsid "$OVM_HA" agent --server "$SERVER" --cluster-root "$CLUSTER_ROOT" --device "$DEVICE" --pid-file "$PIDFILE" $OPTIONS </dev/null >>"$LOG" 2>&1 &
  child=$!
  i=0
  while [ $i -lt 300 ]; do
    if [ -s "$PIDFILE" ]; then
      mkdir -p /var/lock/subsys && touch "$LOCK"
      say "started: watchdog device $DEVICE armed (pid $(cat "$PIDFILE"))"
      return 0
    fi
    if ! alive "$child"; then
      say "failed to start (see $LOG):"
      tail -n 3 "$LOG" 2>/dev/null
      return 1
    fi
    sleep 0.1
    i=$((i + 1))
  done
  say "not armed within 30 s (see $LOG)"
  return 1
}

stop() {
  if ! running; then rm -f "$LOCK"; say "not running"; return 0; fi
  # What the agent logs from here on says whether it stopped cleanly.
  size=$(wc -c <"$LOG" 2>/dev/null || echo 0)
  kill -TERM "$pid"
  i=0
  while alive "$pid" && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
  if alive "$pid"; then say "did not stop within 15 s (pid $pid); its log's last lines:"; tail -n 3 "$LOG" 2>/dev/null; return 1; fi
  rm -f "$LOCK" "$PIDFILE"
  if tail -c +$((size + 1)) "$LOG" 2>/dev/null | grep -q "STOP NOT CLEAN"; then
    say "stopped, NOT cleanly: the watchdog device stays armed and this server resets; the agent said:"
    tail -c +$((size + 1)) "$LOG" 2>/dev/null | grep -e "STOP NOT CLEAN" -e "SELF-FENCING" | tail -n 2
    return 1
  fi
  say "stopped: slot says stopped, watchdog device disarmed"
  return 0
}

case "$1" in
  start) start ;;
  stop) stop ;;
  restart) stop && start ;;
  status) if running; then echo "${AGENT_SERVICE} (pid $pid) is running..."; exit 0; fi; echo "${AGENT_SERVICE} is stopped"; exit 3 ;;
  *) echo "Usage: $0 {start|stop|restart|status}"; exit 2 ;;
esac
`;
}
