// Which record calls count as the same record (Gas City 1.x retries a record as a new process).
import { describe, expect, it } from 'vitest';
import { parseEventInput } from '../../../src/events/event-json.js';
import { recordKey } from '../../../src/events/record-key.js';

const input = (o: object) => parseEventInput(JSON.stringify({ type: 't', actor: 'a', ...o }));

describe('record key', () => {
  it('an event gc stamped is keyed by its content, whatever the request id', () => {
    const e = { ts: '2026-12-02T04:00:00.123456789Z', subject: 's', message: 'm', payload: { n: 1 } };
    expect(recordKey(input(e), 'rid-1')).toBe(recordKey(input(e), 'rid-2'));
    expect(recordKey(input(e), undefined)).toMatch(/^c-[0-9a-f]{40}$/);
    for (const change of [
      { ts: '2026-12-02T04:00:00.123456788Z' },
      { subject: 'x' },
      { message: 'x' },
      { payload: { n: 2 } },
      { type: 'u' },
    ])
      expect(recordKey(input({ ...e, ...change }), 'rid-1')).not.toBe(recordKey(input(e), 'rid-1'));
  });

  it('an event without a ts is stamped here: only the same request id is the same record', () => {
    expect(recordKey(input({}), 'rid-1')).toBe('rid-1');
    expect(recordKey(input({}), undefined)).toBeUndefined();
    expect(recordKey(input({ ts: '0001-01-01T00:00:00Z' }), 'rid-1')).toBe('rid-1');
  });
});
