import { READY_FILE } from './entrypoint.js';

// Fixed shell programs run in the agent container with exec. They contain no session data:
// inputs arrive as argv ("$@") or stdin, so nothing user-supplied is ever parsed as shell.

/**
 * Waits (bounded by $1 tenths of a second) until the entrypoint reported the session complete
 * (tmux up, session env set) and the session exists. Exit 0 when it does.
 */
export const WAIT_FOR_TMUX = `n=0
while ! { [ -f "\${TMUX_TMPDIR:-/tmp}/${READY_FILE}" ] && tmux has-session -t main 2>/dev/null; }; do
  n=$((n + 1)); [ "$n" -gt "$1" ] && exit 1
  sleep 0.1
done`;

/** Waits (bounded by $1 tenths of a second) until a provisioned box is ready (pre_start done). */
export const WAIT_FOR_BOX = `n=0
while [ ! -f "\${TMUX_TMPDIR:-/tmp}/${READY_FILE}" ]; do
  n=$((n + 1)); [ "$n" -gt "$1" ] && exit 1
  sleep 0.1
done`;

/**
 * Exit 0 when any process in the agent pane's process tree has one of the names "$@" in its
 * command line (literal substring, like upstream's pgrep -f but without regex surprises and
 * without matching the tmux server's own argv). Exit 1 when none, 3 when tmux is not running.
 * $1 is the tmux target ('' for the session tmux would pick: a provisioned box's only one).
 */
export const PROCESS_ALIVE = `t=$1; shift
root=$(tmux display-message -p \${t:+-t "$t"} '#{pane_pid}' 2>/dev/null) || exit 3
case $root in ''|*[!0-9]*) exit 3;; esac
pids=$(ps -e -o pid=,ppid= | awk -v root="$root" '{p[NR]=$1; q[NR]=$2} END {w[root]=1; c=1; while (c) {c=0; for (i in p) if (!(p[i] in w) && (q[i] in w)) {w[p[i]]=1; c=1}} for (k in w) print k}')
for pid in $pids; do
  args=$(tr '\\0' ' ' < /proc/$pid/cmdline 2>/dev/null) || continue
  comm=$(cat /proc/$pid/comm 2>/dev/null)
  for name in "$@"; do
    [ -n "$name" ] || continue
    case " $args $comm " in *"$name"*) exit 0;; esac
  done
done
exit 1`;

/** Extracts a tar from stdin into $1 (created first). */
export const UNTAR = `mkdir -p "$1" && tar -x -m -o -f - -C "$1"`;
