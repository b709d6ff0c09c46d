// Retention: pruning deletes old events but latest-seq stays monotonic, the counter is never
// recreated below history, and watchers do not wait on pruned seqs.

import { afterEach, describe, expect, it } from 'vitest';
import { parseEventInput } from '../../../src/events/event-json.js';
import { buildEventConfigMap } from '../../../src/events/layout.js';
import { pruneEvents } from '../../../src/events/prune.js';
import { captureLogger, flush, Namespace, signal, startWatch } from './helpers/harness.js';

let ns: Namespace;
afterEach(() => {
  ns.close();
});

const rec = (i: number) => parseEventInput(JSON.stringify({ type: 't', actor: 'a', message: String(i) }));
const HOUR = 3_600_000;

describe('pruning', () => {
  it('keeps the newest maxCount events; latest-seq unchanged', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    for (let i = 1; i <= 10; i++) await store.record(rec(i), signal());
    const result = await store.prune({ maxCount: 3 }, signal());
    expect(result).toMatchObject({ deleted: 7, failed: 0, remaining: 3, latestSeq: 10 });
    expect((await store.list({}, signal())).map((e) => e.seq)).toEqual([8, 9, 10]);
    expect(await store.latestSeq(signal())).toBe(10);
    expect(ns.server.names().filter((n) => n.startsWith('gc-evt-'))).toEqual([
      'gc-evt-0000000008',
      'gc-evt-0000000009',
      'gc-evt-0000000010',
    ]);
  });

  it('prunes everything by age and latest-seq stays monotonic, also for a restarted daemon', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    for (let i = 1; i <= 5; i++) await store.record(rec(i), signal());
    ns.clock.advance(2 * HOUR);
    await store.prune({ maxAgeMs: HOUR }, signal());
    expect(await store.list({}, signal())).toEqual([]);
    expect(await store.latestSeq(signal())).toBe(5);
    await flush(ns);
    expect(await ns.daemon().store.latestSeq(signal())).toBe(5);
    expect((await store.record(rec(6), signal())).seq).toBe(6);
  });

  it('raises a missing counter to the highest stored seq before deleting anything', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    for (let i = 1; i <= 4; i++) await store.record(rec(i), signal());
    ns.server.remove('gc-events-seq');
    await flush(ns);
    ns.clock.advance(2 * HOUR);
    await store.prune({ maxAgeMs: HOUR }, signal());
    expect(ns.server.object('gc-events-seq')!.data.seq).toBe('4');
    expect(await ns.daemon().store.latestSeq(signal())).toBe(4);
  });

  it('a watcher behind a prune moves on without waiting', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    for (let i = 1; i <= 6; i++) await store.record(rec(i), signal());
    await store.prune({ maxCount: 2 }, signal());
    const watch = startWatch(store, 0);
    expect((await watch.until(2)).map((e) => e.seq)).toEqual([5, 6]);
    expect(ns.clock.longSleepers).toBe(0);
  });

  it('pruneEvents (CronJob) pages through the API and prunes with the same policy', async () => {
    ns = new Namespace();
    for (let seq = 1; seq <= 1100; seq++) ns.server.put(buildEventConfigMap({ seq, type: 't', ts: '2025-06-15T12:00:00Z', actor: 'a' }));
    const { log, records } = captureLogger();
    const result = await pruneEvents({ configMaps: ns.server.api(), clock: ns.clock, log }, { maxCount: 100 }, signal());
    expect(result).toMatchObject({ deleted: 1000, failed: 0, remaining: 100, latestSeq: 1100 });
    expect(ns.server.calls.list).toBe(3); // 500 + 500 + 100
    const left = ns.server.names().filter((n) => n.startsWith('gc-evt-'));
    expect(left[0]).toBe('gc-evt-0000001001');
    expect(left).toHaveLength(100);
    expect(ns.server.object('gc-events-seq')!.data.seq).toBe('1100'); // no counter before: created at the highest seq
    expect(records.some((r) => r.msg === 'event counter missing: recreating it from the highest known seq')).toBe(true);
    expect(records.some((r) => r.msg === 'events pruned')).toBe(true);
  });

  it('pruneEvents with no policy only checks the counter', async () => {
    ns = new Namespace();
    ns.server.put(buildEventConfigMap({ seq: 1, type: 't', ts: '2025-06-15T12:00:00Z', actor: 'a' }));
    const { log } = captureLogger();
    const result = await pruneEvents({ configMaps: ns.server.api(), clock: ns.clock, log }, {}, signal());
    expect(result).toMatchObject({ deleted: 0, remaining: 1, latestSeq: 1 });
    expect(ns.server.calls.delete).toBe(0);
  });
});
