import { afterEach, describe, expect, it } from 'vitest';
import { deadline, eventually, pod, startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('KubeClient', () => {
  it('caches namespace clients and their caches; agentPods watches app=gc-agent', async () => {
    h = await startHarness({ tls: false });
    const gc = h.client.forNamespace('gc');
    expect(h.client.forNamespace('gc')).toBe(gc);
    expect(h.client.defaultNamespace).toBe('gc');
    expect(h.server.requests).toHaveLength(0); // nothing is watched until asked for
    h.server.put('pods', 'gc', pod('a'));
    h.server.put('pods', 'gc', pod('b', { app: 'other' }));
    await gc.agentPods.synced(deadline());
    expect(gc.agentPods).toBe(gc.agentPods);
    expect(gc.agentPods.list().map((p) => p.name)).toEqual(['a']);
    const meta = gc.configMapCache('gc-k8s/kind=meta');
    expect(gc.configMapCache('gc-k8s/kind=meta')).toBe(meta);
    expect(gc.configMapCache('gc-k8s/kind=other')).not.toBe(meta);
    await meta.synced(deadline());
    await eventually(() => h!.server.activeWatches === 3, 'three watches');
    const lists = h.server.requests.filter((r) => r.query.get('watch') === null);
    expect(lists.map((r) => `${r.path} ${r.query.get('labelSelector')}`).sort()).toEqual([
      '/api/v1/namespaces/gc/configmaps gc-k8s/kind=meta',
      '/api/v1/namespaces/gc/configmaps gc-k8s/kind=other',
      '/api/v1/namespaces/gc/pods app=gc-agent',
    ]);
    gc.close();
    await eventually(() => h!.server.activeWatches === 0, 'watches to close');
    expect(h.client.forNamespace('gc')).not.toBe(gc);
  });

  it('namespace helpers and server version', async () => {
    h = await startHarness({ tls: false });
    const opts = deadline();
    expect(await h.client.namespaceExists('team-a', opts)).toBe(false);
    expect(await h.client.ensureNamespace('team-a', { ...opts, labels: { owner: 'gc' } })).toBe(true);
    expect(await h.client.ensureNamespace('team-a', opts)).toBe(false);
    expect(await h.client.namespaceExists('team-a', opts)).toBe(true);
    expect(await h.client.serverVersion(opts.signal)).toMatchObject({ major: '1', minor: '31', gitVersion: 'v1.31.0-mock' });
    expect(h.client.stats().byRequest).toMatchObject({ 'get namespaces': 4, 'create namespaces': 1, 'get version': 1 });
  });

  it('close() also ends in-flight exec sockets', async () => {
    h = await startHarness({ tls: false });
    let started = false;
    let serverSawClose = false;
    h.server.execHandler = (session) => {
      started = true;
      session.ws.on('close', () => {
        serverSawClose = true;
      });
    };
    const running = h.client.forNamespace('gc').exec.exec({ pod: 'p', container: 'agent', command: ['sleep', 'inf'], ...deadline() });
    await eventually(() => started, 'the exec to start');
    await h.client.close();
    await expect(running).rejects.toMatchObject({ code: 'ABORTED', message: 'exec sleep in pod gc/p: the Kubernetes client is closed' });
    await eventually(() => serverSawClose, 'the server to see the socket close');
  });

  it('close() ends watches and refuses further calls', async () => {
    h = await startHarness({ tls: false });
    await h.client.forNamespace('gc').agentPods.synced(deadline());
    await eventually(() => h!.server.activeWatches === 1, 'the watch');
    await h.client.close();
    await eventually(() => h!.server.activeWatches === 0, 'the watch to close');
    await expect(h.client.forNamespace('gc').pods.get('a', deadline())).rejects.toMatchObject({
      code: 'ABORTED',
      message: 'getting pod gc/a: the Kubernetes client is closed',
    });
  });
});
