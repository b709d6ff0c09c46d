// watch(afterSeq): stored events with seq > afterSeq, then live ones, strictly increasing, no
// duplicates. Reading by seq from the index (not from the raw cache event stream) is what makes
// cache relists harmless: a replayed object is the same seq, already behind the cursor.
//
// Gaps: a seq can be missing while a higher one exists: written in parallel and not yet seen,
// failed for good (an upstream script crash, a write we abandoned), or pruned. The cursor never
// waits forever: it skips at once seqs this process abandoned and gaps below the lowest entry
// stored when the index loaded (pruned history), skips at once seqs it pruned itself, waits while this
// process is still writing the seq, and otherwise waits until `gapTimeoutMs` after the higher seq
// was first seen (for one present when the index loaded: created), then skips and logs.

import type { Logger } from 'pino';
import type { Clock } from '../kube/ports.js';
import type { GcEvent } from './event-json.js';
import type { SeqIndex } from './seq-index.js';

export interface WatchDeps {
  readonly index: SeqIndex;
  readonly clock: Clock;
  readonly log: Logger;
  readonly gapTimeoutMs: number;
  /** resolves once the index holds the cache contents */
  readonly ready: (signal: AbortSignal) => Promise<void>;
  /** fires when the store closes */
  readonly lifetime: AbortSignal;
  /** where the watch is (the seq it has passed), for the store's lag figure */
  readonly cursor?: { seq: number };
}

export async function* watchEvents(deps: WatchDeps, afterSeq: number, signal: AbortSignal): AsyncGenerator<GcEvent, void, undefined> {
  const { index, clock, log, gapTimeoutMs } = deps;
  const stop = linked([signal, deps.lifetime]);
  try {
    await deps.ready(stop.signal);
    let next = afterSeq + 1;
    let gapSince: { seq: number; ms: number } | undefined;
    while (!stop.signal.aborted) {
      if (deps.cursor !== undefined) deps.cursor.seq = next - 1;
      const entry = index.get(next);
      if (entry !== undefined) {
        next++;
        if (entry.stored.kind === 'event') yield entry.stored.event;
        continue;
      }
      const later = index.firstAfter(next);
      if (later === undefined || index.isPending(next)) {
        await nextChange(index, clock, undefined, stop.signal);
        continue;
      }
      if (next <= index.prunedFloor()) {
        next = Math.min(index.prunedFloor() + 1, later.stored.seq); // pruned here: nothing to wait for
        continue;
      }
      if (index.isAbandoned(next)) {
        log.warn({ seq: next }, 'watch: skipping a seq whose write this process abandoned');
        next++;
        continue;
      }
      const pending = index.lowestPendingFrom(next);
      const skipTo = pending !== undefined && pending < later.stored.seq ? pending : later.stored.seq;
      const now = clock.now();
      if (gapSince?.seq !== next) gapSince = { seq: next, ms: now };
      const waitMs = later.firstSeenMs + gapTimeoutMs - now;
      if (waitMs <= 0) {
        // a gap already older than the timeout when this watch came to it is history, not a stall
        const settled = now === gapSince.ms;
        log[settled ? 'info' : 'warn'](
          { from: next, to: skipTo - 1, waitedMs: now - gapSince.ms },
          settled
            ? 'watch: seqs missing from the store (pruned or never written): skipping'
            : 'watch: seqs still missing after the gap timeout: skipping',
        );
        next = skipTo;
        continue;
      }
      await nextChange(index, clock, waitMs, stop.signal);
    }
  } catch (err) {
    if (!stop.signal.aborted) throw err;
  } finally {
    stop.dispose();
  }
}

/** Waits for an index change, `ms` (when given) or the signal, whichever comes first. */
async function nextChange(index: SeqIndex, clock: Clock, ms: number | undefined, signal: AbortSignal): Promise<void> {
  const done = linked([signal]);
  try {
    const waits = [index.changed(done.signal)];
    if (ms !== undefined) waits.push(clock.sleep(ms, done.signal));
    // Losers reject when `done` aborts below; swallow that so nothing is left unhandled.
    await Promise.race(waits.map((p) => p.catch(() => undefined)));
  } finally {
    done.dispose();
  }
}

/**
 * A controller aborted by any of `parents`. Unlike AbortSignal.any it detaches its listeners
 * on dispose, so waiting in a loop on a long-lived signal does not accumulate listeners.
 */
function linked(parents: readonly AbortSignal[]): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onAbort = (): void => {
    controller.abort(parents.find((p) => p.aborted)?.reason);
  };
  for (const parent of parents) {
    if (parent.aborted) onAbort();
    else parent.addEventListener('abort', onAbort, { once: true });
  }
  return {
    signal: controller.signal,
    dispose: () => {
      for (const parent of parents) parent.removeEventListener('abort', onAbort);
      controller.abort();
    },
  };
}
