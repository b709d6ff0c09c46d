import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigMapManifest, PodManifest } from '../../../src/kube/types.js';
import { toClusterEvent, toPod } from '../../../src/k8s/convert.js';
import { deadline, pod, startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const manifest = (name: string): PodManifest => pod(name) as PodManifest;
const cm = (name: string, data: Record<string, string>, resourceVersion?: string): ConfigMapManifest => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels: { 'gc-k8s/kind': 'meta' }, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
  data,
});

describe('PodApi', () => {
  it('creates, gets, lists by label across pages and deletes', async () => {
    h = await startHarness();
    const pods = h.client.forNamespace('gc').pods;
    const created = await pods.create(manifest('p0'), deadline());
    expect(created).toMatchObject({ name: 'p0', namespace: 'gc', phase: 'Pending', labels: { app: 'gc-agent' } });
    for (let i = 1; i < 1203; i++) h.server.put('pods', 'gc', pod(`p${i}`));
    h.server.put('pods', 'gc', pod('other', { app: 'else' }));
    const listed = await pods.list('app=gc-agent', deadline());
    expect(listed).toHaveLength(1203);
    const lists = h.server.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/namespaces/gc/pods');
    expect(lists.map((r) => r.query.get('continue'))).toEqual([null, '500', '1000']);
    expect(lists.every((r) => r.query.get('labelSelector') === 'app=gc-agent')).toBe(true);
    expect(await pods.delete('p0', { ...deadline(), gracePeriodSeconds: 3 })).toBe(true);
    expect(h.server.requests.at(-1)!.body).toMatchObject({ kind: 'DeleteOptions', gracePeriodSeconds: 3 });
    expect(await pods.delete('p0', deadline())).toBe(false);
    expect(await pods.get('p0', deadline())).toBeUndefined();
  });

  it('delete with uid is a precondition: a newer pod with the same name survives', async () => {
    h = await startHarness();
    const pods = h.client.forNamespace('gc').pods;
    const old = await pods.create(manifest('s'), deadline());
    await pods.delete('s', deadline());
    await pods.create(manifest('s'), deadline());
    await expect(pods.delete('s', { ...deadline(), uid: old.uid })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(h.server.requests.at(-1)!.body).toMatchObject({ preconditions: { uid: old.uid } });
    expect(await pods.get('s', deadline())).toBeDefined();
  });

  it('lists the events of one pod, oldest first', async () => {
    h = await startHarness();
    const ev = (name: string, podName: string, reason: string, time: Record<string, string>) => ({
      metadata: { name },
      involvedObject: { kind: 'Pod', name: podName },
      type: reason === 'Failed' ? 'Warning' : 'Normal',
      reason,
      message: `${reason} happened`,
      ...time,
    });
    h.server.put('events', 'gc', ev('e1', 'p', 'Pulling', { lastTimestamp: '2026-01-01T00:00:05Z' }));
    h.server.put('events', 'gc', ev('e2', 'p', 'Scheduled', { eventTime: '2026-01-01T00:00:01.000000Z' }));
    h.server.put('events', 'gc', ev('e3', 'p', 'Failed', { lastTimestamp: '2026-01-01T00:00:09Z', count: '7' }));
    h.server.put('events', 'gc', ev('e4', 'q', 'Pulling', { lastTimestamp: '2026-01-01T00:00:00Z' }));
    const events = await h.client.forNamespace('gc').pods.events('p', deadline());
    expect(events.map((e) => e.reason)).toEqual(['Scheduled', 'Pulling', 'Failed']);
    expect(events[2]).toMatchObject({ type: 'Warning', message: 'Failed happened', lastSeen: '2026-01-01T00:00:09Z' });
    expect(h.server.requests.at(-1)!.query.get('fieldSelector')).toBe('involvedObject.name=p,involvedObject.kind=Pod');
  });
});

describe('ConfigMapApi', () => {
  it('creates, replaces optimistically (stale → CONFLICT), lists with limit/continue, deletes', async () => {
    h = await startHarness();
    const cms = h.client.forNamespace('gc').configMaps;
    const a = await cms.create(cm('a', { k: 'v1' }), deadline());
    await expect(cms.create(cm('a', { k: 'v1' }), deadline())).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    const a2 = await cms.replace(cm('a', { k: 'v2' }, a.resourceVersion), deadline());
    expect(a2.data).toEqual({ k: 'v2' });
    expect(h.server.requests.at(-1)!.body!.metadata.resourceVersion).toBe(a.resourceVersion);
    await expect(cms.replace(cm('a', { k: 'v3' }, a.resourceVersion), deadline())).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/^replacing configmap gc\/a: Operation cannot be fulfilled/) as unknown,
    });
    await expect(cms.replace(cm('a', { k: 'v3' }), deadline())).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await cms.create(cm('b', {}), deadline());
    await cms.create(cm('c', {}), deadline());
    const page1 = await cms.list('gc-k8s/kind=meta', { ...deadline(), limit: 2 });
    expect(page1.items.map((c) => c.name)).toEqual(['a', 'b']);
    expect(page1.continueToken).toBe('2');
    const page2 = await cms.list('gc-k8s/kind=meta', { ...deadline(), limit: 2, continueToken: page1.continueToken! });
    expect(page2.items.map((c) => c.name)).toEqual(['c']);
    expect(page2.continueToken).toBeUndefined();
    await expect(cms.delete('a', { ...deadline(), resourceVersion: a.resourceVersion })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await cms.delete('a', { ...deadline(), resourceVersion: a2.resourceVersion })).toBe(true);
    expect(await cms.delete('a', deadline())).toBe(false);
    expect(await cms.get('a', deadline())).toBeUndefined();
    expect((await cms.get('b', deadline()))?.name).toBe('b');
  });
});

