// The agent container's PID 1: a fixed POSIX sh script. Session data (command, pre_start,
// env keys for tmux) reaches it through environment variables, never by splicing text into the
// script, so no quoting can go wrong. It
//  - handles SIGTERM (kills tmux, exits 0) so pod deletion is immediate, not a grace-period wait;
//  - optionally waits for staged files (/workspace/.gc-workspace-ready, upstream's marker);
//  - runs pre_start commands and fails the container with a termination message if one fails;
//  - starts tmux session `main` carrying the session env (`-e K=V`), as local tmux does;
//  - exits when the tmux session ends, so a dead agent shows up as a completed pod in the
//    watch cache instead of a "Running" pod that needs an exec to be found out.

export const ENTRYPOINT_VERSION = '1';

export const ENTRY_ENV = {
  command: 'GC_K8S_COMMAND',
  sessionEnv: 'GC_K8S_SESSION_ENV',
  preStartCount: 'GC_K8S_PRE_START_COUNT',
  preStartPrefix: 'GC_K8S_PRE_START_',
  waitWorkspace: 'GC_K8S_WAIT_WORKSPACE',
} as const;

export const READY_MARKER = '/workspace/.gc-workspace-ready';
export const OUTPUT_LOG = '/tmp/agent-output.log';
/** created in $TMUX_TMPDIR (default /tmp) once the session and its env are complete */
export const READY_FILE = '.gc-k8s-session-ready';

export const ENTRYPOINT_SCRIPT = `set -u
cmd=\${GC_K8S_COMMAND:-/bin/bash}
keys=\${GC_K8S_SESSION_ENV:-}
n=\${GC_K8S_PRE_START_COUNT:-0}
wait_ws=\${GC_K8S_WAIT_WORKSPACE:-}
unset GC_K8S_COMMAND GC_K8S_SESSION_ENV GC_K8S_PRE_START_COUNT GC_K8S_WAIT_WORKSPACE
fail() { printf '%s\\n' "$1" >/dev/termination-log 2>/dev/null; printf '%s\\n' "$1" >&2; exit 1; }
on_term() { tmux kill-server 2>/dev/null; exit 0; }
trap on_term TERM INT
h=\${HOME:-/tmp}
if [ -d /tmp/claude-secret ]; then mkdir -p "$h/.claude" 2>/dev/null && cp -rL /tmp/claude-secret/. "$h/.claude/" 2>/dev/null; fi
git config --global --add safe.directory '*' 2>/dev/null
if [ -n "$wait_ws" ]; then
  while [ ! -f ${READY_MARKER} ]; do sleep 0.1 & wait $!; done
fi
i=1
while [ "$i" -le "$n" ]; do
  eval "c=\\\${GC_K8S_PRE_START_$i}"
  unset "GC_K8S_PRE_START_$i"
  sh -c "$c" || fail "pre_start command $i failed with exit $?"
  i=$((i + 1))
done
set --
for k in $keys; do eval "set -- \\"\\$@\\" -e \\"$k=\\\${$k-}\\""; done
tmux new-session -d -s main -x 200 -y 50 "$@" "$cmd" || fail "tmux new-session failed"
touch "\${TMUX_TMPDIR:-/tmp}/${READY_FILE}"
tmux pipe-pane -t main -o 'cat >> ${OUTPUT_LOG}' 2>/dev/null
while tmux has-session -t main 2>/dev/null; do sleep 1 & wait $!; done
tail -c 2048 ${OUTPUT_LOG} >/dev/termination-log 2>/dev/null
exit 0
`;
