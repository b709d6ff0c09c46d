// A persistent command channel into a container: one long-lived exec running a fixed bash loop
// that reads argv as NUL-terminated fields and runs it directly ("$@", never parsed as shell),
// so an op costs one process in the pod instead of a whole exec round trip through the API
// server and kubelet (tens of ms). Replies are length-framed: `\x1egc <exit> <out> <err>\n`
// then the raw stdout and stderr bytes. The loop uses bash builtins only (C locale, so ${#v}
// counts bytes); stdin for a command is one more NUL-terminated field.

import { GcK8sError } from '../errors.js';
import type { ExecResult, PodExec } from '../kube/ports.js';

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
  o= e=
  IFS= read -r -d '' o <"$of"
  IFS= read -r -d '' e <"$ef"
  printf '\\036gc %d %d %d\\n%s%s' "$c" "\${#o}" "\${#e}" "$o" "$e"
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

export function encodeCall(command: readonly string[], stdin: Uint8Array | undefined): Buffer {
  const fields = [String(command.length), ...command, stdin === undefined ? '0' : '1'];
  const head = Buffer.from(fields.map((f) => `${f}\0`).join(''), 'utf8');
  return stdin === undefined ? head : Buffer.concat([head, stdin, Buffer.from([0])]);
}

// eslint-disable-next-line no-control-regex -- 0x1e (record separator) starts every reply
const HEADER = /^\x1egc (\d+) (\d+) (\d+)\n/;

/** Incremental reply parser: feed stdout chunks, get complete replies out, in order. */
export class ReplyParser {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): ExecResult[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: ExecResult[] = [];
    for (;;) {
      const nl = this.buffer.indexOf(0x0a);
      if (nl < 0) {
        if (this.buffer.length > 64 || (this.buffer.length > 0 && this.buffer[0] !== 0x1e)) throw garbage(this.buffer);
        return out;
      }
      const m = HEADER.exec(this.buffer.subarray(0, nl + 1).toString('latin1'));
      if (m === null) throw garbage(this.buffer);
      const outLen = Number(m[2]);
      const errLen = Number(m[3]);
      const end = nl + 1 + outLen + errLen;
      if (this.buffer.length < end) return out;
      out.push({
        exitCode: Number(m[1]),
        stdout: Buffer.from(this.buffer.subarray(nl + 1, nl + 1 + outLen)),
        stderr: Buffer.from(this.buffer.subarray(nl + 1 + outLen, end)),
      });
      this.buffer = this.buffer.subarray(end);
    }
  }
}

function garbage(buffer: Buffer): GcK8sError {
  return new GcK8sError('EXEC_FAILED', `exec channel: unexpected output ${JSON.stringify(buffer.subarray(0, 80).toString('utf8'))}`);
}

interface Pending {
  resolve(r: ExecResult): void;
  reject(e: unknown): void;
}

/** A writable async queue used as the exec's stdin. */
class Outbox implements AsyncIterable<Uint8Array> {
  private readonly items: Uint8Array[] = [];
  private wake: (() => void) | undefined;
  private done = false;

  push(b: Uint8Array): void {
    this.items.push(b);
    this.wake?.();
  }

  end(): void {
    this.done = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const next = this.items.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.done) return;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}

/**
 * One channel into one container. Calls are serialized (the loop runs one command at a time);
 * once the channel fails or a call times out it is closed for good and callers open a new one.
 */
export class ExecChannel {
  private readonly outbox = new Outbox();
  private readonly parser = new ReplyParser();
  private readonly queue: Pending[] = [];
  private readonly stop = new AbortController();
  private failure: GcK8sError | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private inflight = 0;
  /** ms epoch of the last call's start or end */
  lastUsed = Date.now();

  constructor(exec: PodExec, readonly pod: string, readonly container: string) {
    void exec
      .exec({
        pod,
        container,
        command: ['bash', '-c', CHANNEL_SCRIPT],
        stdin: this.outbox,
        longLived: true,
        signal: this.stop.signal,
        onOutput: (stream, chunk) => {
          if (stream !== 'stdout') return;
          try {
            for (const reply of this.parser.push(chunk)) this.queue.shift()?.resolve(reply);
          } catch (err) {
            this.fail(err instanceof GcK8sError ? err : new GcK8sError('EXEC_FAILED', String(err)));
          }
        },
      })
      .then(
        (r) => {
          this.fail(new GcK8sError('EXEC_FAILED', `exec channel to ${pod} ended (exit ${r.exitCode})`));
        },
        (err: unknown) => {
          this.fail(new GcK8sError('EXEC_FAILED', `exec channel to ${pod} failed: ${(err as Error).message}`, { cause: err }));
        },
      );
  }

  get closed(): boolean {
    return this.failure !== undefined;
  }

  /** No call queued or running. */
  get idle(): boolean {
    return this.inflight === 0;
  }

  private fail(err: GcK8sError): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.stop.abort(err);
    this.outbox.end();
    for (const p of this.queue.splice(0)) p.reject(err);
  }

  close(): void {
    this.fail(new GcK8sError('ABORTED', `exec channel to ${this.pod} closed`));
  }

  /** Runs one command. Rejects with EXEC_FAILED when the channel itself breaks. */
  run(command: readonly string[], stdin: Uint8Array | undefined, signal: AbortSignal): Promise<ExecResult> {
    this.inflight++;
    this.lastUsed = Date.now();
    const next = this.tail.then(() => this.runNow(command, stdin, signal)).finally(() => {
      this.inflight--;
      this.lastUsed = Date.now();
    });
    this.tail = next.catch(() => undefined);
    return next;
  }

  private runNow(command: readonly string[], stdin: Uint8Array | undefined, signal: AbortSignal): Promise<ExecResult> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<ExecResult>((resolve, reject) => {
      const onAbort = (): void => {
        // The loop is still running that command: this channel's replies can no longer be
        // matched to callers, so it goes; the caller sees its own deadline.
        reject(new GcK8sError('TIMEOUT', `${command.join(' ')} in ${this.pod}: deadline exceeded`));
        this.fail(new GcK8sError('EXEC_FAILED', `exec channel to ${this.pod} abandoned after a timeout`));
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push({
        resolve: (r) => {
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      });
      this.outbox.push(encodeCall(command, stdin));
    });
  }
}
