// A real Prometheus (built from its Go module, cached) scraping the real sources on the local
// cluster: the daemon's /metrics, the kubelet and its cAdvisor, and kube-state-metrics, with
// contrib/monitoring's rules loaded. Sessions are driven as gc would (a start, a kept workspace, an
// agent killed for memory, a quota filled, starts refused by it) and Prometheus's HTTP API is asked
// until each expected series and alert state appears; then every panel of the Grafana dashboard
// is queried and must return data.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { clusterStatus, ensureBinaries, prometheusScrapeConfigs, streamReporter } from '@gc-k8s/local-cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, ROOT } from './harness.js';

const h = new Harness();
const MONITORING = join(ROOT, 'contrib', 'monitoring');
let env: Record<string, string> = {};
let prometheus: ChildProcess | undefined;
let promUrl = '';
let promLog = '';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(expr: string): Promise<Sample[]> {
  const res = await fetch(`${promUrl}/api/v1/query?${new URLSearchParams({ query: expr }).toString()}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: Sample[] } };
  if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error ?? res.status}`);
  return body.data?.resultType === 'vector' ? body.data.result : [];
}

/** Asks Prometheus until `expr` returns at least one sample (each scrape and evaluation is 2 s). */
async function eventually(expr: string, what: string, seconds = 120): Promise<Sample[]> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const r = await query(expr);
    if (r.length > 0) return r;
    if (Date.now() > until) throw new Error(`${what}: no sample of ${expr} after ${seconds} s\n${promLog.slice(-2000)}`);
    await new Promise((res) => setTimeout(res, 1000));
  }
}

const ns = () => `namespace="${h.namespace}"`;

