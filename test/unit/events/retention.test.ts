import { describe, expect, it } from 'vitest';
import { planPrune, parseRetentionPolicy, type PrunableItem } from '../../../src/events/retention.js';

const item = (seq: number, createdMs: number | undefined): PrunableItem => ({
  name: `gc-evt-${seq}`,
  seq,
  resourceVersion: String(seq),
  createdMs,
});

describe('retention', () => {
  const now = 1_000_000;
  const items = [item(3, now - 10), item(1, now - 5000), item(2, now - 3000), item(4, undefined)];

  it('keeps the newest maxCount by seq', () => {
    expect(planPrune(items, { maxCount: 2 }, now).map((i) => i.seq)).toEqual([1, 2]);
  });

  it('deletes entries older than maxAge (by creation time; unknown age is kept)', () => {
    expect(planPrune(items, { maxAgeMs: 2000 }, now).map((i) => i.seq)).toEqual([1, 2]);
    expect(planPrune(items, { maxAgeMs: 4000, maxCount: 3 }, now).map((i) => i.seq)).toEqual([1]);
  });

  it('is off by default', () => {
    expect(planPrune(items, {}, now)).toEqual([]);
    expect(planPrune(items, { maxAgeMs: 0, maxCount: 0 }, now)).toEqual([]);
  });

  it('parses CLI values', () => {
    expect(parseRetentionPolicy({ maxAge: '24h', maxCount: '10000' })).toEqual({ maxAgeMs: 86_400_000, maxCount: 10000 });
    expect(parseRetentionPolicy({ maxAge: '1h30m' })).toEqual({ maxAgeMs: 5_400_000 });
    expect(parseRetentionPolicy({ maxAge: '7d', maxCount: '0' })).toEqual({ maxAgeMs: 604_800_000, maxCount: 0 });
    expect(parseRetentionPolicy({})).toEqual({});
    expect(() => parseRetentionPolicy({ maxAge: '1 day' })).toThrow(/--max-age "1 day" is not a duration/);
    expect(() => parseRetentionPolicy({ maxCount: '-3' })).toThrow(/--max-count/);
  });
});
