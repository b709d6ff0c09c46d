// Writes that fail after the counter was bumped never leave a seq that watchers wait on forever;
// a counter deleted, corrupted or set back by hand is repaired from the stored events.

import { afterEach, describe, expect, it } from 'vitest';
import { GcK8sError } from '../../../src/errors.js';
import { parseEventInput } from '../../../src/events/event-json.js';
import { buildEventConfigMap } from '../../../src/events/layout.js';
import { flush, Namespace, signal, startWatch } from './helpers/harness.js';

let ns: Namespace;
afterEach(() => {
  ns.close();
});

const rec = (actor: string) => parseEventInput(JSON.stringify({ type: 't', actor }));
const failCreateOf = (name: string, code: 'INVALID' | 'FORBIDDEN' | 'K8S_UNAVAILABLE', labelComponent?: string) =>
  ns.server.inject((call) =>
    call.op === 'create' &&
    call.name === name &&
    (labelComponent === undefined || call.manifest?.metadata.labels?.['gc/component'] === labelComponent)
      ? new GcK8sError(code, `injected ${code} for ${name}`)
      : undefined,
  );

describe('failed writes after the counter bump', () => {
  it('retries transient create failures until the event is written', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    let failures = 3;
    ns.server.inject((call) =>
      call.op === 'create' && call.name === 'gc-evt-0000000001' && failures-- > 0 ? new GcK8sError('THROTTLED', 'injected 429') : undefined,
    );
    const e = await store.record(rec('a'), signal());
    expect(e.seq).toBe(1);
    expect(failures).toBe(-1);
    expect(ns.server.object('gc-evt-0000000001')?.labels['gc/component']).toBe('event');
  });

  it('treats a lost create response as success when the stored event is ours', async () => {
    ns = new Namespace();
    const { store, records } = ns.daemon();
    let once = true;
    ns.server.inject(
      (call) =>
        call.op === 'create' && call.name === 'gc-evt-0000000001' && once
          ? ((once = false), new GcK8sError('K8S_UNAVAILABLE', 'injected: reset after write'))
          : undefined,
      'after',
    );
    const e = await store.record(rec('a'), signal());
    expect(e.seq).toBe(1);
    expect((await store.record(rec('b'), signal())).seq).toBe(2);
    expect(records.some((r) => r.msg.includes('already taken'))).toBe(false);
  });

  it('writes a tombstone when the event cannot be written; every watcher skips it at once', async () => {
    ns = new Namespace();
    const a = ns.daemon();
    const b = ns.daemon();
    const watchA = startWatch(a.store, 0);
    const watchB = startWatch(b.store, 0);
    failCreateOf('gc-evt-0000000002', 'INVALID', 'event');
    await a.store.record(rec('one'), signal());
    await expect(a.store.record(rec('two'), signal())).rejects.toThrow(
      /writing gc-evt-0000000002 failed \(seq tombstoned\): injected INVALID/,
    );
    await a.store.record(rec('three'), signal());
    expect(ns.server.object('gc-evt-0000000002')?.labels['gc/component']).toBe('event-tombstone');
    // No clock advance needed: the tombstone tells both daemons' watchers to move on.
    expect((await watchA.until(2)).map((e) => e.actor)).toEqual(['one', 'three']);
    expect((await watchB.until(2)).map((e) => e.actor)).toEqual(['one', 'three']);
    expect(ns.clock.longSleepers).toBe(0);
    // Upstream's selector (gc/component=event) never sees the tombstone; list neither.
    expect((await b.store.list({}, signal())).map((e) => e.seq)).toEqual([1, 3]);
    expect(a.records.some((r) => r.msg === 'events: could not write an event after reserving its seq' && r.tombstone === true)).toBe(true);
  });

  it('with neither event nor tombstone written, watchers skip the gap: at once here, after the gap timeout elsewhere', async () => {
    ns = new Namespace();
    const a = ns.daemon();
    const b = ns.daemon({ gapTimeoutMs: 30_000 });
    const watchA = startWatch(a.store, 0);
    const watchB = startWatch(b.store, 0);
    failCreateOf('gc-evt-0000000002', 'FORBIDDEN');
    await a.store.record(rec('one'), signal());
    await expect(a.store.record(rec('two'), signal())).rejects.toThrow(/seq left as a gap/);
    await a.store.record(rec('three'), signal());
    expect(ns.server.object('gc-evt-0000000002')).toBeUndefined();

    expect((await watchA.until(2)).map((e) => e.seq)).toEqual([1, 3]); // A knows it abandoned seq 2
    // B only sees 1 and 3 and waits, bounded, for 2.
    await flush(ns);
    await ns.clock.waitForLongSleeper();
    expect(watchB.events.map((e) => e.seq)).toEqual([1]);
    ns.clock.advance(30_000);
    expect((await watchB.until(2)).map((e) => e.seq)).toEqual([1, 3]);
    expect(b.records.find((r) => r.msg === 'watch: seqs still missing after the gap timeout: skipping')).toMatchObject({ from: 2, to: 2 });
    // A late arrival of seq 2 is not delivered out of order.
    ns.server.put(buildEventConfigMap({ seq: 2, type: 't', ts: '2025-06-15T12:00:00Z', actor: 'late' }));
    await a.store.record(rec('four'), signal());
    expect((await watchB.until(3)).map((e) => e.seq)).toEqual([1, 3, 4]);
  });

  it('a watcher waits for a lower seq that arrives after a higher one, and delivers in order', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    const watch = startWatch(store, 0);
    ns.server.put(buildEventConfigMap({ seq: 2, type: 't', ts: '2025-06-15T12:00:00Z', actor: 'second' }));
    await flush(ns);
    await ns.clock.waitForLongSleeper();
    expect(watch.events).toEqual([]);
    ns.server.put(buildEventConfigMap({ seq: 1, type: 't', ts: '2025-06-15T12:00:00Z', actor: 'first' }));
    expect((await watch.until(2)).map((e) => e.actor)).toEqual(['first', 'second']);
  });

  it('a new daemon skips at once the gaps between entries created longer than gap_timeout before it loaded', async () => {
    ns = new Namespace();
    for (const seq of [1, 3]) ns.server.put(buildEventConfigMap({ seq, type: 't', ts: '2025-06-15T12:00:00Z', actor: String(seq) }));
    ns.clock.advance(31_000);
    const { store, records } = ns.daemon({ gapTimeoutMs: 30_000 });
    const watch = startWatch(store, 0);
    expect((await watch.until(2)).map((e) => e.seq)).toEqual([1, 3]);
    expect(ns.clock.longSleepers).toBe(0);
    expect(records.find((r) => r.msg === 'watch: seqs missing from the store (pruned or never written): skipping')).toMatchObject({
      from: 2,
      to: 2,
      waitedMs: 0,
    });
  });

  it('a new daemon waits for a gap below an entry created moments before it loaded (a write still in flight) and delivers it in order', async () => {
    ns = new Namespace();
    // seq 2 was reserved by a writer (here: a daemon killed after sending its create) whose
    // create lands only after the new daemon listed; seq 3 landed before
    for (const seq of [1, 3]) ns.server.put(buildEventConfigMap({ seq, type: 't', ts: '2025-06-15T12:00:00Z', actor: String(seq) }));
    ns.clock.advance(1_000);
    const { store, records } = ns.daemon({ gapTimeoutMs: 30_000 });
    const watch = startWatch(store, 0);
    await flush(ns);
    await ns.clock.waitForLongSleeper();
    expect(watch.events.map((e) => e.seq)).toEqual([1]);
    ns.server.put(buildEventConfigMap({ seq: 2, type: 't', ts: '2025-06-15T12:00:00Z', actor: 'late' }));
    expect((await watch.until(3)).map((e) => e.actor)).toEqual(['1', 'late', '3']);
    expect(records.some((r) => r.msg.includes('skipping'))).toBe(false);
  });

  it('a gap below such an entry that never lands is skipped gap_timeout after the entry was created', async () => {
    ns = new Namespace();
    for (const seq of [1, 3]) ns.server.put(buildEventConfigMap({ seq, type: 't', ts: '2025-06-15T12:00:00Z', actor: String(seq) }));
    ns.clock.advance(10_000);
    const { store, records } = ns.daemon({ gapTimeoutMs: 30_000 });
    const watch = startWatch(store, 0);
    await flush(ns);
    await ns.clock.waitForLongSleeper();
    expect(watch.events.map((e) => e.seq)).toEqual([1]);
    ns.clock.advance(20_000); // 30 s after seq 3 was created, 20 s after this watch came to the gap
    expect((await watch.until(2)).map((e) => e.seq)).toEqual([1, 3]);
    expect(records.find((r) => r.msg === 'watch: seqs still missing after the gap timeout: skipping')).toMatchObject({
      from: 2,
      to: 2,
      waitedMs: 20_000,
    });
  });

  it("latest-seq waits for this daemon's own in-flight record so a watch from it misses nothing", async () => {
    ns = new Namespace();
    const { store } = ns.daemon({ writeRetry: { attempts: 1000, initialMs: 1, maxMs: 1 } });
    await store.ensureRunning(signal());
    let down = true;
    ns.server.inject((call) => (call.op === 'create' && down ? new GcK8sError('K8S_UNAVAILABLE', 'injected outage') : undefined));
    const recording = store.record(rec('a'), signal());
    while ((ns.server.errors.K8S_UNAVAILABLE ?? 0) < 2) await new Promise((r) => setImmediate(r));
    expect(ns.server.object('gc-events-seq')!.data.seq).toBe('1'); // seq 1 reserved, not written
    let latest: number | undefined;
    const latestPromise = store.latestSeq(signal()).then((v) => (latest = v));
    await flush(ns);
    expect(latest).toBeUndefined();
    down = false;
    await latestPromise;
    expect(latest).toBe(1);
    expect((await recording).seq).toBe(1);
  });
});

