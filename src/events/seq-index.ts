// The store's in-memory view of the event ConfigMaps, kept by seq and fed by the watch cache, so
// list/latest-seq/watch never download ConfigMaps. It also remembers, per seq, when this process
// first saw it (watchers use that to bound how long they wait for a missing lower seq) and which
// seqs this process reserved but has not written yet.

import type { Logger } from 'pino';
import type { ConfigMap } from '../kube/types.js';
import type { CacheEvent, Clock } from '../kube/ports.js';
import { abortError } from '../util/abort.js';
import { ANNOTATION_RECORD_ID, decodeEventConfigMap, SEQ_CONFIGMAP, seqFromName, type StoredEntry } from './layout.js';
import { parseRfc3339, instantToMs } from './time.js';

export interface IndexEntry {
  readonly name: string;
  readonly resourceVersion: string;
  readonly stored: StoredEntry;
  /** creationTimestamp in ms, when parsable (retention by age) */
  readonly createdMs: number | undefined;
  /**
   * When this process first saw it; watchers wait for a missing lower seq until gap_timeout after
   * it. For entries present when the index loaded: the lowest one -Infinity (pruning takes the
   * oldest first, so below it is history), the others their creation time (a gap between them may
   * still be a write in flight: another writer's, or one a killed daemon left at the API server).
   */
  readonly firstSeenMs: number;
  /** the record call's id, when the writer gave one */
  readonly recordId: string | undefined;
}

export class SeqIndex {
  private readonly bySeq = new Map<number, IndexEntry>();
  private readonly byRecordId = new Map<string, number>();
  /** ascending seqs of bySeq; appends are the common case */
  private readonly sorted: number[] = [];
  private readonly pending = new Set<number>();
  private readonly abandoned = new Set<number>();
  private readonly waiters = new Set<() => void>();
  private prunedThrough = 0;

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly onCounter: (cm: ConfigMap) => void,
  ) {}

  /** Loads the cache contents once it has synced (first-seen times as IndexEntry.firstSeenMs says). */
  load(objects: readonly ConfigMap[]): void {
    const now = this.clock.now();
    let lowest = Infinity;
    for (const cm of objects) lowest = Math.min(lowest, seqFromName(cm.name) ?? Infinity);
    for (const cm of objects) {
      const created = parseRfc3339(cm.creationTimestamp);
      const settled = created === undefined || seqFromName(cm.name) === lowest;
      this.upsert(cm, settled ? -Infinity : Math.min(now, instantToMs(created)));
    }
  }

  apply(event: CacheEvent<ConfigMap>): void {
    if (event.type === 'DELETED') this.remove(event.object.name);
    else this.upsert(event.object);
  }

  /** Adds or updates an object; `firstSeenMs` overrides the first-seen time (used by load). */
  upsert(cm: ConfigMap, firstSeenMs?: number): void {
    if (cm.name === SEQ_CONFIGMAP) {
      this.onCounter(cm);
      this.notify();
      return;
    }
    const stored = decodeEventConfigMap(cm);
    if (stored === undefined) return;
    const previous = this.bySeq.get(stored.seq);
    if (previous?.resourceVersion === cm.resourceVersion && firstSeenMs === undefined) return; // relist replay
    if (stored.kind === 'skip' && !stored.reason.startsWith('tombstone') && previous === undefined) {
      this.log.warn({ configMap: cm.name, reason: stored.reason }, 'unreadable event ConfigMap: watchers skip this seq');
    }
    const created = parseRfc3339(cm.creationTimestamp);
    const recordId = cm.annotations[ANNOTATION_RECORD_ID];
    if (recordId !== undefined) this.byRecordId.set(recordId, stored.seq);
    this.bySeq.set(stored.seq, {
      recordId,
      name: cm.name,
      resourceVersion: cm.resourceVersion,
      stored,
      createdMs: created === undefined ? undefined : instantToMs(created),
      firstSeenMs: firstSeenMs ?? previous?.firstSeenMs ?? this.clock.now(),
    });
    if (previous === undefined) this.insertSorted(stored.seq);
    this.notify();
  }

  remove(name: string): void {
    const seq = seqFromName(name); // the counter stays known to SequenceCounter when deleted
    const entry = seq === undefined ? undefined : this.bySeq.get(seq);
    if (seq === undefined || entry?.name !== name) return;
    if (entry.recordId !== undefined) this.byRecordId.delete(entry.recordId);
    this.bySeq.delete(seq);
    // Events are only ever deleted by pruning, which takes the oldest first (whichever process
    // runs it): a seq missing below one seen deleted was pruned too, not a write still to come.
    this.prunedThrough = Math.max(this.prunedThrough, seq);
    const i = this.lowerBound(seq);
    if (this.sorted[i] === seq) this.sorted.splice(i, 1);
    this.notify();
  }

  /** The entry a record call with this id produced, if it was stored. */
  byRecord(recordId: string): IndexEntry | undefined {
    const seq = this.byRecordId.get(recordId);
    return seq === undefined ? undefined : this.bySeq.get(seq);
  }

  get(seq: number): IndexEntry | undefined {
    return this.bySeq.get(seq);
  }

  /** The entry with the smallest seq greater than `seq`. */
  firstAfter(seq: number): IndexEntry | undefined {
    const next = this.sorted[this.lowerBound(seq + 1)];
    return next === undefined ? undefined : this.bySeq.get(next);
  }

  /** Highest stored seq (events and tombstones), 0 when empty. */
  highest(): number {
    return this.sorted.at(-1) ?? 0;
  }

  /** A snapshot of all entries, ascending by seq. */
  entries(): IndexEntry[] {
    return this.sorted.map((seq) => this.bySeq.get(seq) as IndexEntry);
  }

  addPending(seqs: readonly number[]): void {
    for (const seq of seqs) this.pending.add(seq);
  }

  /** The write for `seq` finished; `abandoned` when it failed with no event or tombstone written. */
  settlePending(seq: number, abandoned: boolean): void {
    this.pending.delete(seq);
    if (abandoned) this.abandoned.add(seq);
    this.notify();
  }

  isPending(seq: number): boolean {
    return this.pending.has(seq);
  }

  /** Every seq up to `seq` was pruned (here, or seen deleted): watchers skip missing seqs below it at once. */
  markPruned(seq: number): void {
    this.prunedThrough = Math.max(this.prunedThrough, seq);
    this.notify();
  }

  /** Highest seq pruned by this process or seen deleted (0 when none). */
  prunedFloor(): number {
    return this.prunedThrough;
  }

  isAbandoned(seq: number): boolean {
    return this.abandoned.has(seq);
  }

  /** Smallest own pending seq >= `seq`, if any. */
  lowestPendingFrom(seq: number): number | undefined {
    let lowest: number | undefined;
    for (const p of this.pending) if (p >= seq && (lowest === undefined || p < lowest)) lowest = p;
    return lowest;
  }

  /** Resolves at the next change (or at once if the signal fired). */
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(abortError(signal, 'waiting for events'));
        return;
      }
      const done = (): void => {
        this.waiters.delete(done);
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.waiters.delete(done);
        reject(abortError(signal, 'waiting for events'));
      };
      this.waiters.add(done);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private insertSorted(seq: number): void {
    const last = this.sorted.at(-1);
    if (last === undefined || last < seq) this.sorted.push(seq);
    else this.sorted.splice(this.lowerBound(seq), 0, seq);
  }

  /** Index of the first sorted seq >= `seq`. */
  private lowerBound(seq: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.sorted[mid] as number) < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
