// A record retried with the same request id (a client whose daemon died mid-call) is stored once,
// whether the retry reaches the same daemon or a new one that only knows the cluster.
import { afterEach, describe, expect, it } from 'vitest';
import { parseEventInput } from '../../../src/events/event-json.js';
import { flush, Namespace, signal } from './helpers/harness.js';

let ns: Namespace;
afterEach(() => {
  ns.close();
});

const rec = (message: string) => parseEventInput(JSON.stringify({ type: 't', actor: 'a', message }));

describe('record ids', () => {
  it('a retry on the same daemon, concurrent or later, returns the first event', async () => {
    ns = new Namespace();
    const { store } = ns.daemon();
    await store.ensureRunning(signal());
    const [a, b] = await Promise.all([
      store.record(rec('x'), signal(), { recordId: 'r1' }),
      store.record(rec('x'), signal(), { recordId: 'r1' }),
    ]);
    expect(b).toEqual(a);
    await flush(ns);
    expect(await store.record(rec('x'), signal(), { recordId: 'r1' })).toEqual(a);
    const other = await store.record(rec('x'), signal(), { recordId: 'r2' });
    expect(other.seq).toBe(a.seq + 1);
    await flush(ns);
    expect((await store.list({}, signal())).map((e) => e.seq)).toEqual([a.seq, other.seq]);
  });

  it('a retry on a new daemon finds the stored event through the cluster', async () => {
    ns = new Namespace();
    const first = ns.daemon().store;
    await first.ensureRunning(signal());
    const a = await first.record(rec('y'), signal(), { recordId: 'crash-1' });
    first.close();
    await flush(ns);
    const second = ns.daemon().store;
    await second.ensureRunning(signal());
    expect(await second.record(rec('y'), signal(), { recordId: 'crash-1' })).toEqual(a);
    expect(await second.list({}, signal())).toHaveLength(1);
  });
});