describe('counter repair', () => {
  const seed = async (): Promise<ReturnType<Namespace['daemon']>> => {
    ns = new Namespace();
    const d = ns.daemon();
    for (const actor of ['a', 'b', 'c']) await d.store.record(rec(actor), signal());
    await flush(ns);
    return d;
  };

  it('recreates a deleted counter from the highest stored seq on the next record', async () => {
    const { store, records } = await seed();
    ns.server.remove('gc-events-seq');
    await flush(ns);
    expect(await store.latestSeq(signal())).toBe(3); // still monotonic while it is gone
    expect((await store.record(rec('d'), signal())).seq).toBe(4);
    expect(ns.server.object('gc-events-seq')!.data.seq).toBe('4');
    expect(records.find((r) => r.msg === 'event counter missing: recreating it from the highest known seq')).toMatchObject({
      repairedTo: 3,
    });
  });

  it('a restarted daemon falls back to the highest stored seq and repairs in ensureRunning', async () => {
    await seed();
    ns.server.remove('gc-events-seq');
    const fresh = ns.daemon();
    expect(await fresh.store.latestSeq(signal())).toBe(3);
    await fresh.store.ensureRunning(signal());
    expect(ns.server.object('gc-events-seq')!.data.seq).toBe('3');
    expect(fresh.records.some((r) => r.msg === 'event counter missing: recreating it from the highest known seq')).toBe(true);
  });

  it('repairs a corrupted counter in ensureRunning', async () => {
    await seed();
    ns.server.put({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'gc-events-seq', labels: { 'gc/component': 'event-seq' } },
      data: { seq: 'banana' },
    });
    const fresh = ns.daemon();
    await fresh.store.ensureRunning(signal());
    expect(ns.server.object('gc-events-seq')!.data.seq).toBe('3');
    expect(fresh.records.find((r) => r.msg === 'event counter corrupted: repairing it from the highest known seq')).toMatchObject({
      seq: 'banana',
      repairedTo: 3,
    });
    expect((await fresh.store.record(rec('d'), signal())).seq).toBe(4);
  });

  it('moves a counter set back by hand past the stored events instead of colliding', async () => {
    await seed();
    ns.server.put({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'gc-events-seq', labels: { 'gc/component': 'event-seq' } },
      data: { seq: '1' },
    });
    const fresh = ns.daemon();
    expect((await fresh.store.record(rec('d'), signal())).seq).toBe(4);
    expect(fresh.records.find((r) => r.msg === 'event counter behind the stored events: repairing it')).toMatchObject({
      counter: 1,
      repairedTo: 3,
    });
  });

  it('takes a new seq when its seq turns out to be taken by an event it had not seen yet', async () => {
    const { store, records } = await seed();
    // Someone wrote seq 4 without bumping the counter; our cache has not delivered it yet.
    ns.server.put(buildEventConfigMap({ seq: 4, type: 'rogue', ts: '2025-06-15T12:00:00Z', actor: 'x' }));
    const e = await store.record(rec('d'), signal());
    expect(e.seq).toBe(5);
    expect(records.some((r) => r.msg.includes('seq already taken'))).toBe(true);
    expect((await store.list({}, signal())).map((x) => x.seq)).toEqual([1, 2, 3, 4, 5]);
  });
});
