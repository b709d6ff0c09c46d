import type { Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { readinessOf } from '../../../src/daemon/readiness.js';
import type { CacheStatus } from '../../../src/kube/ports.js';

const runtime = (namespace: string, status: CacheStatus, context = '') => ({
  namespace,
  context,
  client: { agentPods: { status: () => status } },
});
const listening = { listening: true } as unknown as Server;

describe('readinessOf', () => {
  it('ready: the socket listens and every watch is synced, connected and fresh (or none is in use yet)', async () => {
    expect(await readinessOf(() => listening, { inUse: () => [] }).reasons()).toEqual([]);
    const ok = runtime('gc', { synced: true, connected: true, fresh: true, restarts: 0 });
    expect(await readinessOf(() => listening, { inUse: () => [ok] as never }).reasons()).toEqual([]);
  });

  it('not ready: one reason per line, naming the namespace, the context and the last failure', async () => {
    const r = readinessOf(() => undefined, {
      inUse: () =>
        [
          runtime('a', { synced: false, connected: false, restarts: 3, lastFailure: 'connect ECONNREFUSED 10.0.0.1:6443' }, 'prod'),
          runtime('b', { synced: false, connected: true, restarts: 0 }),
          runtime('c', { synced: true, connected: true, fresh: false, restarts: 1 }),
        ] as never,
    });
    expect(await r.reasons()).toEqual([
      'socket: not listening yet',
      'watch of pods of namespace a (context prod): the API server is not reachable: connect ECONNREFUSED 10.0.0.1:6443',
      'watch of pods of namespace b: not synced yet',
      'watch of pods of namespace c: no progress lately (reads verify by LIST)',
    ]);
  });

  it('a namespace that is gone or no longer ours does not make the daemon unready', async () => {
    const gone = runtime('old', {
      synced: true,
      connected: false,
      restarts: 4,
      lastError:
        'watching pods in old (app=gc-agent): pods is forbidden: User "system:serviceaccount:gc:gc-k8s" cannot watch resource "pods": HTTP 403 Forbidden',
    });
    expect(await readinessOf(() => listening, { inUse: () => [gone] as never }).reasons()).toEqual([]);
  });
});
