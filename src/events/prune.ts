// Pruning: delete old events, but first make sure the counter holds at least the highest stored
// seq. latest-seq reads the counter, so it stays monotonic even when every event is deleted
// (and a counter deleted by hand is not recreated lower than history after a prune).

import type { Logger } from 'pino';
import type { Clock, ConfigMapApi } from '../kube/ports.js';
import { toGcK8sError } from '../errors.js';
import { throwIfAborted } from '../util/abort.js';
import { SequenceCounter } from './counter.js';
import { PRUNABLE_SELECTOR, seqFromName } from './layout.js';
import { isRetentionEnabled, planPrune, type PrunableItem, type RetentionPolicy } from './retention.js';
import type { RetryOptions } from './retry.js';
import { instantToMs, parseRfc3339 } from './time.js';

export interface PruneResult {
  readonly deleted: number;
  /** deletions that failed (logged); the next run tries again */
  readonly failed: number;
  /** entries left after pruning */
  readonly remaining: number;
  /** counter value after pruning: what latest-seq reports */
  readonly latestSeq: number;
  /** highest seq deleted, 0 when none */
  readonly highestDeleted: number;
}

export interface PruneDeps {
  readonly configMaps: ConfigMapApi;
  readonly clock: Clock;
  readonly log: Logger;
  readonly retry?: RetryOptions;
}

const DEFAULT_RETRY: RetryOptions = { attempts: 50, initialMs: 10, maxMs: 1000 };
const DELETE_CONCURRENCY = 8;
const LIST_PAGE = 500;

/**
 * One-shot pruning straight against the API (for `gc-k8s events prune` in the CronJob): lists the
 * event ConfigMaps page by page, repairs/raises the counter, deletes what `policy` selects.
 */
export async function pruneEvents(deps: PruneDeps, policy: RetentionPolicy, signal: AbortSignal): Promise<PruneResult> {
  const items: PrunableItem[] = [];
  let continueToken: string | undefined;
  do {
    const page = await deps.configMaps.list(PRUNABLE_SELECTOR, { signal, limit: LIST_PAGE, ...(continueToken ? { continueToken } : {}) });
    for (const cm of page.items) {
      const seq = seqFromName(cm.name);
      if (seq === undefined) continue;
      const created = parseRfc3339(cm.creationTimestamp);
      items.push({ name: cm.name, seq, resourceVersion: cm.resourceVersion, createdMs: created && instantToMs(created) });
    }
    continueToken = page.continueToken;
  } while (continueToken !== undefined && continueToken !== '');
  const counter = new SequenceCounter({ ...deps, retry: deps.retry ?? DEFAULT_RETRY });
  return executePrune({ ...deps, counter }, items, policy, signal);
}

export interface ExecuteDeps extends PruneDeps {
  readonly counter: SequenceCounter;
  /** called for each deleted item (the store drops it from its index at once) */
  readonly onDeleted?: (item: PrunableItem) => void;
}

/** Shared by pruneEvents and the store: counter first, then bounded-concurrency deletes. */
export async function executePrune(
  deps: ExecuteDeps,
  items: readonly PrunableItem[],
  policy: RetentionPolicy,
  signal: AbortSignal,
): Promise<PruneResult> {
  const highest = items.reduce((max, item) => Math.max(max, item.seq), 0);
  const latestSeq = await deps.counter.ensure(highest, signal);
  if (!isRetentionEnabled(policy)) return { deleted: 0, failed: 0, remaining: items.length, latestSeq, highestDeleted: 0 };
  const plan = planPrune(items, policy, deps.clock.now());
  let deleted = 0;
  let failed = 0;
  let highestDeleted = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < plan.length) {
      throwIfAborted(signal, 'events prune');
      const item = plan[next++] as PrunableItem;
      try {
        await deps.configMaps.delete(item.name, { signal, resourceVersion: item.resourceVersion });
        deleted++;
        highestDeleted = Math.max(highestDeleted, item.seq);
        deps.onDeleted?.(item);
      } catch (err) {
        if (signal.aborted) throw err;
        failed++;
        deps.log.warn({ configMap: item.name, err: toGcK8sError(err) }, 'events prune: delete failed; will retry next run');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, plan.length) }, worker));
  if (deleted > 0) deps.log.info({ deleted, failed, latestSeq, policy }, 'events pruned');
  return { deleted, failed, remaining: items.length - deleted, latestSeq, highestDeleted };
}
