import { describe, expect, it } from 'vitest';
import type { ConfigMap } from '../../../src/kube/types.js';
import { encodeEventJson, eventFromInput } from '../../../src/events/event-json.js';
import {
  buildCounterConfigMap,
  buildEventConfigMap,
  decodeCounter,
  decodeEventConfigMap,
  eventConfigMapName,
  seqFromName,
} from '../../../src/events/layout.js';
import { checkEventSize } from '../../../src/events/limits.js';
import { parseSelector } from '../../fakes/fake-configmaps.js';

const cm = (name: string, data: Record<string, string>, labels: Record<string, string> = {}): ConfigMap => ({
  name,
  namespace: 'gc',
  uid: 'u',
  resourceVersion: '1',
  labels,
  annotations: {},
  creationTimestamp: '2025-06-15T12:00:00Z',
  data,
});

describe('ConfigMap layout', () => {
  it('names events like upstream (gc-evt-%010d)', () => {
    expect(eventConfigMapName(42)).toBe('gc-evt-0000000042');
    expect(seqFromName('gc-evt-0000000042')).toBe(42);
    expect(seqFromName('gc-evt-12345678901')).toBe(12345678901);
    expect(seqFromName('gc-events-seq')).toBeUndefined();
    expect(seqFromName('gc-evt-0000000000')).toBeUndefined();
  });

  it('builds the event ConfigMap with upstream labels and compact JSON', () => {
    const event = eventFromInput({ type: 'session.woke', actor: 'rig/mayor' }, 42, '2025-06-15T12:00:00Z');
    const manifest = buildEventConfigMap(event);
    expect(manifest.metadata.name).toBe('gc-evt-0000000042');
    expect(manifest.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'gascity',
      'gc/component': 'event',
      'gc/type': 'session.woke',
    });
    expect(manifest.metadata.labels?.['gc/actor']).toMatch(/^rig_mayor-[0-9a-f]{10}$/);
    expect(JSON.parse(manifest.data.event!)).toEqual({ seq: 42, type: 'session.woke', ts: '2025-06-15T12:00:00Z', actor: 'rig/mayor' });
  });

  it('decodes an event ConfigMap written by the upstream script', () => {
    const upstream = cm(
      'gc-evt-0000000007',
      { event: '{"seq":7,"type":"a/b","ts":"2025-06-15T12:00:00Z","actor":"human:","subject":"gc-1"}' },
      {
        'app.kubernetes.io/managed-by': 'gascity',
        'gc/component': 'event',
        'gc/type': 'a_b',
        'gc/actor': 'human_',
      },
    );
    expect(decodeEventConfigMap(upstream)).toEqual({
      kind: 'event',
      seq: 7,
      event: { seq: 7, type: 'a/b', ts: '2025-06-15T12:00:00Z', actor: 'human:', subject: 'gc-1' },
    });
    expect(decodeEventConfigMap(cm('gc-evt-0000000008', { event: 'not json' }))).toMatchObject({ kind: 'skip', seq: 8 });
    expect(decodeEventConfigMap(cm('gc-events-seq', { seq: '3' }))).toBeUndefined();
  });

  it('reads and repairs the counter, keeping foreign keys', () => {
    expect(decodeCounter(cm('gc-events-seq', { seq: '0' }))).toBe(0); // kubectl create --from-literal=seq=0
    expect(decodeCounter(cm('gc-events-seq', { seq: '17' }))).toBe(17);
    expect(decodeCounter(cm('gc-events-seq', { seq: 'abc' }))).toBeUndefined();
    expect(decodeCounter(cm('gc-events-seq', {}))).toBeUndefined();
    const replaced = buildCounterConfigMap(20, cm('gc-events-seq', { seq: '17', other: 'x' }));
    expect(replaced.data).toEqual({ seq: '20', other: 'x' });
    expect(replaced.metadata.resourceVersion).toBe('1');
    expect(replaced.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'gascity', 'gc/component': 'event-seq' });
  });

  it('selects events, tombstones and the counter with one set-based selector', async () => {
    const { EVENT_CACHE_SELECTOR } = await import('../../../src/events/layout.js');
    const matches = parseSelector(EVENT_CACHE_SELECTOR);
    expect(['event', 'event-seq', 'event-tombstone'].every((c) => matches({ 'gc/component': c }))).toBe(true);
    expect(matches({ 'gc/component': 'bead' })).toBe(false);
  });
});

describe('size limits', () => {
  it('rejects events whose watch line would reach 64 KiB, at the exact byte', () => {
    const ts = '2025-06-15T12:00:00Z';
    const check = (message: string) => () => {
      checkEventSize({ type: 't', actor: 'a', message }, ts);
    };
    // bytes of the line besides the message, with the longest possible seq, plus the newline
    const overhead =
      encodeEventJson(eventFromInput({ type: 't', actor: 'a', message: '' }, Number.MAX_SAFE_INTEGER, ts)).length +
      ',"message":""'.length +
      1;
    expect(check('x'.repeat(65_535 - overhead))).not.toThrow();
    expect(check('x'.repeat(65_536 - overhead))).toThrow(/below 65536 bytes/);
    // multi-byte characters count in bytes
    expect(check('€'.repeat(22_000))).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
  });
});
