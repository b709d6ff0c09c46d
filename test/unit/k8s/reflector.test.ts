import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/kube/types.js';
import type { CacheEvent } from '../../../src/kube/ports.js';
import { toPod } from '../../../src/k8s/convert.js';
import { resolveConnection } from '../../../src/k8s/kube-config.js';
import { Reflector, type ReflectorTimings } from '../../../src/k8s/reflector.js';
import { RestClient } from '../../../src/k8s/rest.js';
import { Transport } from '../../../src/k8s/transport.js';
import { MockApiServer } from '../../helpers/mock-apiserver.js';
import { deadline, eventually, pod, silent, tempDir } from './harness.js';

interface Setup {
  server: MockApiServer;
  cache: Reflector<Pod>;
  events: string[];
  clock: { now: number };
  close(): Promise<void>;
}

let current: Setup | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function setup(timings: ReflectorTimings = {}, seed: string[] = ['a', 'b']): Promise<Setup> {
  const server = await MockApiServer.start({ tls: false });
  for (const name of seed) server.put('pods', 'gc', pod(name));
  server.put('pods', 'gc', pod('not-an-agent', { app: 'other' }));
  const connection = await resolveConnection({ kubeconfigPaths: [server.writeKubeconfig(tempDir())] }, deadline().signal);
  const transport = new Transport(connection);
  const clock = { now: 1_000 };
  const cache = new Reflector<Pod>({
    rest: new RestClient(transport),
    namespace: 'gc',
    resource: 'pods',
    labelSelector: 'app=gc-agent',
    convert: toPod,
    log: silent,
    backoffInitialMs: 2,
    backoffMaxMs: 10,
    now: () => clock.now,
    ...timings,
  });
  const events: string[] = [];
  cache.subscribe((e: CacheEvent<Pod>) => events.push(`${e.type} ${e.object.name}`));
  current = {
    server,
    cache,
    events,
    clock,
    close: async () => {
      cache.close();
      await transport.close();
      await server.close();
    },
  };
  return current;
}

const watchRequests = (s: MockApiServer) => s.requests.filter((r) => r.query.get('watch') === 'true');
const listRequests = (s: MockApiServer) =>
  s.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/pods') && r.query.get('watch') === null);

