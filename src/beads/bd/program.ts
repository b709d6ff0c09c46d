// The persistent bd channel's runner end. It is one fixed program (never built from data): it reads
// requests as NUL-terminated fields — the argument count, then each argument — and runs
// `bd "$@"`, so arguments reach bd exactly as sent, whatever they contain. Replies use the shared
// framing (src/exec/framing.ts) with the tag "gcbd"; gc-bd-serve (image/agent/bd-serve) speaks
// the same.

import { nulFields } from '../../exec/framing.js';

/** Not a bd argument: asks whether this directory has its own store (bd would find a parent's). */
export const HAS_STORE = '--gc-has-store';
/** Not a bd argument: forgets this directory's .beads (the data stays in Dolt) so init can redo it. */
export const RESET_STORE = '--gc-reset-store';

/**
 * $1 is the store's working directory. Where the image has gc-bd-serve (image/agent/bd-serve) and
 * $2 is not "bd", that program takes over the channel: the same framing, with create, update,
 * set-metadata and close answered in-process through beads' storage API. Otherwise this loop runs bd per call. Temp
 * files hold one call's output so its length is known before it is sent; bd's stdin is
 * /dev/null so it can never eat the next request.
 */
export const CHANNEL_SCRIPT = `set -u
if [ "\${2-}" != bd ] && command -v gc-bd-serve >/dev/null 2>&1; then exec gc-bd-serve "$1"; fi
mkdir -p -- "$1" && cd -- "$1" || exit 3
o=$(mktemp) && e=$(mktemp) || exit 4
trap 'rm -f -- "$o" "$e"' EXIT
while IFS= read -r -d '' n; do
  case $n in ''|*[!0-9]*) exit 5 ;; esac
  set --
  while [ "$#" -lt "$n" ]; do IFS= read -r -d '' a || exit 6; set -- "$@" "$a"; done
  if [ "\${1-}" = --gc-has-store ]; then
    : >"$o"; : >"$e"; c=0; [ -f .beads/metadata.json ] || c=1
  elif [ "\${1-}" = --gc-reset-store ]; then
    : >"$o"; rm -rf -- .beads 2>"$e"; c=$?
  else
    bd "$@" >"$o" 2>"$e" </dev/null
    c=$?
  fi
  printf '\\036gcbd %d %d %d\\n' "$c" "$(wc -c <"$o")" "$(wc -c <"$e")"
  cat -- "$o" "$e"
done
`;

export interface BdReply {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One request: the count and every argument, each NUL-terminated. */
export function encodeRequest(argv: readonly string[]): Buffer {
  return nulFields([String(argv.length), ...argv]);
}
