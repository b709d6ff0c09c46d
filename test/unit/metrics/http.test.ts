import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { serveMetrics } from '../../../src/metrics/http.js';
import { DaemonMetrics } from '../../../src/metrics/metrics.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function start(reasons: string[] = []): Promise<string> {
  const metrics = new DaemonMetrics(
    { apiCounts: () => Promise.resolve({}), caches: () => [], namespaces: () => [], notReady: () => Promise.resolve([]) },
    { processMetrics: false },
  );
  metrics.observeOp('session', 'peek', 0.01, 'ok');
  const s = await serveMetrics({ host: '127.0.0.1', port: 0 }, metrics, { reasons: () => Promise.resolve(reasons) });
  servers.push(s);
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe('the metrics listener', () => {
  it('serves /metrics in the Prometheus text format, /healthz and a ready /readyz', async () => {
    const base = await start();
    const m = await fetch(`${base}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await m.text()).toContain('gc_k8s_op_duration_seconds_count{provider="session",op="peek",outcome="ok"} 1');
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok\n');
    const r = await fetch(`${base}/readyz`);
    expect([r.status, await r.text()]).toEqual([200, 'ok\n']);
  });

  it('a /readyz that is not ready says why, one line per reason, with 503', async () => {
    const base = await start(['socket: not listening yet', 'watch of pods of namespace gc: not synced yet']);
    const r = await fetch(`${base}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.text()).toBe('socket: not listening yet\nwatch of pods of namespace gc: not synced yet\n');
  });

  it('answers 404 for other paths and 405 for other methods, changing nothing', async () => {
    const base = await start();
    expect((await fetch(`${base}/debug`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('an address in use fails naming it', async () => {
    const base = await start();
    const port = Number(new URL(base).port);
    const metrics = new DaemonMetrics(
      { apiCounts: () => Promise.resolve({}), caches: () => [], namespaces: () => [], notReady: () => Promise.resolve([]) },
      { processMetrics: false },
    );
    await expect(serveMetrics({ host: '127.0.0.1', port }, metrics, { reasons: () => Promise.resolve([]) })).rejects.toThrow(
      `GC_K8S_METRICS_ADDR 127.0.0.1:${port} is in use`,
    );
  });
});
