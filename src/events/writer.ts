// The in-process record queue. One drain loop serializes this daemon's writers, so the counter
// only conflicts with other processes; everything queued while a batch is in flight forms the
// next batch and gets its seqs from ONE counter CAS (bump by N). Then the N event ConfigMaps are
// created in parallel.
//
// Once seqs are reserved, the write no longer follows the caller's signal (the seq is spent; an
// abandoned write is a gap every watcher would have to wait out), only the store's lifetime:
//  1. create the event, retrying transient errors with jittered backoff;
//  2. ALREADY_EXISTS with our exact content = an earlier attempt landed: success; with other
//     content = the counter was behind (hand-edited) and the seq is taken: requeue for a new seq;
//  3. still failing: write a tombstone so watchers skip the seq at once, and reject the caller;
//  4. tombstone failing too (API down, RBAC): mark the seq abandoned (our watchers skip it at
//     once; other processes' watchers after their gap timeout) and reject the caller.

import type { Logger } from 'pino';
import type { ConfigMap, ConfigMapManifest } from '../kube/types.js';
import type { Clock, ConfigMapApi } from '../kube/ports.js';
import { GcK8sError, hasCode, toGcK8sError } from '../errors.js';
import { abortError } from '../util/abort.js';
import type { SequenceCounter } from './counter.js';
import { eventFromInput, type EventInput, type GcEvent } from './event-json.js';
import { buildEventConfigMap, buildTombstoneConfigMap } from './layout.js';
import { backoffSleep, isTransient, newBackoff, type RetryOptions } from './retry.js';
import type { SeqIndex } from './seq-index.js';

export interface WriterDeps {
  readonly configMaps: ConfigMapApi;
  readonly counter: SequenceCounter;
  readonly index: SeqIndex;
  readonly clock: Clock;
  readonly log: Logger;
  /** fires when the store closes */
  readonly lifetime: AbortSignal;
  /** most records per counter CAS */
  readonly maxBatch: number;
  readonly writeRetry: RetryOptions;
  readonly tombstoneRetry: RetryOptions;
}

interface Job {
  readonly input: EventInput;
  readonly recordId: string | undefined;
  readonly ts: string;
  readonly signal: AbortSignal;
  readonly resolve: (event: GcEvent) => void;
  readonly reject: (err: unknown) => void;
  readonly onAbort: () => void;
  queued: boolean;
  collisions: number;
}

type Outcome = { kind: 'written'; cm: ConfigMap } | { kind: 'collision' } | { kind: 'failed'; error: GcK8sError };

/** A seq that turned out to be taken is retried with a new one at most this often. */
const MAX_COLLISIONS = 3;

export class EventWriter {
  private readonly queue: Job[] = [];
  private draining = false;

  constructor(private readonly deps: WriterDeps) {}

  /** Queues one record; resolves with the stored event. `ts` is the fill-in time for a missing ts. */
  submit(input: EventInput, ts: string, signal: AbortSignal, recordId?: string): Promise<GcEvent> {
    if (this.deps.lifetime.aborted) return Promise.reject(new GcK8sError('ABORTED', 'record: the event store is closed'));
    if (signal.aborted) return Promise.reject(abortError(signal, 'record'));
    return new Promise<GcEvent>((resolve, reject) => {
      const job: Job = {
        input,
        recordId,
        ts,
        signal,
        resolve,
        reject,
        queued: true,
        collisions: 0,
        onAbort: () => {
          if (!job.queued) return; // seqs reserved: the write goes on
          this.queue.splice(this.queue.indexOf(job), 1);
          settle(job, abortError(signal, 'record: waiting for a sequence number'));
        },
      };
      signal.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.kick();
    });
  }

