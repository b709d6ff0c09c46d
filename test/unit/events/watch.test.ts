import { afterEach, describe, expect, it } from 'vitest';
import { parseEventInput } from '../../../src/events/event-json.js';
import { flush, Namespace, signal, startWatch, take } from './helpers/harness.js';

let ns: Namespace;
afterEach(() => {
  ns.close();
});

const rec = (actor: string) => parseEventInput(JSON.stringify({ type: 't', actor }));

describe('watch', () => {
  it('replays stored events after afterSeq, then live ones', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    for (const a of ['a', 'b', 'c']) await store.record(rec(a), signal());
    const watch = startWatch(store, 1);
    expect((await watch.until(2)).map((e) => e.actor)).toEqual(['b', 'c']);
    await store.record(rec('d'), signal());
    expect((await watch.until(3)).map((e) => e.actor)).toEqual(['b', 'c', 'd']);
  });

  it('ends the iteration when the signal aborts, also while waiting', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    await store.record(rec('a'), signal());
    const controller = new AbortController();
    const iterator = store.watch(0, controller.signal)[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ seq: 1 });
    const pending = iterator.next();
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
  });

  it('does not duplicate or lose events across relists and redelivered objects', async () => {
    ns = new Namespace();
    const { store, cache } = ns.daemon();
    const watch = startWatch(store, 0);
    await store.record(rec('a'), signal());
    await flush(ns);
    ns.server.relist(cache);
    // a relist that drops an object we already delivered and brings it back
    cache.remove('gc-evt-0000000001');
    ns.server.relist(cache);
    await store.record(rec('b'), signal());
    await flush(ns);
    ns.server.relist(cache);
    await store.record(rec('c'), signal());
    expect((await watch.until(3)).map((e) => e.seq)).toEqual([1, 2, 3]);
    watch.stop();
    await watch.done;
    expect(watch.events.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('from before the oldest retained event after another process pruned: the retained ones at once, then live ones', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    for (const a of ['a', 'b', 'c', 'd', 'e']) await store.record(rec(a), signal());
    await flush(ns);
    // a pruner elsewhere (the retention CronJob) deletes the three oldest
    for (const seq of [1, 2, 3]) ns.server.remove(`gc-evt-${String(seq).padStart(10, '0')}`);
    await flush(ns);
    // no clock advance: nothing waits out the gap timeout for seqs 2 and 3
    const watch = startWatch(store, 1);
    expect((await watch.until(2)).map((e) => e.actor)).toEqual(['d', 'e']);
    await store.record(rec('f'), signal());
    expect((await watch.until(3)).map((e) => [e.seq, e.actor])).toEqual([
      [4, 'd'],
      [5, 'e'],
      [6, 'f'],
    ]);
    watch.stop();
    await watch.done;
    expect(watch.events.map((e) => e.seq)).toEqual([4, 5, 6]);
  });

  it('rejects a negative afterSeq', () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    expect(() => store.watch(-1, signal())).toThrow(/afterSeq/);
  });

  it('take() helper sees the same stream as list', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    for (const a of ['a', 'b']) await store.record(rec(a), signal());
    expect(await take(store.watch(0, signal()), 2)).toEqual(await store.list({}, signal()));
  });
});
