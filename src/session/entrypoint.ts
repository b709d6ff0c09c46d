// The agent container's PID 1: a fixed POSIX sh script. Session data (command, pre_start,
// env keys for tmux) reaches it through environment variables, never by splicing text into the
// script, so no quoting can go wrong. It
//  - handles SIGTERM (kills tmux, exits 0) so pod deletion is immediate, not a grace-period wait;
//  - optionally waits until staging is done in this pod (GC_K8S_WAIT_WORKSPACE names the file,
//    STAGED_FILE; staging also leaves upstream's /workspace/.gc-workspace-ready, which a kept
//    workspace carries into the next pod and so cannot say "this pod is staged");
//  - runs pre_start commands and fails the container with a termination message if one fails;
//  - starts tmux session `main` carrying the session env (`-e K=V`), as local tmux does;
//  - exits when the agent exits — with the agent's exit status, and its last screen as the
//    termination message — so a dead agent shows up as a completed pod in the watch cache (and
//    start can say why it died) instead of a "Running" pod that needs an exec to be found out;
//  - provisioned (gc 1.x `provision`): stops after pre_start with the box ready and no agent, and
//    waits for SIGTERM; gc launches and relaunches the agent itself (tmux through `exec`), with
//    the history limit from ~/.tmux.conf;
//  - warm (GC_K8S_WARM): idles with no session until a start claims the pod and launches the
//    agent through exec (WARM_LAUNCH_SCRIPT), then watches it as above.

export const ENTRYPOINT_VERSION = '4';

export const ENTRY_ENV = {
  command: 'GC_K8S_COMMAND',
  sessionEnv: 'GC_K8S_SESSION_ENV',
  preStartCount: 'GC_K8S_PRE_START_COUNT',
  preStartPrefix: 'GC_K8S_PRE_START_',
  waitWorkspace: 'GC_K8S_WAIT_WORKSPACE',
  historyLimit: 'GC_K8S_HISTORY_LIMIT',
  provision: 'GC_K8S_PROVISION',
  warm: 'GC_K8S_WARM',
} as const;

export const READY_MARKER = '/workspace/.gc-workspace-ready';
/** staging of this pod is done (outside the workspace: a kept workspace must not carry it over) */
export const STAGED_FILE = '/tmp/.gc-k8s-staged';
export const OUTPUT_LOG = '/tmp/agent-output.log';
/** created in $TMUX_TMPDIR (default /tmp) once the session and its env are complete */
export const READY_FILE = '.gc-k8s-session-ready';

/** a warm pod is idle and ready to be claimed (its entrypoint is waiting) */
export const WARM_READY_FILE = '.gc-k8s-warm-ready';
/** written by a warm pod's launch: its entrypoint goes on to watch the agent */
export const CLAIMED_FILE = '.gc-k8s-claimed';

/**
 * The watch loop sleeps in `tmux wait-for` instead of asking tmux every second (two process
 * starts a second per pod were ~5 millicores each, half a core at 100 sessions). Three things
 * signal the channel: the pane's wrapper once the agent's status is recorded; a pane-died hook
 * (an indexed entry, so a user's own `set-hook -g pane-died` replaces index 0, not ours) for a
 * wrapper killed with its agent; and a tick every 30 s, for the case neither arrives (a tmux
 * server that has not reaped the pane never fires pane-died: seen under a Node-spawned sh). A
 * signal with no waiter is remembered by tmux, and the loop checks before it waits.
 */
const DIED_HOOK = 'pane-died[73]';
const DIED_CHANNEL = 'gc-k8s-pane-died';

/**
 * Starts tmux session `main` running "$cmd" with "$@" (-e K=V pairs) and history "$hist", as one
 * fragment of both the entrypoint (a pod started for its session) and WARM_LAUNCH_SCRIPT (a warm
 * pod claimed by one). remain-on-exit before the agent's session exists: set on a short-lived
 * boot session (a config file is not reliably loaded before the first command runs), so an agent
 * that exits at once still leaves its last screen. The pane runs the command through a fixed
 * wrapper that records its exit status, then lingers 0.1 s so tmux has read the agent's last
 * output from the pty; the command text reaches it through the pane's environment, never spliced
 * in. The command runs in a subshell, so an `exit N` in it ends only the subshell and the status
 * is still recorded.
 */
