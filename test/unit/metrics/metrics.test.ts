import { describe, expect, it } from 'vitest';
import { DaemonMetrics, OP_BUCKETS, type ApiCounts, type CacheHealth, type NamespaceFigures } from '../../../src/metrics/metrics.js';

function metrics(
  api: Record<string, ApiCounts> = {},
  caches: CacheHealth[] = [],
  namespaces: NamespaceFigures[] = [],
  sessionLabels = false,
  notReady: string[] = [],
): DaemonMetrics {
  return new DaemonMetrics(
    {
      apiCounts: () => Promise.resolve(api),
      caches: () => caches,
      namespaces: () => namespaces,
      notReady: () => Promise.resolve(notReady),
    },
    { processMetrics: false, sessionLabels },
  );
}

const figures = (over: Partial<NamespaceFigures> = {}): NamespaceFigures => ({
  context: '',
  namespace: 'gc',
  phases: { starting: 1, running: 3, ended: 0, failed: 1, stopping: 0, warm: 2 },
  sessions: () => [
    { session: 'mayor', phase: 'running' },
    { session: 'polecat-1', phase: 'failed' },
  ],
  exec: { open: 4, opened: 9, broken: 1, oneShot: 2 },
  events: { written: 12, watchers: 2, latestSeq: 40, watchLagSeqs: 3 },
  beads: { dolt: 20, 'bd-serve': 5, bd: 1, fallback: 2 },
  dolt: { pools: 1, down: 0 },
  ...over,
});

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
      '# TYPE gc_k8s_api_responses_total counter',
      '# TYPE gc_k8s_api_retries_total counter',
      '# TYPE gc_k8s_api_wait_seconds_total counter',
      '# TYPE gc_k8s_watch_cache_synced gauge',
      '# TYPE gc_k8s_watch_cache_fresh gauge',
      '# TYPE gc_k8s_watch_cache_objects gauge',
      '# TYPE gc_k8s_watch_cache_age_seconds gauge',
      '# TYPE gc_k8s_watch_relists gauge',
      '# TYPE gc_k8s_watch_restarts gauge',
      '# TYPE gc_k8s_session_start_duration_seconds histogram',
      '# TYPE gc_k8s_session_start_failures_total counter',
      '# TYPE gc_k8s_ready gauge',
      '# TYPE gc_k8s_sessions gauge',
      '# TYPE gc_k8s_exec_channels_open gauge',
      '# TYPE gc_k8s_exec_channels_opened_total counter',
      '# TYPE gc_k8s_exec_channels_broken_total counter',
      '# TYPE gc_k8s_exec_oneshot_total counter',
      '# TYPE gc_k8s_events_written_total counter',
      '# TYPE gc_k8s_event_watchers gauge',
      '# TYPE gc_k8s_event_latest_seq gauge',
      '# TYPE gc_k8s_event_watch_lag_seqs gauge',
      '# TYPE gc_k8s_beads_ops_total counter',
      '# TYPE gc_k8s_beads_fallbacks_total counter',
      '# TYPE gc_k8s_dolt_pools gauge',
      '# TYPE gc_k8s_dolt_unreachable gauge',
    ]);
  });

  it('labels each family with a stable, bounded set of label names (golden)', async () => {
    const m = metrics(
      { '': { byRequest: { 'get pods': 1 }, byResponse: { 'get pods 200': 1 }, retries: 0, rateLimitedMs: 0, throttledMs: 0 } },
      [{ context: '', namespace: 'gc', synced: true, fresh: true, restarts: 0, objects: 1 }],
      [figures()],
    );
    m.observeOp('session', 'peek', 0.01, 'error', 'TIMEOUT');
    m.startReady(1);
    const labels = new Map<string, Set<string>>();
    for (const line of (await m.text()).split('\n')) {
      const match = /^([a-z0-9_]+?)(?:_bucket|_sum|_count)?\{([^}]*)\}/.exec(line);
      if (match === null) continue;
      const keys = [...(match[2] ?? '').matchAll(/([a-z_]+)="/g)].map((k) => k[1] ?? '').filter((k) => k !== 'le');
      labels.set(match[1] ?? '', new Set([...(labels.get(match[1] ?? '') ?? []), ...keys]));
    }
    expect(Object.fromEntries([...labels].map(([name, keys]) => [name, [...keys].sort().join(',')]))).toEqual({
      gc_k8s_op_duration_seconds: 'op,outcome,provider',
      gc_k8s_op_errors_total: 'code,op,provider',
      gc_k8s_api_requests_total: 'context,resource,verb',
      gc_k8s_api_responses_total: 'context,resource,status,verb',
      gc_k8s_api_retries_total: 'context',
      gc_k8s_api_wait_seconds_total: 'context,reason',
      gc_k8s_watch_cache_synced: 'context,namespace',
      gc_k8s_watch_cache_fresh: 'context,namespace',
      gc_k8s_watch_cache_objects: 'context,namespace',
      gc_k8s_watch_cache_age_seconds: 'context,namespace',
      gc_k8s_watch_relists: 'context,namespace',
      gc_k8s_watch_restarts: 'context,namespace',
      gc_k8s_session_start_duration_seconds: '',
      gc_k8s_session_start_failures_total: 'reason',
      gc_k8s_sessions: 'context,namespace,phase',
      gc_k8s_exec_channels_open: 'context,namespace',
      gc_k8s_exec_channels_opened_total: 'context,namespace',
      gc_k8s_exec_channels_broken_total: 'context,namespace',
      gc_k8s_exec_oneshot_total: 'context,namespace',
      gc_k8s_events_written_total: 'context,namespace',
      gc_k8s_event_watchers: 'context,namespace',
      gc_k8s_event_latest_seq: 'context,namespace',
      gc_k8s_event_watch_lag_seqs: 'context,namespace',
      gc_k8s_beads_ops_total: 'context,namespace,path',
      gc_k8s_beads_fallbacks_total: 'context,namespace',
      gc_k8s_dolt_pools: 'context,namespace',
      gc_k8s_dolt_unreachable: 'context,namespace',
    });
  });

  it('reads each namespace at scrape time: sessions by phase, exec channels, events, beads paths, Dolt', async () => {
    const text = await metrics({}, [], [figures()]).text();
    for (const line of [
      'gc_k8s_sessions{context="",namespace="gc",phase="running"} 3',
      'gc_k8s_sessions{context="",namespace="gc",phase="warm"} 2',
      'gc_k8s_sessions{context="",namespace="gc",phase="ended"} 0',
      'gc_k8s_exec_channels_open{context="",namespace="gc"} 4',
      'gc_k8s_exec_channels_opened_total{context="",namespace="gc"} 9',
      'gc_k8s_exec_channels_broken_total{context="",namespace="gc"} 1',
      'gc_k8s_exec_oneshot_total{context="",namespace="gc"} 2',
      'gc_k8s_events_written_total{context="",namespace="gc"} 12',
      'gc_k8s_event_watchers{context="",namespace="gc"} 2',
      'gc_k8s_event_latest_seq{context="",namespace="gc"} 40',
      'gc_k8s_event_watch_lag_seqs{context="",namespace="gc"} 3',
      'gc_k8s_beads_ops_total{context="",namespace="gc",path="dolt"} 20',
      'gc_k8s_beads_ops_total{context="",namespace="gc",path="bd-serve"} 5',
      'gc_k8s_beads_ops_total{context="",namespace="gc",path="bd"} 1',
      'gc_k8s_beads_fallbacks_total{context="",namespace="gc"} 2',
      'gc_k8s_dolt_pools{context="",namespace="gc"} 1',
      'gc_k8s_dolt_unreachable{context="",namespace="gc"} 0',
    ])
      expect(text).toContain(line);
    // an event store or Dolt not used yet: no series rather than a made-up 0
    const fresh = await metrics({}, [], [figures({ events: undefined, dolt: undefined })]).text();
    expect(fresh).not.toMatch(/^gc_k8s_event_watchers\{/m);
    expect(fresh).not.toMatch(/^gc_k8s_dolt_pools\{/m);
  });

  it('gc_k8s_ready is 1 when nothing stands in the way, 0 when /readyz would give a reason', async () => {
    expect(await metrics().text()).toContain('gc_k8s_ready 1');
    expect(await metrics({}, [], [], false, ['watch of pods of namespace gc: not synced yet']).text()).toContain('gc_k8s_ready 0');
  });

  it('never labels by session name unless session labels are on', async () => {
    const off = await metrics({}, [], [figures()]).text();
    expect(off).not.toContain('mayor');
    expect(off).not.toContain('gc_k8s_session_phase');
    const on = await metrics({}, [], [figures()], true).text();
    expect(on).toContain('gc_k8s_session_phase{context="",namespace="gc",session="mayor",phase="running"} 1');
    expect(on).toContain('gc_k8s_session_phase{context="",namespace="gc",session="polecat-1",phase="failed"} 1');
  });

  it('times starts to ready and counts failed starts by reason, every reason present from the start', async () => {
    const m = metrics();
    expect(await m.text()).toContain('gc_k8s_session_start_failures_total{reason="ImagePull"} 0');
    m.startReady(1.2);
    m.startFailed('Quota');
    m.startFailed('Quota');
    const text = await m.text();
    expect(text).toContain('gc_k8s_session_start_duration_seconds_bucket{le="2.5"} 1');
    expect(text).toContain('gc_k8s_session_start_duration_seconds_bucket{le="1"} 0');
    expect(text).toContain('gc_k8s_session_start_failures_total{reason="Quota"} 2');
    expect(text).toContain('gc_k8s_session_start_duration_seconds_count 1');
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
      '': {
        byRequest: { 'get pods': 3, 'create pods/exec': 2 },
        byResponse: { 'get pods 200': 2, 'get pods 404': 1 },
        retries: 1,
        rateLimitedMs: 1500,
        throttledMs: 0,
      },
      kind: { byRequest: { 'watch configmaps': 1 }, retries: 0, rateLimitedMs: 0, throttledMs: 250 },
    };
    const text = await metrics(api).text();
    expect(text).toContain('gc_k8s_api_requests_total{context="",verb="get",resource="pods"} 3');
    expect(text).toContain('gc_k8s_api_requests_total{context="",verb="create",resource="pods/exec"} 2');
    expect(text).toContain('gc_k8s_api_requests_total{context="kind",verb="watch",resource="configmaps"} 1');
    expect(text).toContain('gc_k8s_api_retries_total{context=""} 1');
    expect(text).toContain('gc_k8s_api_responses_total{context="",verb="get",resource="pods",status="404"} 1');
    expect(text).toContain('gc_k8s_api_responses_total{context="",verb="get",resource="pods",status="200"} 2');
    expect(text).toContain('gc_k8s_api_wait_seconds_total{context="",reason="rate_limit"} 1.5');
    expect(text).toContain('gc_k8s_api_wait_seconds_total{context="kind",reason="retry_after"} 0.25');
    // a second scrape sees new totals, not sums of scrapes
    api[''].byRequest['get pods'] = 4;
    expect(await metrics(api).text()).toContain('gc_k8s_api_requests_total{context="",verb="get",resource="pods"} 4');
  });

  it('reports each watch cache, labelled by context and namespace only', async () => {
    const text = await metrics({}, [
      { context: '', namespace: 'gc', synced: true, fresh: false, restarts: 2, objects: 7, ageSeconds: 12.5, verifications: 3 },
    ]).text();
    expect(text).toContain('gc_k8s_watch_cache_age_seconds{context="",namespace="gc"} 12.5');
    expect(text).toContain('gc_k8s_watch_relists{context="",namespace="gc"} 3');
    expect(text).toContain('gc_k8s_watch_cache_synced{context="",namespace="gc"} 1');
    expect(text).toContain('gc_k8s_watch_cache_fresh{context="",namespace="gc"} 0');
    expect(text).toContain('gc_k8s_watch_cache_objects{context="",namespace="gc"} 7');
    expect(text).toContain('gc_k8s_watch_restarts{context="",namespace="gc"} 2');
  });

  it('adds process metrics unless told not to', async () => {
    const m = new DaemonMetrics({
      apiCounts: () => Promise.resolve({}),
      caches: () => [],
      namespaces: () => [],
      notReady: () => Promise.resolve([]),
    });
    expect(await m.text()).toContain('# TYPE gc_k8s_process_cpu_seconds_total counter');
  });

  it('reads the namespaces once per scrape, and afresh for the next scrape', async () => {
    let reads = 0;
    let running = 1;
    const m = new DaemonMetrics(
      {
        apiCounts: () => Promise.resolve({}),
        caches: () => [],
        namespaces: () => {
          reads += 1;
          return [figures({ phases: { running } })];
        },
        notReady: () => Promise.resolve([]),
      },
      { processMetrics: false },
    );
    expect(await m.text()).toContain('gc_k8s_sessions{context="",namespace="gc",phase="running"} 1');
    expect(reads).toBe(1);
    running = 2;
    expect(await m.text()).toContain('gc_k8s_sessions{context="",namespace="gc",phase="running"} 2');
    expect(reads).toBe(2);
  });
});
