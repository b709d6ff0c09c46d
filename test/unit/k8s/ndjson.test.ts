import { describe, expect, it } from 'vitest';
import { LineSplitter, parseWatchLine } from '../../../src/k8s/ndjson.js';

describe('LineSplitter', () => {
  it('joins lines across chunk boundaries and skips blank lines', () => {
    const s = new LineSplitter(1024);
    expect(s.push(Buffer.from('{"a":'))).toEqual([]);
    expect(s.push(Buffer.from('1}\n\n{"b"'))).toEqual(['{"a":1}']);
    expect(s.remainder).toBe(4);
    expect(s.push(Buffer.from(':2}\r\n{"c":3}\n'))).toEqual(['{"b":2}', '{"c":3}']);
    expect(s.remainder).toBe(0);
  });

  it('never decodes half a multi-byte character', () => {
    const bytes = Buffer.from('{"n":"€"}\n');
    const s = new LineSplitter(1024);
    const out: string[] = [];
    for (const byte of bytes) out.push(...s.push(Buffer.from([byte])));
    expect(out).toEqual(['{"n":"€"}']);
  });

  it('bounds a line instead of buffering forever', () => {
    const s = new LineSplitter(8);
    expect(() => s.push(Buffer.from('0123456789'))).toThrow(/exceeds 8 bytes/);
    expect(() => new LineSplitter(8).push(Buffer.from('01234\n0123456789\n'))).toThrow(/exceeds 8 bytes/);
  });
});

describe('parseWatchLine', () => {
  it('accepts the five event types and rejects anything else loudly', () => {
    expect(parseWatchLine('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"5"}}}', 'w').type).toBe('BOOKMARK');
    expect(() => parseWatchLine('{"type":"ADDED"', 'watching pods')).toThrow(/^watching pods: invalid JSON/);
    expect(() => parseWatchLine('{"type":"WEIRD","object":{}}', 'w')).toThrow(/unexpected watch event/);
    expect(() => parseWatchLine('[1,2]', 'w')).toThrow(/unexpected watch event/);
  });
});