describe('wire conversion', () => {
  it('summarizes container states, conditions and deletion', () => {
    const p = toPod({
      metadata: {
        name: 'x',
        namespace: 'gc',
        uid: 'u',
        resourceVersion: '5',
        deletionTimestamp: '2026-01-01T00:00:00Z',
        labels: { a: 'b', bad: 1 },
      },
      spec: { nodeName: 'n1' },
      status: {
        phase: 'Running',
        podIP: '10.0.0.1',
        conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
        initContainerStatuses: [
          { name: 'stage', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        ],
        containerStatuses: [
          { name: 'agent', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } } },
          { name: 'side', ready: true, restartCount: 0, state: { running: { startedAt: 'x' } } },
          { name: 'oom', ready: false, restartCount: 1, state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } },
          { name: 'new' },
        ],
      },
    });
    expect(p).toMatchObject({
      name: 'x',
      deletionTimestamp: '2026-01-01T00:00:00Z',
      phase: 'Running',
      podIP: '10.0.0.1',
      nodeName: 'n1',
      labels: { a: 'b' },
    });
    expect(p.conditions).toEqual([{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }]);
    expect(p.initContainers[0]).toEqual({
      name: 'stage',
      ready: false,
      restartCount: 0,
      state: 'terminated',
      reason: 'Completed',
      exitCode: 0,
    });
    expect(p.containers).toEqual([
      { name: 'agent', ready: false, restartCount: 3, state: 'waiting', reason: 'CrashLoopBackOff', message: 'back-off 40s' },
      { name: 'side', ready: true, restartCount: 0, state: 'running' },
      { name: 'oom', ready: false, restartCount: 1, state: 'terminated', reason: 'OOMKilled', exitCode: 137 },
      { name: 'new', ready: false, restartCount: 0, state: 'unknown' },
    ]);
    expect(toPod({ metadata: { name: 'fresh' } }).phase).toBe('Unknown');
    expect(() => toPod({ metadata: {} })).toThrow(/without metadata.name/);
  });

  it('takes the newest event timestamp present', () => {
    expect(
      toClusterEvent({
        reason: 'R',
        firstTimestamp: '2026-01-01T00:00:00Z',
        lastTimestamp: '2026-01-01T00:05:00Z',
        series: { count: 4, lastObservedTime: '2026-01-01T00:09:00.000000Z' },
      }),
    ).toMatchObject({ lastSeen: '2026-01-01T00:09:00.000000Z', count: 4, type: 'Normal' });
  });
});
