// The event store behind `gc-events-k8s`: wires the counter, the seq index (fed by the watch
// cache), the record queue, watch and pruning. All reads come from the cache; writes go through
// the ConfigMapApi. See layout.ts for the ConfigMap layout shared with upstream.

import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { ConfigMap } from '../kube/types.js';
import type { Clock, ConfigMapApi, ObjectCache } from '../kube/ports.js';
import { GcK8sError } from '../errors.js';
import { SequenceCounter } from './counter.js';
import type { EventInput, GcEvent } from './event-json.js';
import { matchesFilter, type EventFilter } from './filter.js';
import { checkEventSize } from './limits.js';
import { wallClockNanos } from './now-nanos.js';
import { executePrune, type PruneResult } from './prune.js';
import type { RetentionPolicy } from './retention.js';
import type { RetryOptions } from './retry.js';
import { SeqIndex } from './seq-index.js';
import { formatRfc3339Nano } from './time.js';
import { watchEvents } from './watch.js';
import { EventWriter } from './writer.js';
import { currentOwner, formatOwner } from './owner.js';
import { reclaimDeadReservation } from './reclaim.js';

export interface EventStoreOptions {
  /**
   * How long a watcher waits for a missing seq once a higher one exists, before skipping it
   * (logged). Covers writes in flight in other processes. Default 30 000.
   */
  readonly gapTimeoutMs?: number;
  /** Most queued records that share one counter CAS. Default 32. */
  readonly maxBatch?: number;
  /** Counter CAS budget. Default 100 attempts, backoff 5 ms → 1 s, jittered; the caller's signal bounds it too. */
  readonly casRetry?: RetryOptions;
  /** Event create budget once a seq is reserved: long enough to ride out an apiserver restart. Default 20 attempts, 50 ms → 2 s (about 30 s). */
  readonly writeRetry?: RetryOptions;
  /** Tombstone create budget. Default 4 attempts, 50 ms → 1 s. */
  readonly tombstoneRetry?: RetryOptions;
  /** Who this store says reserved its seqs (default: this process, see owner.ts). */
  readonly owner?: string;
  /** Whether a reserver recorded on the counter is certainly dead (default: owner.ts's check). */
  readonly isDeadOwner?: (owner: string) => boolean;
  /** Epoch nanoseconds for auto-filled ts. Default: the clock plus hrtime for sub-ms digits. */
  readonly nowNanos?: () => bigint;
}

export interface EventStoreDeps {
  readonly configMaps: ConfigMapApi;
  /** A cache over EVENT_CACHE_SELECTOR (events, tombstones and the counter). Not closed by the store. */
  readonly cache: ObjectCache<ConfigMap>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly namespace: string;
  readonly options?: EventStoreOptions;
}

/** Gas City's event log in one namespace. Safe for concurrent use; several daemons may share a namespace. */
export interface EventStore {
  /** Waits for the cache, creates the counter if missing and repairs it if corrupted or behind. Idempotent. */
  ensureRunning(signal: AbortSignal): Promise<void>;
  /**
   * Stores one event and resolves with it (seq assigned, ts filled only when absent/zero).
   * TOO_LARGE is thrown before anything is written; the caller's signal bounds the wait for a seq,
   * but once a seq is reserved the write completes (or is tombstoned) regardless.
   */
  record(input: EventInput, signal: AbortSignal, options?: { readonly recordId?: string }): Promise<GcEvent>;
  /** Matching events from the cache, ascending by seq. */
  list(filter: EventFilter, signal: AbortSignal): Promise<GcEvent[]>;
  /**
   * The counter value (monotonic, also after pruning), or the highest stored seq if the counter
   * is missing. Waits for this process's own in-flight records at or below it, so a watch from
   * the returned seq misses none of them.
   */
  latestSeq(signal: AbortSignal): Promise<number>;
  /**
   * Events with seq > afterSeq: the stored ones, then live ones, strictly increasing and without
   * duplicates. The iteration ends (returns normally) when `signal` aborts or the store closes.
   */
  watch(afterSeq: number, signal: AbortSignal): AsyncIterable<GcEvent>;
  /** Deletes events per `policy` (after raising the counter to the highest stored seq). */
  prune(policy: RetentionPolicy, signal: AbortSignal): Promise<PruneResult>;
  /** What this store did and where its watches are (the daemon's metrics read it at scrape time). */
  stats(): EventStoreStats;
  /** Rejects queued records, ends watches, detaches from the cache. Does not close the cache. */
  close(): void;
}

export interface EventStoreStats {
  /** events this process stored */
  readonly written: number;
  /** watches open now */
  readonly watchers: number;
  /** the highest seq known (the counter, or the highest stored) */
  readonly latestSeq: number;
  /** how far the furthest-behind watch is below the highest stored seq (0 without watches) */
  readonly watchLagSeqs: number;
}

