// The eventstest conformance cases (§8.2), against the store on a fake namespace.

import { afterEach, describe, expect, it } from 'vitest';
import { parseEventInput } from '../../../src/events/event-json.js';
import { parseFilterJson } from '../../../src/events/filter.js';
import { isGcK8sError } from '../../../src/errors.js';
import { flush, Namespace, signal, startWatch } from './helpers/harness.js';

let ns: Namespace;
afterEach(() => {
  ns.close();
});

const rec = (type: string, actor: string, extra: Record<string, unknown> = {}) =>
  parseEventInput(JSON.stringify({ seq: 0, type, ts: '0001-01-01T00:00:00Z', actor, ...extra }));

describe('event store basics', () => {
  it('records and lists round-trip with seqs 1.. ascending', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    await store.ensureRunning(signal());
    expect(await store.list({}, signal())).toEqual([]);
    expect(await store.latestSeq(signal())).toBe(0);
    const a = await store.record(rec('session.woke', 'mayor', { subject: 's1', message: 'hello', payload: { k: [1, 2] } }), signal());
    const b = await store.record(rec('bead.created', 'human'), signal());
    const c = await store.record(rec('session.woke', 'deacon'), signal());
    expect([a.seq, b.seq, c.seq]).toEqual([1, 2, 3]);
    const all = await store.list({}, signal());
    expect(all).toEqual([a, b, c]);
    expect(all[0]).toMatchObject({ type: 'session.woke', actor: 'mayor', subject: 's1', message: 'hello', payload: '{"k":[1,2]}' });
    expect(await store.latestSeq(signal())).toBe(3);
    expect(await store.list(parseFilterJson('{"Type":"session.woke","AfterSeq":1}'), signal())).toEqual([c]);
    expect(await store.list({ actor: 'human' }, signal())).toEqual([b]);
    expect(await store.list({ type: 'nope' }, signal())).toEqual([]);
  });

  it('reports what it wrote, its open watches and how far behind the slowest one is (the daemon metrics)', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    const other = ns.daemon().store;
    await store.ensureRunning(signal());
    expect(store.stats()).toEqual({ written: 0, watchers: 0, latestSeq: 0, watchLagSeqs: 0 });
    await store.record(rec('a', 'x'), signal());
    await store.record(rec('b', 'x'), signal(), { recordId: 'r1' });
    await store.record(rec('b', 'x'), signal(), { recordId: 'r1' }); // a retry: the same event, not a new one
    await other.record(rec('c', 'y'), signal()); // another daemon's write
    await flush(ns);
    const behind = startWatch(store, 0);
    await behind.until(3);
    expect(store.stats()).toMatchObject({ written: 2, watchers: 1, latestSeq: 3 });
    behind.stop();
    await behind.done;
    expect(store.stats().watchers).toBe(0);
    // a watch that is waiting for its consumer lags behind what is stored
    const iterator = store.watch(0, signal())[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ seq: 1 });
    expect(store.stats()).toMatchObject({ watchers: 1, watchLagSeqs: 3 });
    await iterator.return?.();
    expect(store.stats()).toMatchObject({ watchers: 0, watchLagSeqs: 0 });
  });

  it('preserves an explicit ts exactly and fills a missing one with nanosecond UTC now', async () => {
    ns = new Namespace();
    const { store } = ns.daemon({ nowNanos: () => 1749988800_123456789n });
    const explicit = await store.record(parseEventInput('{"type":"t","actor":"a","ts":"2025-06-15T12:00:00Z"}'), signal());
    const offset = await store.record(parseEventInput('{"type":"t","actor":"a","ts":"2025-06-15T14:00:00.5+02:00"}'), signal());
    const auto = await store.record(rec('t', 'a'), signal());
    expect(explicit.ts).toBe('2025-06-15T12:00:00Z');
    expect(offset.ts).toBe('2025-06-15T14:00:00.5+02:00');
    expect(auto.ts).toBe('2025-06-15T12:00:00.123456789Z');
    // and what is stored is what list returns
    expect((await store.list({}, signal())).map((e) => e.ts)).toEqual([explicit.ts, offset.ts, auto.ts]);
  });

  it('auto ts by default follows the injected clock', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    const e = await store.record(rec('t', 'a'), signal());
    const ms = Date.parse(e.ts);
    expect(Math.abs(ms - ns.clock.now())).toBeLessThanOrEqual(3);
    expect(e.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
  });

  it('filters Since by time, not by string', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    await store.record(parseEventInput('{"type":"old","actor":"a","ts":"2025-06-15T10:00:00Z"}'), signal());
    await store.record(parseEventInput('{"type":"frac","actor":"a","ts":"2025-06-15T11:00:00.5Z"}'), signal());
    await store.record(parseEventInput('{"type":"zone","actor":"a","ts":"2025-06-15T12:30:00+02:00"}'), signal()); // 10:30Z
    const since = parseFilterJson('{"Since":"2025-06-15T11:00:00Z"}');
    expect((await store.list(since, signal())).map((e) => e.type)).toEqual(['frac']);
  });

  it('filters type and actor exactly even when their labels collide upstream-style', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    const long = 'x'.repeat(63);
    await store.record(rec('a/b', long + '1'), signal());
    await store.record(rec('a_b', long + '2'), signal());
    await store.record(rec('a:b', 'human:'), signal());
    expect((await store.list({ type: 'a/b' }, signal())).map((e) => e.seq)).toEqual([1]);
    expect((await store.list({ type: 'a_b' }, signal())).map((e) => e.seq)).toEqual([2]);
    expect((await store.list({ actor: long + '2' }, signal())).map((e) => e.seq)).toEqual([2]);
    expect((await store.list({ actor: 'human:' }, signal())).map((e) => e.seq)).toEqual([3]);
    // every label the fake API server accepted is valid, and the three types got three labels
    const labels = ns.server
      .names()
      .filter((n) => n.startsWith('gc-evt-'))
      .map((n) => ns.server.object(n)!.labels['gc/type']);
    expect(new Set(labels).size).toBe(3);
  });

  it('rejects a too-large event before anything is written', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    await store.ensureRunning(signal());
    const before = { ...ns.server.calls };
    const err = await store.record(rec('t', 'a', { message: 'x'.repeat(70_000) }), signal()).catch((e: unknown) => e);
    expect(isGcK8sError(err) && err.code).toBe('TOO_LARGE');
    expect(ns.server.calls).toEqual(before);
    expect(ns.server.object('gc-events-seq')!.data.seq).toBe('0');
    expect(await store.latestSeq(signal())).toBe(0);
  });

  it('serves list and latest-seq from the cache, not by listing ConfigMaps', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    for (let i = 0; i < 5; i++) await store.record(rec('t', 'a'), signal());
    const before = { ...ns.server.calls };
    for (let i = 0; i < 10; i++) {
      await store.list({}, signal());
      await store.latestSeq(signal());
    }
    expect(ns.server.calls).toEqual(before);
  });

  it('sees events recorded by another daemon through its cache', async () => {
    ns = new Namespace();
    const a = ns.daemon();
    const b = ns.daemon();
    const e = await a.store.record(rec('t', 'a'), signal());
    await flush(ns);
    expect(await b.store.list({}, signal())).toEqual([e]);
    expect(await b.store.latestSeq(signal())).toBe(1);
  });

  it('ensureRunning creates the counter once, tolerating a concurrent creator', async () => {
    ns = new Namespace();
    const a = ns.daemon();
    const b = ns.daemon();
    await Promise.all([a.store.ensureRunning(signal()), b.store.ensureRunning(signal()), a.store.ensureRunning(signal())]);
    expect(ns.server.object('gc-events-seq')).toMatchObject({
      data: { seq: '0' },
      labels: { 'app.kubernetes.io/managed-by': 'gascity', 'gc/component': 'event-seq' },
    });
  });

  it('fails record after close and ends watches', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    const iterator = store.watch(0, signal())[Symbol.asyncIterator]();
    const next = iterator.next();
    store.close();
    expect(await next).toEqual({ done: true, value: undefined });
    await expect(store.record(rec('t', 'a'), signal())).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