const TMUX_LAUNCH = `sf="\${TMUX_TMPDIR:-/tmp}/.gc-k8s-status"
rm -f "$sf"
set -- "$@" -e "GC_K8S_RUN=$cmd" -e "GC_K8S_STATUS_FILE=$sf"
# tmux ends a command at an argument ending in ";": a value's own trailing ";" is escaped
n=$#
while [ "$n" -gt 0 ]; do
  a=$1; shift
  case $a in *';') a="\${a%;}\\\\;" ;; esac
  set -- "$@" "$a"; n=$((n - 1))
done
# one tmux client for all of it (each one is a process start); history before main's window
# exists: a window keeps the history-limit it was created with
tmux -f /dev/null new-session -d -s gc-k8s-boot 'sleep 86400' \\; set-option -g remain-on-exit on \\; \\
  set-option -g history-limit "$hist" \\; new-session -d -s main -x 200 -y 50 "$@" \\
  '(eval "$GC_K8S_RUN"); s=$?; printf %s "$s" >"$GC_K8S_STATUS_FILE"; tmux wait-for -S ${DIED_CHANNEL}; sleep 0.1; exit "$s"' \\; \\
  kill-session -t gc-k8s-boot \\; pipe-pane -t main -o 'cat >> ${OUTPUT_LOG}' || fail "tmux: cannot start session main"
touch "\${TMUX_TMPDIR:-/tmp}/${READY_FILE}"`;

/**
 * A warm pod's claim (through exec, as the agent user): $1 the command, $2 the history limit,
 * $3 the work dir, $4 the container variables this session does not have (unset before tmux
 * starts, so its server never passes them on), $5 the settle in seconds ("-": none here; the
 * start settles after its session_setup), then the -e K=V pairs of the session's tmux env.
 * The session's other variables reach the tmux server as its environment (`env` runs this), as a
 * started pod's container env would. Then the warm entrypoint watches the agent; after the
 * settle this prints #{pane_dead} (nothing when the agent and tmux are already gone).
 */
export const WARM_LAUNCH_SCRIPT = `set -u
fail() { printf '%s\\n' "$1" >&2; exit 1; }
cmd=$1; hist=$2; wd=$3; drop=$4; settle=$5; shift 5
for v in $drop; do unset "$v"; done
unset GC_K8S_WARM GC_K8S_HISTORY_LIMIT
mkdir -p -- "$wd" && cd -- "$wd" || fail "cannot enter the work dir"
${TMUX_LAUNCH}
touch "\${TMUX_TMPDIR:-/tmp}/${CLAIMED_FILE}"
if [ "$settle" != - ]; then
  sleep "$settle"
  tmux display-message -p -t main '#{pane_dead}' 2>/dev/null || true
fi`;

