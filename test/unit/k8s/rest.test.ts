import { afterEach, describe, expect, it } from 'vitest';
import { hasCode } from '../../../src/errors.js';
import { createKubeClient } from '../../../src/k8s/client.js';
import { MockApiServer, statusBody } from '../../helpers/mock-apiserver.js';
import { deadline, pod, silent, startHarness, tempDir, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const isPodGet = (name: string) => (r: { method: string; path: string }) =>
  r.method === 'GET' && r.path === `/api/v1/namespaces/gc/pods/${name}`;

describe('REST transport', () => {
  it('reuses one keep-alive TLS connection for sequential requests', async () => {
    h = await startHarness();
    const pods = h.client.forNamespace('gc').pods;
    await pods.create(pod('a') as never, deadline());
    for (let i = 0; i < 50; i++) await pods.get('a', deadline());
    // undici may open a second connection when a request is dispatched in the tick before the
    // previous one is marked complete (seen right after the POST); never one per request.
    expect(h.server.connections).toBeLessThanOrEqual(2);
    expect(h.client.stats().byRequest).toMatchObject({ 'create pods': 1, 'get pods': 50 });
    expect(h.client.stats().total).toBe(51);
  });

  it('works against a plain http:// server too, sending the bearer token', async () => {
    h = await startHarness({ tls: false });
    expect(h.client.server).toMatch(/^http:\/\//);
    expect((await h.client.serverVersion(deadline().signal)).gitVersion).toBe('v1.31.0-mock');
    expect(h.server.requests[0]!.headers.authorization).toBe('Bearer secret-token');
  });

  it('maps Status bodies to error codes with "verb object: detail" messages', async () => {
    h = await startHarness();
    const pods = h.client.forNamespace('gc').pods;
    await pods.create(pod('dup') as never, deadline());
    await expect(pods.create(pod('dup') as never, deadline())).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
      message: 'creating pod gc/dup: pods "dup" already exists',
    });
    h.server.intercept((r) => r.method === 'POST', {
      status: 403,
      body: statusBody(403, 'Forbidden', 'pods "q" is forbidden: exceeded quota: gc-quota, requested: pods=1'),
    });
    await expect(pods.create(pod('q') as never, deadline())).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    h.server.intercept((r) => r.method === 'POST', {
      status: 403,
      body: statusBody(403, 'Forbidden', 'pods is forbidden: User "x" cannot create'),
    });
    await expect(pods.create(pod('f') as never, deadline())).rejects.toMatchObject({ code: 'FORBIDDEN' });
    h.server.intercept((r) => r.method === 'POST', { status: 422, body: statusBody(422, 'Invalid', 'Pod "BAD" is invalid') });
    await expect(pods.create(pod('BAD') as never, deadline())).rejects.toMatchObject({
      code: 'INVALID',
      message: 'creating pod gc/BAD: Pod "BAD" is invalid',
    });
    h.server.intercept(isPodGet('x'), { status: 500, body: statusBody(500, 'InternalError', 'etcdserver: request timed out') });
    await expect(pods.get('x', deadline())).rejects.toMatchObject({
      code: 'K8S_UNAVAILABLE',
      message: 'getting pod gc/x: etcdserver: request timed out',
    });
    expect(await pods.get('missing', deadline())).toBeUndefined();
  });

  it('honours 429 Retry-After and retries within the deadline', async () => {
    h = await startHarness();
    h.server.put('pods', 'gc', pod('a'));
    h.server.intercept(
      isPodGet('a'),
      { status: 429, body: statusBody(429, 'TooManyRequests', 'slow down'), headers: { 'retry-after': '0' } },
      2,
    );
    const got = await h.client.forNamespace('gc').pods.get('a', deadline());
    expect(got?.name).toBe('a');
    expect(h.client.stats().retries).toBe(2);
    expect(h.client.stats().byRequest['get pods']).toBe(3);
  });

  it('gives up with THROTTLED after the retry budget', async () => {
    h = await startHarness();
    h.server.intercept(
      isPodGet('a'),
      { status: 429, body: statusBody(429, 'TooManyRequests', 'slow down'), headers: { 'retry-after': '0' } },
      10,
    );
    await expect(h.client.forNamespace('gc').pods.get('a', deadline())).rejects.toMatchObject({ code: 'THROTTLED' });
    expect(h.client.stats().byRequest['get pods']).toBe(4); // 1 + 3 retries
  });

  it('does not wait for a Retry-After beyond the caller deadline', async () => {
    h = await startHarness();
    h.server.intercept(
      isPodGet('a'),
      { status: 429, body: statusBody(429, 'TooManyRequests', 'slow down'), headers: { 'retry-after': '3' } },
      10,
    );
    const err: unknown = await h.client
      .forNamespace('gc')
      .pods.get('a', deadline(100))
      .catch((e: unknown) => e);
    expect(hasCode(err, 'TIMEOUT')).toBe(true);
  });

  it('retries once after 401 with refreshed credentials', async () => {
    h = await startHarness();
    h.server.put('pods', 'gc', pod('a'));
    h.server.intercept(isPodGet('a'), { status: 401, body: statusBody(401, 'Unauthorized', 'Unauthorized') });
    expect((await h.client.forNamespace('gc').pods.get('a', deadline()))?.name).toBe('a');
    h.server.intercept(isPodGet('a'), { status: 401, body: statusBody(401, 'Unauthorized', 'Unauthorized') }, 2);
    await expect(h.client.forNamespace('gc').pods.get('a', deadline())).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('bounds a hanging request by the caller signal', async () => {
    h = await startHarness();
    h.server.intercept(isPodGet('slow'), { status: 200, hang: true });
    const controller = new AbortController();
    const call = h.client.forNamespace('gc').pods.get('slow', controller);
    setTimeout(() => {
      controller.abort();
    }, 20);
    await expect(call).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('reports an unreachable server as K8S_UNAVAILABLE', async () => {
    const server = await MockApiServer.start({ tls: false });
    const kubeconfig = server.writeKubeconfig(tempDir());
    const client = await createKubeClient({ log: silent, kubeconfigPaths: [kubeconfig] });
    await server.close();
    const err: unknown = await client
      .forNamespace('gc')
      .pods.get('a', deadline())
      .catch((e: unknown) => e);
    await client.close();
    expect(hasCode(err, 'K8S_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(/^getting pod gc\/a: .*ECONNREFUSED/);
  });

  it('rejects a server certificate not signed by the kubeconfig CA', async () => {
    const server = await MockApiServer.start({ tls: true });
    const kubeconfig = server.writeKubeconfig(tempDir());
    const { writeFileSync, readFileSync } = await import('node:fs');
    const config = JSON.parse(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
    delete config.clusters[0]!.cluster['certificate-authority-data'];
    writeFileSync(kubeconfig, JSON.stringify(config));
    const client = await createKubeClient({ log: silent, kubeconfigPaths: [kubeconfig] });
    const err: unknown = await client.serverVersion(deadline().signal).catch((e: unknown) => e);
    await client.close();
    await server.close();
    expect(hasCode(err, 'K8S_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(/self[- ]signed/i);
  });
});
