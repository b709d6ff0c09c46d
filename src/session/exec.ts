// gc 1.x's `exec <name>`: a shell command (stdin) run in the agent container, its combined output,
// the op's exit code the command's own. It goes over the pod's persistent channel like every
// other op (a one-shot exec only when the script is too large for it), under the op's deadline.
//
// The command runs inside a fixed wrapper (EXEC_SCRIPT, data only through argv and stdin) that:
//  - keeps the script in a private directory named by the daemon (so the daemon can find it);
//  - runs it under `timeout`, whose own process group holds everything the script starts, so a
//    deadline or a cancelled call kills all of it (a tmux server the script starts is in its own
//    session and survives, as gc intends);
//  - cuts the combined output one byte past the cap, so too much output fails loudly instead of
//    filling the daemon's memory.

import { randomBytes } from 'node:crypto';
import { GcK8sError, quote } from '../errors.js';
import type { Pod } from '../kube/types.js';
import { abortError } from '../util/abort.js';
import type { SessionPods } from './pods.js';

/**
 * $1 the run's directory, $2 seconds allowed, $3 output bytes kept (the cap plus one); the
 * script on stdin. Exit: the script's status; 124 with "timed out" on stderr when `timeout`
 * ended it. The script's own stdin is /dev/null.
 */
export const EXEC_SCRIPT = `d=$1
mkdir -m 700 -- "$d" || exit 125
trap 'rm -rf -- "$d"' EXIT
cat >"$d/script" || exit 125
# in the container's working directory (the session's work_dir), where PID 1 runs
cd -- "$(readlink /proc/1/cwd)" 2>/dev/null || :
timeout -k 2 "$2" bash -c 'sh "$1" 2>&1 </dev/null | head -c "$2"; exit "\${PIPESTATUS[0]}"' gc-exec "$d/script" "$3" &
p=$!
printf '%s\\n' "$p" >"$d/pid"
wait "$p"
c=$?
[ "$c" -eq 124 ] && echo "gc-exec: timed out" >&2
exit "$c"`;

/** Kills what a run still has going (its `timeout` process group) and removes its directory (bash: its kill takes `--`). */
export const EXEC_KILL = `i=0
# the run may not have recorded its pid yet: give it half a second
while [ -d "$1" ] && [ ! -s "$1/pid" ] && [ "$i" -lt 5 ]; do sleep 0.1; i=$((i + 1)); done
p=$(cat "$1/pid" 2>/dev/null) && kill -KILL -- "-$p" 2>/dev/null
rm -rf -- "$1"`;

export interface ExecOutcome {
  readonly exitCode: number;
  readonly output: Buffer;
}

/** Seconds the pod-side timeout allows: a little under the op's own deadline, so the pod ends it first. */
export function execSeconds(deadlineMs: number): number {
  return Math.max(1, Math.floor((deadlineMs - 2_000) / 1_000));
}

export async function runExec(
  pods: SessionPods,
  pod: Pod,
  script: string,
  opts: { deadlineMs: number; maxOutputBytes: number; signal: AbortSignal },
): Promise<ExecOutcome> {
  const dir = `/tmp/gc-exec.${randomBytes(8).toString('hex')}`;
  const seconds = execSeconds(opts.deadlineMs);
  const argv = ['bash', '-c', EXEC_SCRIPT, 'gc-exec', dir, String(seconds), String(opts.maxOutputBytes + 1)];
  try {
    const r = await pods.tmux(pod, argv, opts.signal, Buffer.from(script, 'utf8'), opts.maxOutputBytes + 64 * 1024);
    if (r.stdout.length > opts.maxOutputBytes) {
      throw new GcK8sError('OUTPUT_TOO_LARGE', `exec: the command printed more than ${opts.maxOutputBytes} bytes; it was cut off`);
    }
    const stderr = r.stderr.toString('utf8');
    if (r.exitCode === 124 && stderr.includes('gc-exec: timed out')) {
      throw new GcK8sError('TIMEOUT', `exec: the command did not finish within ${seconds} s and was killed`);
    }
    if (r.exitCode === 125 && r.stdout.length === 0) {
      throw new GcK8sError('EXEC_FAILED', `exec: could not prepare the command in pod ${pod.name}: ${quote(stderr.trim(), 200)}`);
    }
    return { exitCode: r.exitCode, output: r.stdout };
  } catch (err) {
    if (opts.signal.aborted) {
      // the caller is gone (cancelled, or the deadline passed first): nothing keeps running for it
      await pods.tmux(pod, ['bash', '-c', EXEC_KILL, 'gc-exec-kill', dir], pods.cleanupSignal()).catch((killErr: unknown) => {
        pods.deps.log.warn({ pod: pod.name, err: killErr }, 'exec: could not stop an abandoned command');
      });
      throw abortError(opts.signal, `exec in ${pod.name}`);
    }
    throw err;
  }
}