export const ENTRYPOINT_SCRIPT = `set -u
cmd=\${GC_K8S_COMMAND:-/bin/bash}
keys=\${GC_K8S_SESSION_ENV:-}
n=\${GC_K8S_PRE_START_COUNT:-0}
wait_ws=\${GC_K8S_WAIT_WORKSPACE:-}
hist=\${GC_K8S_HISTORY_LIMIT:-20000}
provision=\${GC_K8S_PROVISION:-}
warm=\${GC_K8S_WARM:-}
tlog=\${GC_K8S_TERMINATION_LOG:-/dev/termination-log}
unset GC_K8S_COMMAND GC_K8S_SESSION_ENV GC_K8S_PRE_START_COUNT GC_K8S_WAIT_WORKSPACE GC_K8S_PROVISION
fail() { printf '%s\\n' "$1" >"$tlog" 2>/dev/null; printf '%s\\n' "$1" >&2; exit 1; }
bg=
tick=
on_term() { tmux kill-server 2>/dev/null; [ -z "$bg" ] || kill "$bg" 2>/dev/null; [ -z "$tick" ] || kill "$tick" 2>/dev/null; exit 0; }
trap on_term TERM INT
h=\${HOME:-/tmp}
if [ -d /tmp/claude-secret ]; then mkdir -p "$h/.claude" 2>/dev/null && cp -rL /tmp/claude-secret/. "$h/.claude/" 2>/dev/null; fi
git config --global --add safe.directory '*' 2>/dev/null
if [ -n "$warm" ]; then
  # a warm pod: no session yet; a claim launches the agent (WARM_LAUNCH_SCRIPT) and says so
  touch "\${TMUX_TMPDIR:-/tmp}/${WARM_READY_FILE}"
  while [ ! -f "\${TMUX_TMPDIR:-/tmp}/${CLAIMED_FILE}" ]; do sleep 0.2 & wait $!; done
else
unset GC_K8S_HISTORY_LIMIT
case $wait_ws in
  '') ;;
  /*) while [ ! -f "$wait_ws" ]; do sleep 0.1 & wait $!; done ;;
  *) while [ ! -f ${READY_MARKER} ]; do sleep 0.1 & wait $!; done ;;
esac
i=1
while [ "$i" -le "$n" ]; do
  eval "c=\\\${GC_K8S_PRE_START_$i}"
  unset "GC_K8S_PRE_START_$i"
  sh -c "$c" || fail "pre_start command $i failed with exit $?"
  i=$((i + 1))
done
if [ -n "$provision" ]; then
  # the box without its agent: gc starts tmux itself; its server reads the history limit here
  [ -e "$h/.tmux.conf" ] || printf 'set-option -g history-limit %s\\n' "$hist" >"$h/.tmux.conf" 2>/dev/null
  touch "\${TMUX_TMPDIR:-/tmp}/${READY_FILE}"
  while :; do sleep 3600 & bg=$!; wait "$bg"; done
fi
set --
for k in $keys; do eval "set -- \\"\\$@\\" -e \\"$k=\\\${$k-}\\""; done
${TMUX_LAUNCH}
fi
sf="\${TMUX_TMPDIR:-/tmp}/.gc-k8s-status"
status=0
# a tmux without indexed hooks (before 3.0) is watched once a second, as before
hooked=
tmux set-hook -g '${DIED_HOOK}' 'wait-for -S ${DIED_CHANNEL}' 2>/dev/null && hooked=1
[ -z "$hooked" ] || { while sleep 30; do tmux wait-for -S ${DIED_CHANNEL} 2>/dev/null || exit 0; done & tick=$!; }
while tmux has-session -t main 2>/dev/null; do
  dead=$(tmux display-message -p -t main '#{pane_dead}' 2>/dev/null)
  if [ "$dead" = 1 ] || [ -s "$sf" ]; then
    # the wrapper recorded the status and lingers so tmux reads the last output: let it
    [ "$dead" = 1 ] || { sleep 0.2 & bg=$!; wait "$bg"; }
    status=$(cat "$sf" 2>/dev/null)
    [ -n "$status" ] || status=$(tmux display-message -p -t main '#{pane_dead_status}' 2>/dev/null)
    tmux capture-pane -p -t main -S -40 2>/dev/null | grep -v '^$' | tail -c 2048 >"$tlog" 2>/dev/null
    tmux kill-server 2>/dev/null
    break
  fi
  if [ -n "$hooked" ]; then tmux wait-for ${DIED_CHANNEL} & bg=$!; else sleep 1 & bg=$!; fi
  wait "$bg"
done
[ -z "$tick" ] || kill "$tick" 2>/dev/null
[ "$status" != 0 ] || status=$(cat "$sf" 2>/dev/null)
case $status in ''|*[!0-9]*) status=0;; esac
exit "$status"
`;
