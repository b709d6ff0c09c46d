import { describe, expect, it } from 'vitest';
import {
  decodeStoredEvent,
  encodeEventJson,
  eventFromInput,
  formatEventList,
  formatWatchLine,
  parseEventInput,
} from '../../../src/events/event-json.js';
import { isGcK8sError } from '../../../src/errors.js';

function badRequest(text: string): string {
  try {
    parseEventInput(text);
  } catch (err) {
    expect(isGcK8sError(err) && err.code).toBe('BAD_REQUEST');
    return (err as Error).message;
  }
  throw new Error(`accepted ${text}`);
}

describe('parseEventInput', () => {
  it('reads what gc sends: seq 0 and zero ts mean "assign"', () => {
    const input = parseEventInput('{"seq":0,"type":"session.woke","ts":"0001-01-01T00:00:00Z","actor":"mayor"}');
    expect(input).toEqual({ type: 'session.woke', actor: 'mayor' });
  });

  it('keeps an explicit ts byte for byte, and all optional fields', () => {
    const text =
      '{"seq":0,"type":"t","ts":"2025-06-15T14:00:00.100+02:00","actor":"a","subject":"s","message":"m","payload":{"n":12345678901234567890, "f":1.50}}';
    expect(parseEventInput(text)).toEqual({
      type: 't',
      actor: 'a',
      ts: '2025-06-15T14:00:00.100+02:00',
      subject: 's',
      message: 'm',
      payload: '{"n":12345678901234567890,"f":1.50}',
    });
  });

  it('matches keys case-insensitively like encoding/json and ignores unknown ones', () => {
    expect(parseEventInput('{"Type":"t","ACTOR":"a","extra":[1]}')).toEqual({ type: 't', actor: 'a' });
  });

  it('treats empty optional strings and null payload as absent (omitempty)', () => {
    expect(parseEventInput('{"type":"t","actor":"","subject":"","message":null,"payload":null}')).toEqual({ type: 't', actor: '' });
  });

  it('rejects malformed input with a clear BAD_REQUEST', () => {
    expect(badRequest('')).toMatch(/empty input/);
    expect(badRequest('{"type":')).toMatch(/invalid JSON/);
    expect(badRequest('[1]')).toMatch(/expected a JSON object, got an array/);
    expect(badRequest('{"actor":"a"}')).toMatch(/missing "type"/);
    expect(badRequest('{"type":"t"}')).toMatch(/missing "actor"/);
    expect(badRequest('{"type":5,"actor":"a"}')).toMatch(/"type" must be a string/);
    expect(badRequest('{"type":"t","actor":"a","ts":"yesterday"}')).toMatch(/"ts" is not an RFC 3339 time/);
  });
});

describe('event encoding', () => {
  it('writes Go field order and omits empty optional fields', () => {
    const event = eventFromInput({ type: 't', actor: 'a', message: 'hi' }, 7, '2025-06-15T12:00:00.5Z');
    expect(encodeEventJson(event)).toBe('{"seq":7,"type":"t","ts":"2025-06-15T12:00:00.5Z","actor":"a","message":"hi"}');
    expect(formatWatchLine(event)).toBe(encodeEventJson(event) + '\n');
    expect(formatEventList([event, { ...event, seq: 8 }])).toBe(`[${encodeEventJson(event)},${encodeEventJson({ ...event, seq: 8 })}]`);
    expect(formatEventList([])).toBe('[]');
  });

  it('round-trips through decode, payload verbatim', () => {
    const input = parseEventInput('{"type":"t","actor":"a","payload":[1e400, "x"]}');
    const event = eventFromInput(input, 3, '2025-06-15T12:00:00Z');
    expect(decodeStoredEvent(encodeEventJson(event), 3)).toEqual(event);
    expect(encodeEventJson(event)).toContain('"payload":[1e400,"x"]');
  });

  it('decodes upstream-script events tolerantly', () => {
    // Second-precision ts, fields missing, seq disagreeing with the name.
    expect(decodeStoredEvent('{"seq":"42","type":"bead.created","ts":"2025-06-15T12:00:00Z","actor":"human:"}', 42)).toEqual({
      seq: 42,
      type: 'bead.created',
      ts: '2025-06-15T12:00:00Z',
      actor: 'human:',
    });
    expect(decodeStoredEvent('{"type":"x"}', 9)).toEqual({ seq: 9, type: 'x', ts: '0001-01-01T00:00:00Z', actor: '' });
  });
});
