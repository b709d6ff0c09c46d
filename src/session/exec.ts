// gc 1.x's `exec <name>`: a shell command (stdin) run in the agent container, its combined output,
// the op's exit code the command's own. It goes over the pod's persistent channel like every
// other op (a one-shot exec only when the script is too large for it), under the op's deadline.
//
// The command runs under `timeout` and a fixed wrapper (data only through argv and stdin), with
// no files of ours, and for a script of usual size as cheaply as the op can be (three execs):
//  - `timeout` leads its own process group, which holds everything the script starts, so a
//    deadline or a cancelled call kills all of it (a tmux server the script starts is in its own
//    session and survives, as gc intends); its argv carries a token the kill finds it by;
//  - a script the channel carries as an argument (EXEC_INLINE) runs as `sh -c`, its output
//    capped by a file-size limit (the channel writes it to a file); a larger one (EXEC_INNER)
//    comes on stdin and reaches sh through fd 3, its output cut by head;
//  - either way the script's stdin is /dev/null and too much output fails loudly instead of
//    filling the daemon's memory.

import { randomBytes } from 'node:crypto';
import { GcK8sError, quote } from '../errors.js';
import { fitsChannel } from '../exec/channel.js';
import type { Pod } from '../kube/types.js';
import { abortError } from '../util/abort.js';
import type { SessionPods } from './pods.js';

/**
 * Run by `timeout` as `sh -c EXEC_INLINE gc-exec:<token> <script> <blocks>`. The output goes to the
 * channel's file, so `ulimit -f` (hard and soft: the script cannot raise it) caps it: writing past
 * it ends the script with SIGXFSZ, and the daemon sees more output than the cap. Exit: the script's.
 */
export const EXEC_INLINE = `ulimit -f "$2" 2>/dev/null
exec 2>&1 </dev/null
cd -P /proc/1/cwd 2>/dev/null || :
exec sh -c "$1" sh`;

/**
 * Run by `timeout` as `bash -c EXEC_INNER gc-exec:<token> <bytes kept>`, the script on stdin,
 * keeping the cap plus one byte. Exit: the script's status.
 */
export const EXEC_INNER = `cd -P /proc/1/cwd 2>/dev/null || :
# read by cat, not reopened: the channel's stdin may be a socket, which /dev/fd cannot open
s=$(cat) || exit 125
sh /dev/fd/3 3<<<"$s" </dev/null 2>&1 | head -c "$1"
exit "\${PIPESTATUS[0]}"`;

/** `timeout -v` says on stderr when it ended the command (its exit code alone could be the script's). */
const timeout = (seconds: number): string[] => ['timeout', '-v', '-k', '2', String(seconds)];

/** The run's argv with the script as an argument; `ulimit -f` counts 512-byte blocks in dash. */
export function inlineArgv(token: string, seconds: number, maxOutputBytes: number, script: string): string[] {
  const blocks = Math.ceil((maxOutputBytes + 1) / 512) + 1;
  return [...timeout(seconds), 'sh', '-c', EXEC_INLINE, `gc-exec:${token}`, script, String(blocks)];
}

/** The run's argv with the script on stdin. */
export function stdinArgv(token: string, seconds: number, maxOutputBytes: number): string[] {
  return [...timeout(seconds), 'bash', '-c', EXEC_INNER, `gc-exec:${token}`, String(maxOutputBytes + 1)];
}

/** Kills what a run still has going: the process group of its `timeout`, found by the run's token. */
export const EXEC_KILL = `i=0
# the run may not have started yet: look for half a second
while :; do
  p=$(pgrep -o -f -- "gc-exec:$1") && { kill -KILL -- "-$p"; exit 0; }
  i=$((i + 1)); [ "$i" -ge 5 ] && exit 0
  sleep 0.1
done`;

/** `timeout -v`'s notice that it signalled the command. */
const TIMED_OUT = /^timeout: sending signal/m;

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
  const token = randomBytes(8).toString('hex');
  const seconds = execSeconds(opts.deadlineMs);
  // a script the channel carries as an argument needs no stdin read in the pod; larger ones
  // (or with NUL, which argv cannot hold) come on stdin
  const asArgument = inlineArgv(token, seconds, opts.maxOutputBytes, script);
  const inline = fitsChannel(asArgument, undefined);
  const argv = inline ? asArgument : stdinArgv(token, seconds, opts.maxOutputBytes);
  try {
    const stdin = inline ? undefined : Buffer.from(script, 'utf8');
    const r = await pods.tmux(pod, argv, opts.signal, stdin, opts.maxOutputBytes + 64 * 1024);
    if (r.stdout.length > opts.maxOutputBytes) {
      throw new GcK8sError('OUTPUT_TOO_LARGE', `exec: the command printed more than ${opts.maxOutputBytes} bytes; it was cut off`);
    }
    const stderr = r.stderr.toString('utf8');
    if ((r.exitCode === 124 || r.exitCode === 137) && TIMED_OUT.test(stderr)) {
      throw new GcK8sError('TIMEOUT', `exec: the command did not finish within ${seconds} s and was killed`);
    }
    // the script's own stderr is in its output: anything on stderr is timeout's or bash's
    if ((r.exitCode === 125 || r.exitCode === 126 || r.exitCode === 127) && stderr.trim() !== '') {
      throw new GcK8sError('EXEC_FAILED', `exec: could not run the command in pod ${pod.name}: ${quote(stderr.trim(), 200)}`);
    }
    return { exitCode: r.exitCode, output: r.stdout };
  } catch (err) {
    if (opts.signal.aborted) {
      // the caller is gone (cancelled, or the deadline passed first): nothing keeps running for it
      await pods.tmux(pod, ['bash', '-c', EXEC_KILL, 'gc-exec-kill', token], pods.cleanupSignal()).catch((killErr: unknown) => {
        pods.deps.log.warn({ pod: pod.name, err: killErr }, 'exec: could not stop an abandoned command');
      });
      throw abortError(opts.signal, `exec in ${pod.name}`);
    }
    throw err;
  }
}
