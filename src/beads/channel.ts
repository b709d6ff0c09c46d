// A persistent exec into the runner for one store: one WebSocket and one process (gc-bd-serve, or
// a bash loop where the image lacks it) carry every bd call of that store, saving the exec round
// trip (upgrade, container lookup, shell start) per op.
// Replies come back in request order. When the exec ends (runner deleted, network drop) or a call
// passes its deadline, the channel is dead for good and its owner opens a new one: a call that
// timed out may still be running in the pod, and its late reply must never be taken for the next.
// Each open channel holds one of the client's exec slots, so owners keep only a few open.

import type { PodExec } from '../kube/ports.js';
import { GcK8sError, toGcK8sError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { abortError } from '../util/abort.js';
import { CHANNEL_SCRIPT, encodeRequest, ReplyParser, type BdReply } from './channel-protocol.js';

interface Pending {
  resolve(reply: BdReply): void;
  reject(err: GcK8sError): void;
}

/** An async iterable of stdin chunks that stays open until end(). */
class StdinQueue implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private wake: (() => void) | undefined;
  private ended = false;

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const next = this.chunks.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

export interface ChannelTarget {
  readonly pod: string;
  readonly container: string;
  readonly workdir: string;
  /** the bash loop around bd even where the image has gc-bd-serve */
  readonly bdOnly?: boolean;
}

export class BdChannel {
  private readonly stdin = new StdinQueue();
  private readonly parser = new ReplyParser();
  private readonly pending: Pending[] = [];
  private readonly controller = new AbortController();
  private deadReason: GcK8sError | undefined;
  private stderrTail = '';
  /** an unfinished line of the channel process's own stderr (gc-bd-serve reports on it) */
  private stderrLine = '';
  /** ms epoch of the last call, for closing idle channels */
  lastUsed = Date.now();

  constructor(
    exec: PodExec,
    readonly target: ChannelTarget,
    private readonly log: Logger,
  ) {
    exec
      .exec({
        pod: target.pod,
        container: target.container,
        command: ['bash', '-c', CHANNEL_SCRIPT, 'gc-bd-channel', target.workdir, target.bdOnly === true ? 'bd' : 'serve'],
        stdin: this.stdin,
        longLived: true,
        onOutput: (stream, chunk) => {
          if (stream === 'stderr') this.onStderr(chunk.toString('utf8'));
          else this.onStdout(chunk);
        },
        signal: this.controller.signal,
      })
      .then(
        (result) => {
          const tail = this.stderrTail.trim();
          this.die(new GcK8sError('EXEC_FAILED', `bd channel in pod ${target.pod} ended (exit ${result.exitCode})${tail === '' ? '' : `: ${tail}`}`));
        },
        (err: unknown) => {
          this.die(toGcK8sError(err, 'EXEC_FAILED'));
        },
      );
  }

  /** Keeps the tail for the death message and logs each line (gc-bd-serve's hand-overs to bd). */
  private onStderr(text: string): void {
    this.stderrTail = (this.stderrTail + text).slice(-2000);
    const lines = (this.stderrLine + text).split('\n');
    this.stderrLine = (lines.pop() ?? '').slice(-2000);
    for (const line of lines) if (line.trim() !== '') this.log.info({ workdir: this.target.workdir }, line.slice(0, 500));
  }

  get alive(): boolean {
    return this.deadReason === undefined;
  }

  /** No call in flight: closing it loses nothing. */
  get idle(): boolean {
    return this.pending.length === 0;
  }

  /** Runs `bd ...argv` in the store's directory. Rejects when the deadline passes or the channel dies. */
  run(argv: readonly string[], signal: AbortSignal): Promise<BdReply> {
    if (this.deadReason !== undefined) return Promise.reject(this.deadReason);
    if (signal.aborted) return Promise.reject(abortError(signal, `bd ${argv[0] ?? ''}`));
    const request = encodeRequest(argv);
    this.lastUsed = Date.now();
    return new Promise<BdReply>((resolve, reject) => {
      const onAbort = (): void => {
        const err = abortError(signal, `bd ${argv[0] ?? ''}`);
        // The reply may still come; the stream position is unknown from now on.
        this.die(err);
        reject(err);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.push({
        resolve: (reply) => {
          signal.removeEventListener('abort', onAbort);
          resolve(reply);
        },
        reject: (err) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      });
      this.stdin.push(request);
    });
  }

  close(reason = 'closed'): void {
    this.die(new GcK8sError('ABORTED', `bd channel ${this.target.workdir}: ${reason}`));
  }

  private onStdout(chunk: Buffer): void {
    let replies: BdReply[];
    try {
      replies = this.parser.push(chunk);
    } catch (err) {
      this.die(toGcK8sError(err, 'EXEC_FAILED'));
      return;
    }
    for (const reply of replies) {
      const p = this.pending.shift();
      if (p === undefined) {
        this.die(new GcK8sError('EXEC_FAILED', 'bd channel: a reply without a request'));
        return;
      }
      p.resolve(reply);
    }
  }

  private die(reason: GcK8sError): void {
    if (this.deadReason !== undefined) return;
    this.deadReason = reason;
    this.log.debug({ workdir: this.target.workdir, reason: reason.message }, 'bd channel closed');
    this.stdin.end();
    this.controller.abort(reason);
    for (const p of this.pending.splice(0)) p.reject(reason);
  }
}
