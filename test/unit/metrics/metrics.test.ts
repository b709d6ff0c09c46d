import { describe, expect, it } from 'vitest';
import { DaemonMetrics, OP_BUCKETS, type ApiCounts, type CacheHealth } from '../../../src/metrics/metrics.js';

function metrics(api: Record<string, ApiCounts> = {}, caches: CacheHealth[] = []): DaemonMetrics {
  return new DaemonMetrics({ apiCounts: () => Promise.resolve(api), caches: () => caches }, { processMetrics: false });
}

/** The HELP/TYPE header lines: the exposition's stable part (names, types), in order. */
function families(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('# TYPE '));
}

describe('DaemonMetrics', () => {
  it('exposes a stable set of families with their types (golden)', async () => {
    expect(families(await metrics().text())).toEqual([
      '# TYPE gc_k8s_op_duration_seconds histogram',
      '# TYPE gc_k8s_op_errors_total counter',
      '# TYPE gc_k8s_api_requests_total counter',
      '# TYPE gc_k8s_api_retries_total counter',
      '# TYPE gc_k8s_api_wait_seconds_total counter',
      '# TYPE gc_k8s_watch_cache_synced gauge',
      '# TYPE gc_k8s_watch_cache_fresh gauge',
      '# TYPE gc_k8s_watch_cache_objects gauge',
      '# TYPE gc_k8s_watch_restarts gauge',
    ]);
  });

  it('observes op durations into buckets from 0.5 ms to 120 s, and counts errors by code', async () => {
    const m = metrics();
    m.observeOp('session', 'is-running', 0.0004, 'ok');
    m.observeOp('session', 'start', 1.2, 'ok');
    m.observeOp('session', 'start', 3, 'error', 'CAPACITY');
    m.observeOp('session', 'nudge', 0.02, 'exit');
    const text = await m.text();
    expect(OP_BUCKETS[0]).toBe(0.0005);
    expect(OP_BUCKETS.at(-1)).toBe(120);
    expect(text).toContain('gc_k8s_op_duration_seconds_bucket{le="0.0005",provider="session",op="is-running",outcome="ok"} 1');
    expect(text).toContain('gc_k8s_op_duration_seconds_bucket{le="1",provider="session",op="start",outcome="ok"} 0');
    expect(text).toContain('gc_k8s_op_duration_seconds_bucket{le="2.5",provider="session",op="start",outcome="ok"} 1');
    expect(text).toContain('gc_k8s_op_duration_seconds_count{provider="session",op="start",outcome="error"} 1');
    expect(text).toContain('gc_k8s_op_duration_seconds_count{provider="session",op="nudge",outcome="exit"} 1');
    expect(text).toContain('gc_k8s_op_errors_total{provider="session",op="start",code="CAPACITY"} 1');
    expect(text).not.toMatch(/op_errors_total\{[^}]*outcome/);
  });

  it("reads each client's request counters at scrape time", async () => {
    const api = {
      '': { byRequest: { 'get pods': 3, 'create pods/exec': 2 }, retries: 1, rateLimitedMs: 1500, throttledMs: 0 },
      kind: { byRequest: { 'watch configmaps': 1 }, retries: 0, rateLimitedMs: 0, throttledMs: 250 },
    };
    const text = await metrics(api).text();
    expect(text).toContain('gc_k8s_api_requests_total{context="",verb="get",resource="pods"} 3');
    expect(text).toContain('gc_k8s_api_requests_total{context="",verb="create",resource="pods/exec"} 2');
    expect(text).toContain('gc_k8s_api_requests_total{context="kind",verb="watch",resource="configmaps"} 1');
    expect(text).toContain('gc_k8s_api_retries_total{context=""} 1');
    expect(text).toContain('gc_k8s_api_wait_seconds_total{context="",reason="rate_limit"} 1.5');
    expect(text).toContain('gc_k8s_api_wait_seconds_total{context="kind",reason="retry_after"} 0.25');
    // a second scrape sees new totals, not sums of scrapes
    api[''].byRequest['get pods'] = 4;
    expect(await metrics(api).text()).toContain('gc_k8s_api_requests_total{context="",verb="get",resource="pods"} 4');
  });

  it('reports each watch cache, labelled by context and namespace only', async () => {
    const text = await metrics({}, [{ context: '', namespace: 'gc', synced: true, fresh: false, restarts: 2, objects: 7 }]).text();
    expect(text).toContain('gc_k8s_watch_cache_synced{context="",namespace="gc"} 1');
    expect(text).toContain('gc_k8s_watch_cache_fresh{context="",namespace="gc"} 0');
    expect(text).toContain('gc_k8s_watch_cache_objects{context="",namespace="gc"} 7');
    expect(text).toContain('gc_k8s_watch_restarts{context="",namespace="gc"} 2');
  });

  it('adds process metrics unless told not to', async () => {
    const m = new DaemonMetrics({ apiCounts: () => Promise.resolve({}), caches: () => [] });
    expect(await m.text()).toContain('# TYPE gc_k8s_process_cpu_seconds_total counter');
  });
});