describe('Reflector', () => {
  it('lists with pagination, then watches from the list resourceVersion with bookmarks and a jittered timeout', async () => {
    const { server, cache, events } = await setup({ pageSize: 2 }, ['a', 'b', 'c', 'd', 'e']);
    await cache.synced(deadline());
    expect(
      cache
        .list()
        .map((p) => p.name)
        .sort(),
    ).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(events).toEqual(['ADDED a', 'ADDED b', 'ADDED c', 'ADDED d', 'ADDED e']);
    expect(listRequests(server).map((r) => r.query.get('continue'))).toEqual([null, '2', '4']);
    expect(listRequests(server).every((r) => r.query.get('limit') === '2' && r.query.get('labelSelector') === 'app=gc-agent')).toBe(true);
    await eventually(() => server.activeWatches === 1, 'the watch');
    const watch = watchRequests(server)[0]!;
    expect(watch.query.get('resourceVersion')).toBe(String(server.rv));
    expect(watch.query.get('allowWatchBookmarks')).toBe('true');
    const timeout = Number(watch.query.get('timeoutSeconds'));
    expect(timeout).toBeGreaterThanOrEqual(240);
    expect(timeout).toBeLessThanOrEqual(300);
    expect(cache.status()).toMatchObject({ synced: true, lastSyncAt: 1_000, restarts: 0 });
  });

  it('applies watch events in order and serves get/list/waitFor from memory', async () => {
    const { server, cache, events } = await setup();
    await cache.synced(deadline());
    await eventually(() => server.activeWatches === 1, 'the watch');
    const running = cache.waitFor('c', (p) => p?.phase === 'Running', deadline());
    server.put('pods', 'gc', pod('c'));
    server.put('pods', 'gc', pod('c', { app: 'gc-agent' }, { status: { phase: 'Running' } }));
    server.remove('pods', 'gc', 'a');
    server.put('pods', 'gc', pod('ignored', { app: 'other' }));
    expect((await running)?.phase).toBe('Running');
    await eventually(() => events.length === 5, 'events');
    expect(events).toEqual(['ADDED a', 'ADDED b', 'ADDED c', 'MODIFIED c', 'DELETED a']);
    expect(cache.get('a')).toBeUndefined();
    expect(
      cache
        .list()
        .map((p) => p.name)
        .sort(),
    ).toEqual(['b', 'c']);
    // waitFor for absence resolves at once when it already holds
    expect(await cache.waitFor('a', (p) => p === undefined, deadline())).toBeUndefined();
    const requestsBefore = server.requests.length;
    for (let i = 0; i < 100; i++) cache.get('c');
    expect(server.requests.length).toBe(requestsBefore); // reads are free
  });

  it('bookmarks refresh lastEventAt without changing the contents', async () => {
    const { server, cache, events, clock } = await setup();
    await cache.synced(deadline());
    await eventually(() => server.activeWatches === 1, 'the watch');
    expect(cache.status().lastEventAt).toBeUndefined();
    clock.now = 5_000;
    server.bookmark();
    await eventually(() => cache.status().lastEventAt === 5_000, 'the bookmark');
    expect(events).toEqual(['ADDED a', 'ADDED b']);
    // the next watch resumes from the bookmark's resourceVersion
    server.put('pods', 'gc', pod('x', { app: 'other' })); // moves rv, invisible to the selector
    server.bookmark();
    const rv = String(server.rv);
    server.endWatches();
    await eventually(() => watchRequests(server).length === 2, 're-watch');
    expect(watchRequests(server)[1]!.query.get('resourceVersion')).toBe(rv);
    expect(cache.status().restarts).toBe(0); // a clean server-side end is not a failure
  });

  it('relists on a 410 ERROR event and reconciles with synthetic events', async () => {
    const { server, cache, events } = await setup();
    await cache.synced(deadline());
    await eventually(() => server.activeWatches === 1, 'the watch');
    // Changes the watch never reports (as if the events fell out of the server's window):
    server.removeSilently('pods', 'gc', 'b');
    server.putSilently('pods', 'gc', pod('a', { app: 'gc-agent' }, { status: { phase: 'Running' } }));
    server.putSilently('pods', 'gc', pod('c'));
    server.sendWatchError(410, 'Expired', 'too old resource version: 1 (200)');
    await eventually(() => events.length === 5, 'reconciliation');
    expect(events.slice(2)).toEqual(['DELETED b', 'MODIFIED a', 'ADDED c']);
    expect(cache.get('a')?.phase).toBe('Running');
    expect(listRequests(server)).toHaveLength(2);
    expect(cache.status()).toMatchObject({ synced: true, restarts: 1 });
    expect(cache.status().lastFailure).toMatch(/too old resource version/);
    expect(cache.status().lastError).toBeUndefined(); // the relist ended the outage
  });

  it('relists when the resourceVersion is already compacted at watch start', async () => {
    const { server, cache, events } = await setup();
    await cache.synced(deadline());
    await eventually(() => server.activeWatches === 1, 'the watch');
    server.putSilently('pods', 'gc', pod('late'));
    server.compactedRv = server.rv + 1;
    server.dropWatches();
    await eventually(() => events.includes('ADDED late'), 'relist after 410');
    expect(listRequests(server).length).toBeGreaterThanOrEqual(2);
  });

  it('restarts a dropped watch from the last resourceVersion without relisting', async () => {
    const { server, cache, events } = await setup();
    await cache.synced(deadline());
    await eventually(() => server.activeWatches === 1, 'the watch');
    server.put('pods', 'gc', pod('c'));
    await eventually(() => events.includes('ADDED c'), 'first event');
    server.dropWatches();
    server.put('pods', 'gc', pod('d')); // happens while disconnected: replayed from history
    await eventually(() => events.includes('ADDED d'), 'event after reconnect');
    expect(listRequests(server)).toHaveLength(1);
    expect(cache.status().restarts).toBe(1);
    expect(events.filter((e) => e === 'ADDED c')).toHaveLength(1);
  });

  it('restarts a silent watch after the inactivity timeout', async () => {
    const { server, cache } = await setup({ inactivityMs: 50 });
    await cache.synced(deadline());
    await eventually(() => watchRequests(server).length >= 3, 'inactivity restarts');
    expect(cache.status().restarts).toBeGreaterThanOrEqual(2);
    expect(cache.status().lastFailure).toMatch(/no data for 50 ms/);
  });

  it('parses events split across chunks (even inside a multi-byte character)', async () => {
    const { server, cache } = await setup();
    await cache.synced(deadline());
    await eventually(() => server.activeWatches === 1, 'the watch');
    const object = {
      ...pod('ü', { app: 'gc-agent', note: 'ünïcødé' }),
      metadata: { name: 'ü', labels: { app: 'gc-agent', note: 'ünïcødé' }, resourceVersion: '999' },
    };
    const bytes = Buffer.from(`${JSON.stringify({ type: 'ADDED', object })}\n\n`);
    const cut = bytes.indexOf(Buffer.from('ü', 'utf8')) + 1; // in the middle of the two-byte ü
    server.sendRaw(bytes.subarray(0, cut));
    await new Promise((resolve) => setTimeout(resolve, 10));
    server.sendRaw(bytes.subarray(cut));
    await eventually(() => cache.get('ü') !== undefined, 'the split event');
    expect(cache.get('ü')?.labels.note).toBe('ünïcødé');
    expect(cache.status().restarts).toBe(0);
  });

  it('a malformed line is reported and restarts the watch instead of being dropped', async () => {
    const { server, cache } = await setup();
    await cache.synced(deadline());
    await eventually(() => server.activeWatches === 1, 'the watch');
    server.sendRaw('{"type":"ADDED","object":{\n');
    await eventually(() => cache.status().restarts === 1, 'restart');
    expect(cache.status().lastFailure).toMatch(/invalid JSON in watch stream/);
    await eventually(() => server.activeWatches === 1, 'a new watch');
  });

  it('keeps retrying while the server is down and recovers', async () => {
    const { server, cache, events } = await setup();
    await cache.synced(deadline());
    await eventually(() => server.activeWatches === 1, 'the watch');
    server.intercept((r) => r.query.get('watch') === 'true', { status: 500, body: { kind: 'Status', code: 500, message: 'boom' } }, 3);
    server.dropWatches();
    await eventually(() => cache.status().restarts >= 4, 'restarts');
    expect(cache.status().lastFailure).toMatch(/boom/);
    server.put('pods', 'gc', pod('after'));
    await eventually(() => events.includes('ADDED after'), 'recovery');
    // the outage is over once a watch streams again: no error lingers to fail later reads
    expect(cache.status()).toMatchObject({ connected: true, fresh: true });
    expect(cache.status().lastError).toBeUndefined();
  });

  it('a quiet but connected watch is trusted without requests until verifyAfterMs, then one list confirms it', async () => {
    const { server, cache, clock } = await setup({ verifyAfterMs: 1_000 });
    await cache.synced(deadline());
    await eventually(() => server.activeWatches === 1, 'the watch');
    await eventually(() => cache.status().connected === true, 'connected');
    const before = server.requests.length;
    clock.now += 999;
    await cache.fresh(deadline());
    expect(server.requests.length).toBe(before); // connected and recent: no request
    clock.now += 1; // silent for verifyAfterMs: idle or stalled? one list tells
    await cache.fresh(deadline());
    expect(listRequests(server)).toHaveLength(2);
    expect(server.activeWatches).toBe(1); // nothing was missed: the watch is kept
    expect(watchRequests(server)).toHaveLength(1);
    await cache.fresh(deadline()); // the list counted as progress
    expect(listRequests(server)).toHaveLength(2);
    expect(cache.status().verifications).toBe(1);
  });

  it('a stalled watch never makes reads fail or lie: the first read after verifyAfterMs repairs the cache from a list and re-watches', async () => {
    const { server, cache, clock, events } = await setup({ verifyAfterMs: 1_000 });
    await cache.synced(deadline());
    await eventually(() => server.activeWatches === 1 && cache.status().connected === true, 'the watch');
    // The watch stays open but delivers nothing while the world changes (a stall, not a drop).
    server.removeSilently('pods', 'gc', 'a');
    server.putSilently('pods', 'gc', pod('c'));
    clock.now += 5_000;
    await cache.fresh(deadline());
    expect(
      cache
        .list()
        .map((p) => p.name)
        .sort(),
    ).toEqual(['b', 'c']);
    expect(events).toEqual(['ADDED a', 'ADDED b', 'DELETED a', 'ADDED c']);
    // the stalled watch is replaced by one from the list's resourceVersion, without a failure
    await eventually(() => watchRequests(server).length === 2, 're-watch');
    expect(watchRequests(server)[1]!.query.get('resourceVersion')).toBe(String(server.rv));
    expect(cache.status().restarts).toBe(0);
    expect(cache.status().lastError).toBeUndefined();
    server.put('pods', 'gc', pod('d'));
    await eventually(() => events.includes('ADDED d'), 'events flow on the new watch');
  });

  it('waitFor does not hang on a stalled watch: it verifies every verifyAfterMs while waiting', async () => {
    const { server, cache, clock } = await setup({ verifyAfterMs: 40 });
    await cache.synced(deadline());
    await eventually(() => server.activeWatches === 1 && cache.status().connected === true, 'the watch');
    const gone = cache.waitFor('a', (p) => p === undefined, deadline());
    clock.now += 1_000;
    server.removeSilently('pods', 'gc', 'a'); // the watch never says so
    expect(await gone).toBeUndefined();
  });

  it('fresh() fails with K8S_UNAVAILABLE, naming the cause, only when the watch is down and a list fails too', async () => {
    const { server, cache, clock } = await setup({ verifyAfterMs: 1_000 });
    await cache.synced(deadline());
    await eventually(() => server.activeWatches === 1, 'the watch');
    server.intercept(() => true, { status: 503, body: { kind: 'Status', code: 503, message: 'apiserver down' } }, 1000);
    server.dropWatches();
    clock.now += 5_000;
    await expect(cache.fresh(deadline())).rejects.toMatchObject({
      code: 'K8S_UNAVAILABLE',
      message: expect.stringMatching(/apiserver down/),
    });
  });

  it('a throwing listener does not stop delivery to the others', async () => {
    const { server, cache } = await setup();
    cache.subscribe(() => {
      throw new Error('listener bug');
    });
    const seen: string[] = [];
    cache.subscribe((e) => seen.push(e.object.name));
    await cache.synced(deadline());
    server.put('pods', 'gc', pod('z'));
    await eventually(() => seen.includes('z'), 'delivery');
  });

  it('close() rejects waiters, stops the watch and makes no further requests', async () => {
    const { server, cache } = await setup();
    await cache.synced(deadline());
    await eventually(() => server.activeWatches === 1, 'the watch');
    const waiting = cache.waitFor('never', (p) => p !== undefined, deadline());
    cache.close();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    await eventually(() => server.activeWatches === 0, 'the watch to end');
    const count = server.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(server.requests.length).toBe(count);
    await expect(cache.synced(deadline())).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('waitFor and synced honour the caller signal', async () => {
    const { cache } = await setup();
    const controller = new AbortController();
    const pending = cache.waitFor('a', (p) => p?.phase === 'Running', controller);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
