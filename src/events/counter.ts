// The sequence counter `gc-events-seq`: compare-and-swap on resourceVersion, so any number of
// daemons (and the upstream script) can share a namespace. One CAS may reserve a whole block of
// seqs. The counter also heals itself: missing, corrupted or behind the stored events (hand
// edits) it is rewritten from the highest seq known, never lower, and that is logged.

import type { Logger } from 'pino';
import type { ConfigMap } from '../kube/types.js';
import type { Clock, ConfigMapApi } from '../kube/ports.js';
import { type ErrorCode, GcK8sError } from '../errors.js';
import { throwIfAborted } from '../util/abort.js';
import { buildCounterConfigMap, counterHasLabels, decodeCounter, SEQ_CONFIGMAP, type Reservation } from './layout.js';
import { backoffSleep, callError, isTransient, newBackoff, type RetryOptions } from './retry.js';

export interface CounterDeps {
  readonly configMaps: ConfigMapApi;
  readonly clock: Clock;
  readonly log: Logger;
  readonly retry: RetryOptions;
  /** this process, recorded with each reservation (undefined: not recorded) */
  readonly owner?: string;
}

const RACES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['CONFLICT', 'ALREADY_EXISTS', 'NOT_FOUND']);

export class SequenceCounter {
  /** Latest counter object we saw (cache or our own write): saves a GET when it is current. */
  private hint: { cm: ConfigMap; value: number } | undefined;
  private known = 0;

  constructor(private readonly deps: CounterDeps) {}

  /** The highest counter value this process has read or written (monotonic). */
  get maxKnown(): number {
    return this.known;
  }

  /** Feeds a counter object seen in the cache. */
  observe(cm: ConfigMap): void {
    const value = decodeCounter(cm);
    if (value === undefined) return;
    this.known = Math.max(this.known, value);
    if (this.hint === undefined || value > this.hint.value) this.hint = { cm, value };
  }

  /**
   * Reserves `count` consecutive seqs above both the counter and `floor` (the highest stored
   * seq) in one CAS; returns the first. Retries conflicts and transient errors with jittered
   * backoff until the retry budget or the signal runs out.
   */
  async reserve(count: number, floor: number, signal: AbortSignal): Promise<number> {
    return (await this.update(count, floor, signal, 'record: reserving sequence numbers')) - count + 1;
  }

  /** Creates the counter if missing and repairs it if corrupted or behind `floor`; returns its value. */
  ensure(floor: number, signal: AbortSignal): Promise<number> {
    return this.update(0, floor, signal, 'ensure-running: checking the event counter');
  }

  private async update(count: number, floor: number, signal: AbortSignal, what: string): Promise<number> {
    const { clock, retry } = this.deps;
    const backoff = newBackoff(retry);
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(signal, what);
      try {
        return await this.attempt(count, floor, signal);
      } catch (err) {
        const e = callError(err, signal, what);
        if (signal.aborted) throw e;
        this.hint = undefined; // whatever we based the attempt on is stale now
        // CONFLICT: someone else won the CAS; ALREADY_EXISTS/NOT_FOUND: the counter was created or
        // deleted concurrently. Each means "read again and retry".
        const retriable = RACES.has(e.code) || isTransient(e);
        if (!retriable) throw new GcK8sError(e.code, `${what}: ${e.message}`, { cause: e });
        if (attempt >= retry.attempts) {
          throw new GcK8sError(e.code, `${what}: gave up after ${attempt} attempts: ${e.message}`, { cause: e });
        }
        await backoffSleep(clock, backoff, signal, what);
      }
    }
  }

  private async attempt(count: number, floor: number, signal: AbortSignal): Promise<number> {
    const { configMaps, log } = this.deps;
    const need = Math.max(floor, this.known);
    let current: ConfigMap | undefined;
    let fresh = false;
    // ensure (count 0) exists to detect hand edits, so it always reads the real object.
    if (count > 0 && this.hint !== undefined && this.hint.value >= need) current = this.hint.cm;
    else {
      current = await configMaps.get(SEQ_CONFIGMAP, { signal });
      fresh = true;
    }
    if (current === undefined) {
      const target = need + count;
      if (need > 0)
        log.warn({ configMap: SEQ_CONFIGMAP, repairedTo: need }, 'event counter missing: recreating it from the highest known seq');
      const created = await configMaps.create(buildCounterConfigMap(target, undefined, this.reservation(target, count)), { signal });
      this.accept(created, target);
      return target;
    }
    const stored = decodeCounter(current);
    if (fresh && stored === undefined) {
      log.warn(
        { configMap: SEQ_CONFIGMAP, seq: current.data.seq, repairedTo: need },
        'event counter corrupted: repairing it from the highest known seq',
      );
    } else if (fresh && stored !== undefined && stored < need) {
      log.warn({ configMap: SEQ_CONFIGMAP, counter: stored, repairedTo: need }, 'event counter behind the stored events: repairing it');
    }
    const base = Math.max(stored ?? 0, need);
    const target = base + count;
    if (target === stored && counterHasLabels(current)) {
      this.accept(current, target);
      return target;
    }
    if (count === 0 && target === stored) log.info({ configMap: SEQ_CONFIGMAP }, 'event counter: adding missing labels');
    const replaced = await configMaps.replace(buildCounterConfigMap(target, current, this.reservation(target, count)), { signal });
    this.accept(replaced, target);
    return target;
  }

  private reservation(target: number, count: number): Reservation | undefined {
    const owner = this.deps.owner;
    return owner === undefined || count === 0 ? undefined : { owner, first: target - count + 1, count };
  }

  private accept(cm: ConfigMap, value: number): void {
    this.known = Math.max(this.known, value);
    this.hint = { cm, value };
  }
}
