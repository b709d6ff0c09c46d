// The framing of the persistent bd channel. The runner side is one fixed bash program (never
// built from data): it reads requests as NUL-terminated fields — the argument count, then each
// argument — and runs `bd "$@"`, so arguments reach bd exactly as sent, whatever they contain.
// Each reply is a header line `\x1egcbd <exit> <stdout bytes> <stderr bytes>` followed by the
// raw stdout and stderr, so replies are length-delimited and need no escaping either.

import { GcK8sError } from '../errors.js';

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
  for (const a of argv) {
    if (a.includes('\0')) throw new GcK8sError('BAD_REQUEST', 'bd argument contains NUL');
  }
  return Buffer.from([String(argv.length), ...argv].map((s) => `${s}\0`).join(''), 'utf8');
}

/** after the record-separator byte (0x1e) */
const HEADER = /^gcbd (\d+) (\d+) (\d+)\n/;
const RS = 0x1e;
const MAX_HEADER = 64;

/** Incremental reply parser: feed stdout chunks, get complete replies out in order. */
export class ReplyParser {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): BdReply[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const replies: BdReply[] = [];
    for (;;) {
      const newline = this.buffer.indexOf(0x0a);
      if (newline < 0) {
        if (this.buffer.length > MAX_HEADER || (this.buffer.length > 0 && this.buffer[0] !== RS)) throw this.garbage();
        return replies;
      }
      const match = this.buffer[0] === RS ? HEADER.exec(this.buffer.subarray(1, newline + 1).toString('latin1')) : null;
      if (match === null) throw this.garbage();
      const outLen = Number(match[2]);
      const errLen = Number(match[3]);
      const start = newline + 1;
      if (this.buffer.length < start + outLen + errLen) return replies;
      replies.push({
        exitCode: Number(match[1]),
        stdout: this.buffer.subarray(start, start + outLen).toString('utf8'),
        stderr: this.buffer.subarray(start + outLen, start + outLen + errLen).toString('utf8'),
      });
      this.buffer = this.buffer.subarray(start + outLen + errLen);
    }
  }

  private garbage(): GcK8sError {
    const head = this.buffer.subarray(0, 80).toString('utf8');
    return new GcK8sError('EXEC_FAILED', `bd channel: unexpected output from the runner: ${JSON.stringify(head)}`);
  }
}
