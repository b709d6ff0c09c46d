// Retention policy for pruning: which stored events (and tombstones) to delete. Pure: the same
// plan runs in the daemon (from its cache) and in the CronJob (from one paginated list). Age is
// the ConfigMap's creationTimestamp (server time, like upstream's cleanup job), not the event ts,
// which callers may set to anything.

import { GcK8sError, quote } from '../errors.js';

export interface RetentionPolicy {
  /** delete entries created more than this many ms ago; 0 or absent = no age limit */
  readonly maxAgeMs?: number;
  /** keep at most this many entries (the highest seqs); 0 or absent = no count limit */
  readonly maxCount?: number;
}

export interface PrunableItem {
  readonly name: string;
  readonly seq: number;
  readonly resourceVersion: string;
  readonly createdMs: number | undefined;
}

/** Items to delete under `policy` at `nowMs`, ascending by seq. */
export function planPrune(items: readonly PrunableItem[], policy: RetentionPolicy, nowMs: number): PrunableItem[] {
  const sorted = [...items].sort((a, b) => a.seq - b.seq);
  const maxCount = policy.maxCount ?? 0;
  const maxAge = policy.maxAgeMs ?? 0;
  const overCount = maxCount > 0 ? Math.max(0, sorted.length - maxCount) : 0;
  return sorted.filter((item, i) => i < overCount || (maxAge > 0 && item.createdMs !== undefined && item.createdMs < nowMs - maxAge));
}

export function isRetentionEnabled(policy: RetentionPolicy): boolean {
  return (policy.maxAgeMs ?? 0) > 0 || (policy.maxCount ?? 0) > 0;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses CLI/config values: `maxAge` like "24h", "90m", "7d", "1h30m" (or "0"), `maxCount` a
 * non-negative integer. Absent values stay off. Throws BAD_REQUEST naming the bad value.
 */
export function parseRetentionPolicy(values: {
  readonly maxAge?: string | undefined;
  readonly maxCount?: string | undefined;
}): RetentionPolicy {
  const policy: { maxAgeMs?: number; maxCount?: number } = {};
  if (values.maxAge !== undefined && values.maxAge !== '') {
    const text = values.maxAge.trim();
    let total = 0;
    if (text !== '0') {
      if (!/^(?:\d+(?:ms|s|m|h|d))+$/.test(text)) {
        throw new GcK8sError('BAD_REQUEST', `events prune: --max-age ${quote(values.maxAge)} is not a duration like 24h, 90m or 7d`);
      }
      for (const m of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    }
    policy.maxAgeMs = total;
  }
  if (values.maxCount !== undefined && values.maxCount !== '') {
    if (!/^\d+$/.test(values.maxCount.trim())) {
      throw new GcK8sError('BAD_REQUEST', `events prune: --max-count ${quote(values.maxCount)} is not a non-negative integer`);
    }
    policy.maxCount = Number(values.maxCount.trim());
  }
  return policy;
}
