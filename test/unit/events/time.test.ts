import { describe, expect, it } from 'vitest';
import { wallClockNanos } from '../../../src/events/now-nanos.js';
import { compareInstants, formatRfc3339Nano, isZeroInstant, parseRfc3339, ZERO_TIME } from '../../../src/events/time.js';
import { FakeClock } from './helpers/fake-clock.js';

describe('RFC 3339 time', () => {
  it('parses fractions and offsets to exact instants', () => {
    expect(parseRfc3339('1970-01-01T00:00:00Z')).toEqual({ sec: 0, nanos: 0 });
    expect(parseRfc3339('2025-06-15T12:00:00.5Z')).toEqual({ sec: 1749988800, nanos: 500_000_000 });
    expect(parseRfc3339('2025-06-15T14:00:00+02:00')).toEqual({ sec: 1749988800, nanos: 0 });
    expect(parseRfc3339('2025-06-15T12:00:00.123456789123Z')?.nanos).toBe(123456789); // truncated like Go
  });

  it('rejects what Go rejects', () => {
    for (const bad of [
      '2025-06-15 12:00:00Z',
      '2025-02-30T00:00:00Z',
      '2025-06-15T24:00:00Z',
      '2025-06-15T12:00:00',
      '2025-06-15T12:00:00+0200',
      'yesterday',
      '',
    ]) {
      expect(parseRfc3339(bad), bad).toBeUndefined();
    }
  });

  it('compares by instant, not by text', () => {
    // As strings "…00.5Z" < "…00Z" and "…+02:00" sorts by local digits: both wrong.
    const a = parseRfc3339('2025-06-15T12:00:00Z')!;
    const b = parseRfc3339('2025-06-15T12:00:00.5Z')!;
    const c = parseRfc3339('2025-06-15T13:30:00+02:00')!; // 11:30Z
    expect(compareInstants(a, b)).toBeLessThan(0);
    expect(compareInstants(c, a)).toBeLessThan(0);
  });

  it('knows Go zero time', () => {
    expect(isZeroInstant(parseRfc3339(ZERO_TIME)!)).toBe(true);
    expect(isZeroInstant(parseRfc3339('0001-01-01T00:00:00+01:00')!)).toBe(false);
  });

  it('formats RFC3339Nano in UTC with trailing zeros trimmed', () => {
    expect(formatRfc3339Nano(1749988800_123456789n)).toBe('2025-06-15T12:00:00.123456789Z');
    expect(formatRfc3339Nano(1749988800_120000000n)).toBe('2025-06-15T12:00:00.12Z');
    expect(formatRfc3339Nano(1749988800_000000000n)).toBe('2025-06-15T12:00:00Z');
    expect(formatRfc3339Nano(-62135596800_000000000n)).toBe(ZERO_TIME);
    const text = formatRfc3339Nano(4102444800_000000001n);
    expect(text).toBe('2100-01-01T00:00:00.000000001Z');
    expect(parseRfc3339(text)).toEqual({ sec: 4102444800, nanos: 1 });
  });

  it('wall-clock nanos follow the clock and take sub-ms digits from hrtime', () => {
    const clock = new FakeClock(1749988800_000);
    let hr = 5_000_000_000n;
    const now = wallClockNanos(clock, () => hr);
    expect(now()).toBe(1749988800_000_000_000n);
    hr += 1_234_567n;
    clock.nowMs += 1;
    expect(now()).toBe(1749988800_001_234_567n);
    clock.nowMs += 60_000; // clock jumped without hrtime moving: re-anchor to the clock
    expect(now()).toBe(1749988860_001_000_000n);
  });
});