beforeAll(async () => {
  await h.setup();
  const daemonAddr = `127.0.0.1:${await freePort()}`;
  env = { GC_K8S_METRICS_ADDR: daemonAddr };
  const status = await clusterStatus({ env: process.env });
  if (status.monitoring === undefined) {
    throw new Error('this test needs the local cluster (gc-k8s cluster up): it scrapes its kubelet and kube-state-metrics');
  }
  const dirs = await ensureBinaries(
    ['prometheus'],
    process.env,
    streamReporter(process.stderr, 'prometheus'),
    new AbortController().signal,
  );
  const config = {
    global: { scrape_interval: '2s', evaluation_interval: '2s' },
    rule_files: [join(MONITORING, 'rules.yaml')],
    scrape_configs: [
      { job_name: 'gc-k8s-daemon', static_configs: [{ targets: [daemonAddr] }] },
      ...prometheusScrapeConfigs(status.monitoring, '2s'),
    ],
  };
  // JSON is YAML
  writeFileSync(join(h.dir, 'prometheus.yml'), JSON.stringify(config));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    join(dirs.prometheus, 'prometheus'),
    [
      `--config.file=${join(h.dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(h.dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prometheus.stderr?.on('data', (d: Buffer) => (promLog = (promLog + d.toString()).slice(-20_000)));
  for (let i = 0; ; i++) {
    const ready = await fetch(`${promUrl}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (i > 120 || prometheus.exitCode !== null) throw new Error(`prometheus did not become ready:\n${promLog.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}, 1_800_000);

afterAll(async () => {
  prometheus?.kill('SIGTERM');
  await h.teardown();
});

describe('a real Prometheus on the local cluster', () => {
  it('scrapes the daemon, the kubelet, cAdvisor and kube-state-metrics for a running session with a kept workspace', async () => {
    await h.sessionOk(['start', 'watched'], JSON.stringify({ command: 'bash' }), {
      ...env,
      GC_K8S_WORKSPACE: 'claim',
      GC_K8S_WORKSPACE_SIZE: '64Mi',
    });
    await h.sessionOk(['peek', 'watched', '5'], '', env);
    for (const job of ['gc-k8s-daemon', 'kubelet', 'kubelet-cadvisor', 'kube-state-metrics']) {
      await eventually(`up{job="${job}"} == 1`, `target ${job} up`);
    }
    await eventually(`gc_k8s_sessions{${ns()}, phase="running"} == 1`, 'the daemon counts the running session');
    await eventually('gc_k8s_session_start_duration_seconds_count >= 1', 'the start timed to ready');
    await eventually('gc_k8s_ready == 1', 'the daemon ready');
    await eventually(`container_memory_working_set_bytes{${ns()}, container="agent"} > 0`, 'cAdvisor memory of the agent');
    await eventually(`rate(container_cpu_usage_seconds_total{${ns()}, container="agent"}[1m]) >= 0`, 'cAdvisor CPU of the agent');
    await eventually(`kube_pod_container_resource_limits{${ns()}, container="agent", resource="memory"} > 0`, 'the agent memory limit');
    await eventually(`kubelet_volume_stats_capacity_bytes{${ns()}} > 0`, "the kept workspace's volume stats", 180);
  });

  it('an agent killed for memory fires GcAgentOOMKilled', async () => {
    const small = { ...env, GC_K8S_MEM_LIMIT: '48Mi', GC_K8S_MEM_REQUEST: '16Mi' };
    await h.sessionOk(['start', 'hog'], JSON.stringify({ command: "sh -c 'sleep 3; tail /dev/zero'" }), small);
    const firing = await eventually(`ALERTS{alertname="GcAgentOOMKilled", alertstate="firing", ${ns()}}`, 'the OOM alert', 240);
    expect(firing.map((s) => s.metric['pod'])).toEqual([expect.stringContaining('hog')]);
  });

  it('gc-k8s top: CPU and memory from metrics-server, restarts, age and last activity of each session', async () => {
    type Row = {
      session: string;
      phase: string;
      cpuCores: number | null;
      memoryBytes: number | null;
      restarts: number;
      lastActivity: string;
    };
    let rows: Row[] = [];
    // metrics-server collects every 10 s: a new pod has figures within a cycle or two
    for (let i = 0; i < 60; i++) {
      const r = await h.script('gc-k8s', ['top', '--json'], '', env);
      expect(r, r.err).toMatchObject({ code: 0 });
      rows = (JSON.parse(r.out) as { sessions: Row[] }).sessions;
      if (rows.find((x) => x.session === 'watched')?.memoryBytes != null) break;
      await new Promise((res) => setTimeout(res, 2000));
    }
    const watched = rows.find((x) => x.session === 'watched');
    expect(watched).toMatchObject({ phase: 'running', restarts: 0 });
    expect(watched?.cpuCores).toBeGreaterThanOrEqual(0);
    expect(watched?.memoryBytes).toBeGreaterThan(1024 * 1024);
    expect(Date.parse(watched?.lastActivity ?? '')).toBeGreaterThan(Date.now() - 3_600_000);
    expect(rows.find((x) => x.session === 'hog')).toMatchObject({ phase: 'failed', lastActivity: '' });
    const table = await h.script('gc-k8s', ['top'], '', env);
    expect(table.out).toMatch(/^SESSION\s+STATE\s+CPU\s+MEMORY\s+RESTARTS\s+AGE\s+LAST ACTIVITY/m);
    expect(table.out).toMatch(/^watched\s+running\s+\d+m\s+\d+Mi\s+0\s/m);
    expect((await h.script('gc-k8s', ['top', '--bogus'], '', env)).code).toBe(2);
  });

  it('a quota at its limit is GcQuotaNearLimit (pending for its 5 min), and the starts it refuses fire GcK8sStartFailures', async () => {
    // "watched" runs: a pod quota of 1 is full (hog ended: terminal pods are not counted)
    const quota = {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'gct-pods', namespace: h.namespace },
      spec: { hard: { pods: '1' } },
    };
    const made = await h.run(h.kubectl, ['apply', '-f', '-'], JSON.stringify(quota));
    expect(made, made.err).toMatchObject({ code: 0 });
    await eventually(`kube_resourcequota{${ns()}, resourcequota="gct-pods", type="used"} == 1`, 'the quota used');
    await eventually(`ALERTS{alertname="GcQuotaNearLimit", alertstate="pending", ${ns()}, resource="pods"}`, 'the quota alert pending');
    for (const name of ['over-1', 'over-2', 'over-3']) {
      const r = await h.session(['start', name], JSON.stringify({ command: 'bash' }), env);
      expect(r.code, r.err).toBe(75);
    }
    await eventually('gc_k8s_session_start_failures_total{reason="Quota"} == 3', 'the refused starts counted by reason');
    await eventually('ALERTS{alertname="GcK8sStartFailures", alertstate="firing", reason="Quota"}', 'the start-failures alert');
  });

  it('every panel of the Grafana dashboard returns data', async () => {
    const dashboard = JSON.parse(readFileSync(join(MONITORING, 'grafana-dashboard.json'), 'utf8')) as {
      panels: { type: string; title: string; targets?: { expr: string }[] }[];
    };
    const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
    expect(queries.length).toBeGreaterThan(10);
    // a series can lag its source by a scrape or a kubelet housekeeping cycle: ask again for a while
    let empty = queries;
    for (let round = 0; round < 60 && empty.length > 0; round++) {
      if (round > 0) await new Promise((r) => setTimeout(r, 2000));
      const still: typeof queries = [];
      for (const q of empty) if ((await query(q.expr.replaceAll('$namespace', h.namespace))).length === 0) still.push(q);
      empty = still;
    }
    expect(empty.map((q) => `${q.panel}: ${q.expr}`)).toEqual([]);
  });
});