  /** Rejects everything still queued (the store is closing). */
  rejectQueued(): void {
    for (const job of this.queue.splice(0)) settle(job, new GcK8sError('ABORTED', 'record: the event store is closed'));
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = true;
    void this.drain().finally(() => {
      this.draining = false;
      if (this.queue.length > 0 && !this.deps.lifetime.aborted) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.deps.lifetime.aborted) {
      const batch = this.queue.splice(0, this.deps.maxBatch);
      for (const job of batch) job.queued = false;
      try {
        await this.writeBatch(batch);
      } catch (err) {
        // writeBatch settles its jobs itself; this only guards against a bug leaving them hanging.
        for (const job of batch) settle(job, toGcK8sError(err));
      }
    }
    if (this.deps.lifetime.aborted) this.rejectQueued();
  }

  private async writeBatch(batch: Job[]): Promise<void> {
    const { counter, index, log } = this.deps;
    const reservation = whileAnyLive(batch, this.deps.lifetime);
    let first: number;
    try {
      first = await counter.reserve(batch.length, index.highest(), reservation.signal);
    } catch (err) {
      for (const job of batch) settle(job, job.signal.aborted ? abortError(job.signal, 'record') : err);
      return;
    } finally {
      reservation.dispose();
    }
    index.addPending(batch.map((_, i) => first + i));
    if (batch.length > 1) log.debug({ first, count: batch.length }, 'events: reserved a block of seqs');
    const requeue: Job[] = [];
    await Promise.all(batch.map((job, i) => this.writeOne(job, first + i, requeue)));
    for (const job of requeue.reverse()) {
      job.queued = true;
      this.queue.unshift(job);
    }
  }

  private async writeOne(job: Job, seq: number, requeue: Job[]): Promise<void> {
    const { index, log } = this.deps;
    const event = eventFromInput(job.input, seq, job.ts);
    const manifest = buildEventConfigMap(event, job.recordId);
    const outcome = await this.create(manifest, this.deps.writeRetry, (existing) => existing.data.event === manifest.data.event);
    if (outcome.kind === 'written') {
      index.upsert(outcome.cm); // read-your-writes: do not wait for the watch to deliver it
      index.settlePending(seq, false);
      settle(job, undefined, event);
      return;
    }
    if (outcome.kind === 'collision') {
      index.settlePending(seq, false);
      log.warn(
        { seq, configMap: manifest.metadata.name },
        'events: seq already taken by another event (counter was behind); retrying with a new seq',
      );
      if (++job.collisions <= MAX_COLLISIONS) requeue.push(job);
      else
        settle(
          job,
          new GcK8sError(
            'CONFLICT',
            `record: seq ${seq} and ${MAX_COLLISIONS} more were already taken; is something resetting gc-events-seq?`,
          ),
        );
      return;
    }
    const reason = `${outcome.error.code}: ${outcome.error.message}`;
    const tomb = await this.create(buildTombstoneConfigMap(seq, reason), this.deps.tombstoneRetry, () => true);
    if (tomb.kind === 'written') index.upsert(tomb.cm);
    const gap = tomb.kind === 'failed';
    index.settlePending(seq, gap);
    log.error({ seq, err: outcome.error.message, tombstone: !gap }, 'events: could not write an event after reserving its seq');
    settle(
      job,
      new GcK8sError(
        outcome.error.code,
        `record: writing ${manifest.metadata.name} failed (${gap ? 'seq left as a gap' : 'seq tombstoned'}): ${outcome.error.message}`,
        { cause: outcome.error },
      ),
    );
  }

  /**
   * Creates `manifest`, retrying transient errors. On ALREADY_EXISTS the existing object is
   * read: `isOurs` decides between "an earlier attempt landed" and "taken by someone else".
   */
  private async create(manifest: ConfigMapManifest, retry: RetryOptions, isOurs: (existing: ConfigMap) => boolean): Promise<Outcome> {
    const { configMaps, clock, index, lifetime } = this.deps;
    const name = manifest.metadata.name;
    const backoff = newBackoff(retry);
    for (let attempt = 1; ; attempt++) {
      let error: GcK8sError;
      try {
        return { kind: 'written', cm: await configMaps.create(manifest, { signal: lifetime }) };
      } catch (err) {
        error = toGcK8sError(err);
      }
      if (hasCode(error, 'ALREADY_EXISTS')) {
        try {
          const existing = await configMaps.get(name, { signal: lifetime });
          if (existing !== undefined) {
            if (isOurs(existing)) return { kind: 'written', cm: existing };
            index.upsert(existing);
            return { kind: 'collision' };
          }
          // deleted in between: just try again
        } catch (err) {
          error = toGcK8sError(err);
        }
      } else if (!isTransient(error)) {
        return { kind: 'failed', error };
      }
      if (attempt >= retry.attempts || lifetime.aborted) return { kind: 'failed', error };
      try {
        await backoffSleep(clock, backoff, lifetime, `record: writing ${name}`);
      } catch {
        return { kind: 'failed', error };
      }
    }
  }
}

function settle(job: Job, err: unknown, event?: GcEvent): void {
  job.signal.removeEventListener('abort', job.onAbort);
  if (event !== undefined) job.resolve(event);
  else job.reject(err);
}

/** A signal that fires once every job's caller has given up, or the store closes. */
function whileAnyLive(jobs: readonly Job[], lifetime: AbortSignal): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const check = (): void => {
    if (lifetime.aborted) controller.abort(lifetime.reason);
    else if (jobs.every((j) => j.signal.aborted)) controller.abort(jobs[0]?.signal.reason);
  };
  const sources = [lifetime, ...new Set(jobs.map((j) => j.signal))];
  for (const s of sources) s.addEventListener('abort', check);
  check();
  return {
    signal: controller.signal,
    dispose: () => {
      for (const s of sources) s.removeEventListener('abort', check);
    },
  };
}
