// The session exec channel: a fixed bash loop in the agent container that reads argv as
// NUL-terminated fields and runs it directly ("$@", never parsed as shell), so an op costs one
// process in the pod instead of a whole exec round trip through the API server and kubelet (tens
// of ms). Replies use the shared framing (framing.ts) with the tag "gc". The loop uses bash
// builtins only (C locale, so ${#v} counts bytes); stdin for a command is one more field.

import type { PodExec } from '../kube/ports.js';
import type { Logger } from '../log/logger.js';
import { FramedChannel } from './framed-channel.js';
import { nulFields } from './framing.js';

export const CHANNEL_SCRIPT = `export LC_ALL=C
cd / || exit 3
of=$(mktemp) && ef=$(mktemp) && inf=$(mktemp) || exit 4
trap 'rm -f -- "$of" "$ef" "$inf"' EXIT
while IFS= read -r -d '' n; do
  case $n in ''|*[!0-9]*) exit 5 ;; esac
  set --
  while [ "$#" -lt "$n" ]; do IFS= read -r -d '' a || exit 6; set -- "$@" "$a"; done
  IFS= read -r -d '' has || exit 6
  src=/dev/null
  if [ "$has" = 1 ]; then
    IFS= read -r -d '' in || exit 6
    printf '%s' "$in" >"$inf"
    src=$inf
  fi
  # no subshells: the command is the only process this call starts
  "$@" <"$src" >"$of" 2>"$ef"
  c=$?
  o= e= z=
  # read stops at a NUL (and then succeeds): binary output is sent by wc and cat instead
  IFS= read -r -d '' o <"$of" && z=1
  IFS= read -r -d '' e <"$ef" && z=1
  if [ -z "$z" ]; then
    printf '\\036gc %d %d %d\\n%s%s' "$c" "\${#o}" "\${#e}" "$o" "$e"
  else
    printf '\\036gc %d %d %d\\n' "$c" "$(wc -c <"$of")" "$(wc -c <"$ef")"
    cat -- "$of" "$ef"
  fi
done
`;

/** Calls the channel cannot carry (it is line- and field-oriented): use a one-shot exec. */
export const CHANNEL_LIMITS = { maxArgBytes: 8 * 1024, maxStdinBytes: 16 * 1024 };

export function fitsChannel(command: readonly string[], stdin: Uint8Array | undefined): boolean {
  let total = 0;
  for (const a of command) {
    if (a.includes('\0')) return false;
    total += Buffer.byteLength(a);
  }
  if (total > CHANNEL_LIMITS.maxArgBytes) return false;
  if (stdin === undefined) return true;
  return stdin.length <= CHANNEL_LIMITS.maxStdinBytes && !stdin.includes(0);
}

/** The argument count, each argument, whether stdin follows, and stdin. */
export function encodeCall(command: readonly string[], stdin: Uint8Array | undefined): Buffer {
  return nulFields([String(command.length), ...command, ...(stdin === undefined ? ['0'] : ['1', stdin])]);
}

/** Opens the session exec channel into one container. */
export function openExecChannel(exec: PodExec, pod: string, container: string, log: Logger, now?: () => number): FramedChannel {
  return new FramedChannel(exec, {
    pod,
    container,
    command: ['bash', '-c', CHANNEL_SCRIPT],
    tag: 'gc',
    log,
    ...(now === undefined ? {} : { now }),
  });
}
