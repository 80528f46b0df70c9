#!/bin/sh
# Every SSH session of a lab server runs through here (sshd's ForceCommand), so that `lab lose-answers SERVER N`
# can make the next N commands run while their answers never arrive: the command runs to the end (at=end) or is
# started detached (at=start), its output goes nowhere, and the session's sshd process is killed, which cuts the
# client's connection before any output or exit status reaches it. Without that fault: exec the command at once.
# Usage (ForceCommand): session-wrapper.sh LABDIR SERVER
F="$1/servers/$2/faults"
C="$F/lose-answers"
cmd=${SSH_ORIGINAL_COMMAND-}
sh=${SHELL:-/bin/sh}

if [ -z "$cmd" ]; then exec "$sh" -l; fi
# A subsystem request arrives here as its configured command.
if [ "$cmd" = internal-sftp ]; then exec /usr/lib/openssh/sftp-server; fi

# Takes one from the count under a lock; true when this command's answer is to be lost.
take_one() {
  exec 9<>"$C" || return 1
  flock 9 || return 1
  n=$(cat "$C")
  case $n in
    '' | 0 | *[!0-9]*) exec 9>&-; return 1 ;;
  esac
  echo $((n - 1)) > "$C"
  exec 9>&-
  return 0
}

# `lab lose-answers --match TEXT`: only commands containing TEXT count (read before taking one from the count).
matches() {
  m=$(cat "$F/lose-match" 2>/dev/null)
  case $cmd in *"$m"*) return 0 ;; esac
  return 1
}

if [ -s "$C" ] && matches && take_one; then
  LOG="$F/lost-answers.log"
  session=$PPID
  oneline=$(printf '%s' "$cmd" | tr '\n' ' ')
  if [ "$(cat "$F/lose-at" 2>/dev/null)" = start ]; then
    # Detached, in a session of its own: it runs on after the connection is cut.
    setsid -f "$sh" -c '"$1" -c "$2" </dev/null >/dev/null 2>&1; echo "$(date +%s%3N) $? $3" >> "$4"' lost "$sh" "$cmd" "$oneline" "$LOG"
  else
    "$sh" -c "$cmd" >/dev/null 2>&1
    echo "$(date +%s%3N) $? $oneline" >> "$LOG"
  fi
  # Cut only our own session: if it is gone already (the client gave up), the pid may be someone else's now.
  if [ "$(cut -d' ' -f4 /proc/$$/stat)" = "$session" ]; then kill -KILL "$session"; fi
  exit 0
fi
exec "$sh" -c "$cmd"
