import { describe, expect, it } from 'vitest';
import type { GcEvent } from '../../../src/events/event-json.js';
import { matchesFilter, parseFilterJson } from '../../../src/events/filter.js';
import { parseAfterSeqArg } from '../../../src/protocol/ops/events.js';

const ev = (over: Partial<GcEvent>): GcEvent => ({ seq: 1, type: 't', ts: '2025-06-15T12:00:00Z', actor: 'a', ...over });

describe('parseFilterJson', () => {
  it('reads Go field names and treats zero values as no filter', () => {
    expect(parseFilterJson('{"Type":"","Actor":"","Since":"0001-01-01T00:00:00Z","AfterSeq":0}')).toEqual({});
    expect(parseFilterJson('')).toEqual({});
    expect(parseFilterJson('{"Type":"t","Actor":"a","Since":"2025-06-15T12:00:00Z","AfterSeq":5,"Other":1}')).toEqual({
      type: 't',
      actor: 'a',
      since: { sec: 1749988800, nanos: 0 },
      afterSeq: 5,
    });
    expect(parseFilterJson('{"type":"t"}')).toEqual({ type: 't' }); // encoding/json is case-insensitive
  });

  it('rejects malformed filters', () => {
    expect(() => parseFilterJson('{')).toThrow(/list: filter JSON: invalid JSON/);
    expect(() => parseFilterJson('{"AfterSeq":-1}')).toThrow(/AfterSeq/);
    expect(() => parseFilterJson('{"Since":"last week"}')).toThrow(/Since/);
  });
});

describe('matchesFilter', () => {
  it('matches type and actor exactly', () => {
    expect(matchesFilter(ev({ type: 'a/b' }), { type: 'a/b' })).toBe(true);
    expect(matchesFilter(ev({ type: 'a_b' }), { type: 'a/b' })).toBe(false);
    expect(matchesFilter(ev({ actor: 'x'.repeat(70) }), { actor: 'x'.repeat(63) })).toBe(false);
  });

  it('compares Since as time, inclusive', () => {
    const since = parseFilterJson('{"Since":"2025-06-15T12:00:00Z"}');
    expect(matchesFilter(ev({ ts: '2025-06-15T12:00:00Z' }), since)).toBe(true);
    expect(matchesFilter(ev({ ts: '2025-06-15T12:00:00.5Z' }), since)).toBe(true); // string compare says "<"
    expect(matchesFilter(ev({ ts: '2025-06-15T13:30:00+02:00' }), since)).toBe(false); // 11:30Z
    expect(matchesFilter(ev({ ts: 'garbage' }), since)).toBe(false);
  });

  it('keeps seq > AfterSeq', () => {
    expect(matchesFilter(ev({ seq: 5 }), { afterSeq: 5 })).toBe(false);
    expect(matchesFilter(ev({ seq: 6 }), { afterSeq: 5 })).toBe(true);
  });
});

describe('parseAfterSeqArg', () => {
  it('parses the watch argument', () => {
    expect(parseAfterSeqArg('42')).toBe(42);
    expect(parseAfterSeqArg(undefined)).toBe(0);
    expect(() => parseAfterSeqArg('-1')).toThrow(/afterSeq/);
    expect(() => parseAfterSeqArg('1e3')).toThrow(/afterSeq/);
  });
});
