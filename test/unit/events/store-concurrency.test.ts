// Two daemons sharing one namespace: seqs stay gapless and unique under CAS contention, and
// watchers on both see every event once, in order, across a cache relist.

import { afterEach, describe, expect, it } from 'vitest';
import { GcK8sError } from '../../../src/errors.js';
import { parseEventInput } from '../../../src/events/event-json.js';
import { Namespace, signal, startWatch } from './helpers/harness.js';

let ns: Namespace;
afterEach(() => {
  ns.close();
});

const WRITERS = 8;
const PER_WRITER = 200;
const TOTAL = WRITERS * PER_WRITER;

describe('concurrent records', () => {
  it('8 writers x 200 records over two daemons: seqs exactly 1..1600, watchers see all in order', async () => {
    ns = new Namespace();
    const a = ns.daemon();
    const b = ns.daemon();
    await a.store.ensureRunning(signal());
    const watchA = startWatch(a.store, 0);
    const watchB = startWatch(b.store, 0);
    // Spurious transient failures on top of the natural CAS conflicts between the daemons.
    let calls = 0;
    ns.server.inject((call) =>
      call.op === 'replace' && ++calls % 7 === 0 ? new GcK8sError('K8S_UNAVAILABLE', 'injected: connection reset') : undefined,
    );

    const writer = async (w: number): Promise<number[]> => {
      const store = w % 2 === 0 ? a.store : b.store;
      const seqs: number[] = [];
      for (let i = 0; i < PER_WRITER; i++) {
        const event = await store.record(parseEventInput(JSON.stringify({ type: 'load', actor: `w${w}`, message: String(i) })), signal());
        seqs.push(event.seq);
        if (i === PER_WRITER / 2 && w === 0) ns.server.relist(b.cache); // a watch restart mid-run
      }
      return seqs;
    };
    const perWriter = await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));

    // Each writer's own records got increasing seqs; together exactly 1..TOTAL once each.
    for (const seqs of perWriter) expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    const all = perWriter.flat().sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));

    // The conflicts really happened, and block reservation kept CAS writes below one per record.
    expect(ns.server.errors.CONFLICT).toBeGreaterThan(0);
    expect(ns.server.errors.K8S_UNAVAILABLE).toBeGreaterThan(0);
    const casWrites = ns.server.replaces.get('gc-events-seq') ?? 0;
    expect(casWrites).toBeLessThan(TOTAL);

    for (const watch of [watchA, watchB]) {
      const seen = await watch.until(TOTAL);
      expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
      watch.stop();
      await watch.done;
      expect(watch.events).toHaveLength(TOTAL); // nothing duplicated after the relist
    }
    // Both daemons agree on the store.
    expect(await a.store.latestSeq(signal())).toBe(TOTAL);
    expect(await b.store.latestSeq(signal())).toBe(TOTAL);
    const listed = await b.store.list({ actor: 'w3' }, signal());
    expect(listed.map((e) => e.message)).toEqual(Array.from({ length: PER_WRITER }, (_, i) => String(i)));
    // No gap was ever waited out or skipped.
    expect([...a.records, ...b.records].filter((r) => r.msg.startsWith('watch:'))).toEqual([]);
  });

  it('reserves one block of seqs for everything queued (one CAS for N records)', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    await store.ensureRunning(signal());
    const before = ns.server.replaces.get('gc-events-seq') ?? 0;
    // The first record starts a batch on its own; the other 9 queue behind it and share one CAS.
    const events = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.record(parseEventInput(`{"type":"t","actor":"a","message":"${i}"}`), signal())),
    );
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(events.map((e) => e.message)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect((ns.server.replaces.get('gc-events-seq') ?? 0) - before).toBe(2);
    expect(ns.server.object('gc-events-seq')!.data.seq).toBe('10');
  });

  it('a caller that gives up while queued gets ABORTED and consumes no seq', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    await store.ensureRunning(signal());
    const first = store.record(parseEventInput('{"type":"t","actor":"a"}'), signal());
    const controller = new AbortController();
    const second = store.record(parseEventInput('{"type":"t","actor":"b"}'), controller.signal);
    controller.abort();
    await expect(second).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await first).seq).toBe(1);
    expect((await store.record(parseEventInput('{"type":"t","actor":"c"}'), signal())).seq).toBe(2);
    expect((await store.list({}, signal())).map((e) => e.actor)).toEqual(['a', 'c']);
  });
});
