// Runs commands in pods: through a persistent exec channel per container when the call fits one
// (small argv and stdin), else — and whenever a channel breaks — through a one-shot exec.
// Channels close when their pod leaves the watch cache, and after a while without calls, so a city
// with hundreds of quiet sessions does not hold that many streams open through the API server and
// kubelets (re-opening one costs one exec handshake). Images without bash simply never get one.

import { GcK8sError, hasCode } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { encodeCall, fitsChannel, openExecChannel } from './channel.js';
import { ChannelPool } from './channel-pool.js';
import type { Pod } from '../kube/types.js';
import type { ExecResult, ObjectCache, PodExec } from '../kube/ports.js';

export interface RunOptions {
  readonly stdin?: Uint8Array | AsyncIterable<Uint8Array>;
  readonly maxOutputBytes?: number;
  readonly signal: AbortSignal;
}

export interface CommandRunner {
  run(pod: Pod, container: string, command: readonly string[], options: RunOptions): Promise<ExecResult>;
  close(): void;
}

const DEFAULT_MAX_OUTPUT = 16 * 1024 * 1024;
/** A session channel unused this long is closed. */
export const CHANNEL_IDLE_MS = 5 * 60_000;

/** What a runner did since it was made (the daemon's metrics read it at scrape time). */
export interface RunnerStats {
  /** channels open now */
  readonly open: number;
  /** channels opened, first ones and re-opens alike */
  readonly opened: number;
  /** channels that broke mid-call (their call then ran as a one-shot exec) */
  readonly broken: number;
  /** calls run as one-shot execs (too large for a channel, a channel broke, or no bash) */
  readonly oneShot: number;
}

export class ChannelRunner implements CommandRunner {
  private readonly channels: ChannelPool;
  private counts = { opened: 0, broken: 0, oneShot: 0 };
  private readonly failures = new Map<string, number>();
  private readonly unsubscribe: () => void;
  private readonly direct: DirectRunner;

  constructor(
    private readonly exec: PodExec,
    cache: ObjectCache<Pod>,
    private readonly log: Logger,
    idleMs = CHANNEL_IDLE_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.direct = new DirectRunner(exec);
    this.channels = new ChannelPool({ idleMs, now });
    this.unsubscribe = cache.subscribe((event) => {
      if (event.type !== 'DELETED' && event.object.deletionTimestamp === undefined) return;
      this.channels.dropWhere((key) => key.startsWith(`${event.object.uid}/`), 'pod going away');
      if (event.type === 'DELETED') this.failures.delete(event.object.uid);
    });
  }

  private once(pod: Pod, container: string, command: readonly string[], options: RunOptions): Promise<ExecResult> {
    this.counts.oneShot++;
    return this.direct.run(pod, container, command, options);
  }

  stats(): RunnerStats {
    return { open: this.channels.open, ...this.counts };
  }

  async run(pod: Pod, container: string, command: readonly string[], options: RunOptions): Promise<ExecResult> {
    const stdin = options.stdin instanceof Uint8Array ? options.stdin : undefined;
    const usable =
      (options.stdin === undefined || stdin !== undefined) && fitsChannel(command, stdin) && (this.failures.get(pod.uid) ?? 0) < 2;
    if (!usable) return this.once(pod, container, command, options);
    const key = `${pod.uid}/${container}`;
    let channel = this.channels.get(key);
    if (channel === undefined) {
      this.counts.opened++;
      channel = this.channels.add(key, openExecChannel(this.exec, pod.name, container, this.log, this.now));
    }
    try {
      const result = await channel.call(encodeCall(command, stdin), command.join(' ').slice(0, 200), options.signal);
      this.failures.delete(pod.uid);
      const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
      if (result.stdout.length + result.stderr.length > max) {
        throw new GcK8sError('OUTPUT_TOO_LARGE', `${command.join(' ').slice(0, 200)} in ${pod.name}: output larger than ${max} bytes`);
      }
      return result;
    } catch (err) {
      if (!hasCode(err, 'EXEC_FAILED')) throw err;
      // The channel broke (pod going away, no bash in the image, stream reset): note it and let
      // a one-shot exec give the real answer.
      this.channels.drop(key, 'failed', channel);
      this.counts.broken++;
      this.failures.set(pod.uid, (this.failures.get(pod.uid) ?? 0) + 1);
      this.log.debug({ pod: pod.name, err }, 'exec channel failed; using a one-shot exec');
      return this.once(pod, container, command, options);
    }
  }

  /** Number of open channels (each holds one exec stream). */
  get openChannels(): number {
    return this.channels.open;
  }

  /** Closes channels with nothing in flight that were last used before `before` (ms epoch). */
  closeIdle(before: number): void {
    this.channels.closeIdle(before);
  }

  close(): void {
    this.unsubscribe();
    this.channels.close();
  }
}

/** One exec per command (no channel): the behaviour of upstream's providers. */
export class DirectRunner implements CommandRunner {
  constructor(private readonly exec: PodExec) {}

  run(pod: Pod, container: string, command: readonly string[], options: RunOptions): Promise<ExecResult> {
    return this.exec.exec({
      pod: pod.name,
      container,
      command,
      signal: options.signal,
      ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
      ...(options.maxOutputBytes === undefined ? {} : { maxOutputBytes: options.maxOutputBytes }),
    });
  }

  close(): void {
    /* nothing held */
  }
}
