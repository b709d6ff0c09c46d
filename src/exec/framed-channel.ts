// One long-lived exec into a container running a fixed program that answers framed requests
// (framing.ts): the session exec channel's bash loop, or the bd channel's gc-bd-serve / bash loop.
// One WebSocket and one process carry every call, saving an exec round trip (upgrade, container
// lookup, process start: tens of ms) per call. Replies come back in request order.
// When the exec ends or a call passes its deadline the channel is dead for good and its owner
// opens a new one: a call that timed out may still be running in the pod, and its late reply
// must never be taken for the next call's.

import { GcK8sError, toGcK8sError } from '../errors.js';
import type { ExecResult, PodExec } from '../kube/ports.js';
import type { Logger } from '../log/logger.js';
import { abortError } from '../util/abort.js';
import { ByteQueue } from './byte-queue.js';
import { FrameParser } from './framing.js';

export interface FramedChannelOptions {
  readonly pod: string;
  readonly container: string;
  /** the program that answers (argv; fixed code, never built from data) */
  readonly command: readonly string[];
  /** the reply header's tag */
  readonly tag: string;
  readonly log: Logger;
  /** the program's own stderr, a line at a time (gc-bd-serve reports hand-overs on it) */
  onStderrLine?(line: string): void;
  /** ms epoch, for lastUsed (default Date.now) */
  readonly now?: () => number;
}

interface Pending {
  readonly what: string;
  resolve(reply: ExecResult): void;
  reject(err: GcK8sError): void;
}

export class FramedChannel {
  private readonly stdin = new ByteQueue();
  private readonly parser: FrameParser;
  private readonly pending: Pending[] = [];
  private readonly controller = new AbortController();
  private deadReason: GcK8sError | undefined;
  private stderrTail = '';
  private stderrLine = '';
  private readonly now: () => number;
  /** ms epoch of the last call's start or end, for closing idle channels */
  lastUsed: number;

  constructor(
    exec: PodExec,
    private readonly options: FramedChannelOptions,
  ) {
    this.parser = new FrameParser(options.tag);
    this.now = options.now ?? Date.now;
    this.lastUsed = this.now();
    exec
      .exec({
        pod: options.pod,
        container: options.container,
        command: options.command,
        stdin: this.stdin,
        longLived: true,
        signal: this.controller.signal,
        onOutput: (stream, chunk) => {
          if (stream === 'stderr') this.onStderr(chunk.toString('utf8'));
          else this.onStdout(chunk);
        },
      })
      .then(
        (result) => {
          const tail = this.stderrTail.trim();
          this.die(
            new GcK8sError(
              'EXEC_FAILED',
              `${options.tag} channel to ${options.pod} ended (exit ${result.exitCode})${tail === '' ? '' : `: ${tail}`}`,
            ),
          );
        },
        (err: unknown) => {
          const e = toGcK8sError(err, 'EXEC_FAILED');
          this.die(
            e.code === 'EXEC_FAILED'
              ? e
              : new GcK8sError('EXEC_FAILED', `${options.tag} channel to ${options.pod} failed: ${e.message}`, { cause: err }),
          );
        },
      );
  }

  get pod(): string {
    return this.options.pod;
  }

  get alive(): boolean {
    return this.deadReason === undefined;
  }

  /** No call in flight: closing it loses nothing. */
  get idle(): boolean {
    return this.pending.length === 0;
  }

  /**
   * Sends one framed request; `what` names the call in errors. Rejects with the signal's
   * TIMEOUT/ABORTED when the deadline passes (and the channel dies), EXEC_FAILED when it breaks.
   */
  call(request: Uint8Array, what: string, signal: AbortSignal): Promise<ExecResult> {
    if (this.deadReason !== undefined) return Promise.reject(this.deadReason);
    if (signal.aborted) return Promise.reject(abortError(signal, what));
    this.lastUsed = this.now();
    return new Promise<ExecResult>((resolve, reject) => {
      const onAbort = (): void => {
        const err = abortError(signal, `${what} in ${this.options.pod}`);
        reject(err);
        // The reply may still come; the stream position is unknown from now on.
        this.die(
          new GcK8sError('EXEC_FAILED', `${this.options.tag} channel to ${this.options.pod} abandoned: ${err.message}`, { cause: err }),
        );
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.push({
        what,
        resolve: (reply) => {
          signal.removeEventListener('abort', onAbort);
          this.lastUsed = this.now();
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
    this.die(new GcK8sError('ABORTED', `${this.options.tag} channel to ${this.options.pod}: ${reason}`));
  }

  private onStdout(chunk: Buffer): void {
    let replies: ExecResult[];
    try {
      replies = this.parser.push(chunk);
    } catch (err) {
      this.die(toGcK8sError(err, 'EXEC_FAILED'));
      return;
    }
    for (const reply of replies) {
      const p = this.pending.shift();
      if (p === undefined) {
        this.die(new GcK8sError('EXEC_FAILED', `${this.options.tag} channel: a reply without a request`));
        return;
      }
      p.resolve(reply);
    }
  }

  /** Keeps the tail for the death message and hands on complete lines. */
  private onStderr(text: string): void {
    this.stderrTail = (this.stderrTail + text).slice(-2000);
    if (this.options.onStderrLine === undefined) return;
    const lines = (this.stderrLine + text).split('\n');
    this.stderrLine = (lines.pop() ?? '').slice(-2000);
    for (const line of lines) if (line.trim() !== '') this.options.onStderrLine(line.slice(0, 500));
  }

  private die(reason: GcK8sError): void {
    if (this.deadReason !== undefined) return;
    this.deadReason = reason;
    this.options.log.debug({ pod: this.options.pod, reason: reason.message }, `${this.options.tag} channel closed`);
    this.stdin.end();
    this.controller.abort(reason);
    for (const p of this.pending.splice(0)) p.reject(reason);
  }
}