export function createEventStore(deps: EventStoreDeps): EventStore {
  const options = deps.options ?? {};
  const log = deps.log.child({ component: 'events', namespace: deps.namespace });
  const lifetime = new AbortController();
  // every in-flight write and watch listens on it: dozens at once is normal, not a leak
  setMaxListeners(0, lifetime.signal);
  const self = currentOwner();
  const owner = options.owner ?? (self === undefined ? undefined : formatOwner(self));
  const counter = new SequenceCounter({
    configMaps: deps.configMaps,
    clock: deps.clock,
    log,
    retry: options.casRetry ?? { attempts: 100, initialMs: 5, maxMs: 1000 },
    ...(owner === undefined ? {} : { owner }),
  });
  const index = new SeqIndex(deps.clock, log, (cm) => {
    counter.observe(cm);
  });
  const unsubscribe = deps.cache.subscribe((event) => {
    index.apply(event);
  });
  const inFlight = new Map<string, Promise<GcEvent>>();
  const cursors = new Set<{ seq: number }>();
  let written = 0;
  const counted = (write: Promise<GcEvent>): Promise<GcEvent> =>
    write.then((event) => {
      written++;
      return event;
    });
  const writer = new EventWriter({
    configMaps: deps.configMaps,
    counter,
    index,
    clock: deps.clock,
    log,
    lifetime: lifetime.signal,
    maxBatch: options.maxBatch ?? 32,
    writeRetry: options.writeRetry ?? { attempts: 20, initialMs: 50, maxMs: 2000 },
    tombstoneRetry: options.tombstoneRetry ?? { attempts: 4, initialMs: 50, maxMs: 1000 },
  });
  const nowNanos = options.nowNanos ?? wallClockNanos(deps.clock);
  let loaded = false;
  let reclaimed: Promise<void> | undefined;

  const ready = async (signal: AbortSignal): Promise<void> => {
    if (lifetime.signal.aborted) throw new GcK8sError('ABORTED', 'events: the event store is closed');
    // fresh, not merely synced: a stalled watch must not hide events another writer stored
    await deps.cache.fresh({ signal });
    if (!loaded) {
      loaded = true;
      index.load(deps.cache.list());
    }
    // once per store, before its first reservation replaces the counter's record of the last one
    reclaimed ??= reclaimDeadReservation(
      { configMaps: deps.configMaps, index, log, ...(options.isDeadOwner === undefined ? {} : { isDead: options.isDeadOwner }) },
      AbortSignal.any([lifetime.signal, AbortSignal.timeout(10_000)]),
    ).then(
      () => undefined,
      (err: unknown) => {
        log.warn({ err }, 'events: could not check the last reservation for a dead daemon (watchers fall back to gap_timeout)');
      },
    );
    await reclaimed;
  };

  return {
    async ensureRunning(signal) {
      await ready(signal);
      await counter.ensure(index.highest(), signal);
    },

    async record(input, signal, options) {
      const ts = input.ts ?? formatRfc3339Nano(nowNanos());
      checkEventSize(input, ts);
      await ready(signal);
      const recordId = options?.recordId;
      if (recordId === undefined) return counted(writer.submit(input, ts, signal));
      // A client retrying after a daemon crash gets the event its first call stored, not a copy.
      const stored = index.byRecord(recordId);
      if (stored?.stored.kind === 'event') return stored.stored.event;
      const running = inFlight.get(recordId);
      if (running !== undefined) return running;
      const write = counted(writer.submit(input, ts, signal, recordId));
      inFlight.set(recordId, write);
      return write.finally(() => inFlight.delete(recordId));
    },

    async list(filter, signal) {
      await ready(signal);
      const out: GcEvent[] = [];
      for (const entry of index.entries()) {
        if (entry.stored.kind === 'event' && matchesFilter(entry.stored.event, filter)) out.push(entry.stored.event);
      }
      return out;
    },

    async latestSeq(signal) {
      await ready(signal);
      const latest = Math.max(counter.maxKnown, index.highest());
      for (;;) {
        const pending = index.lowestPendingFrom(0);
        if (pending === undefined || pending > latest) return latest;
        await index.changed(signal);
      }
    },

    watch(afterSeq, signal) {
      if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) {
        throw new GcK8sError('BAD_REQUEST', `watch: afterSeq must be a non-negative integer, got ${afterSeq}`);
      }
      return tracked(cursors, { seq: afterSeq }, (cursor) =>
        watchEvents(
          { index, clock: deps.clock, log, gapTimeoutMs: options.gapTimeoutMs ?? 30_000, ready, lifetime: lifetime.signal, cursor },
          afterSeq,
          signal,
        ),
      );
    },

    stats() {
      const highest = index.highest();
      let lag = 0;
      for (const c of cursors) lag = Math.max(lag, highest - c.seq);
      return { written, watchers: cursors.size, latestSeq: Math.max(counter.maxKnown, highest), watchLagSeqs: lag };
    },

    async prune(policy, signal) {
      await ready(signal);
      const items = index
        .entries()
        .map((e) => ({ name: e.name, seq: e.stored.seq, resourceVersion: e.resourceVersion, createdMs: e.createdMs }));
      const result = await executePrune(
        {
          configMaps: deps.configMaps,
          clock: deps.clock,
          log,
          counter,
          onDeleted: (item) => {
            index.remove(item.name);
          },
        },
        items,
        policy,
        signal,
      );
      index.markPruned(result.highestDeleted);
      return result;
    },

    close() {
      if (lifetime.signal.aborted) return;
      lifetime.abort(new GcK8sError('ABORTED', 'events: the event store is closed'));
      writer.rejectQueued();
      unsubscribe();
    },
  };
}

/** A watch whose cursor is in `cursors` while it runs. */
async function* tracked(
  cursors: Set<{ seq: number }>,
  cursor: { seq: number },
  watch: (cursor: { seq: number }) => AsyncGenerator<GcEvent, void, undefined>,
): AsyncGenerator<GcEvent, void, undefined> {
  cursors.add(cursor);
  try {
    yield* watch(cursor);
  } finally {
    cursors.delete(cursor);
  }
}
