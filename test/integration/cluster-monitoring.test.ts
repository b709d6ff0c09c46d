// The local cluster's monitoring, read as a Prometheus on the host and `kubectl top` would:
// metrics-server behind the aggregation layer (APIService Available, PodMetrics of a running pod),
// kube-state-metrics on the host's loopback, the kubelet's cAdvisor and volume metrics with the
// scrape identity gc-k8s:prometheus (which may read metrics and nothing else of the kubelet).
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterStatus,
  ensureCluster,
  prometheusScrapeConfigs,
  restartClusterComponent,
  streamReporter,
  type ClusterInfo,
  type MonitoringTargets,
} from '@gc-k8s/local-cluster';
import { kubectlFor, until, type Kubectl } from './cluster-helpers.js';

const canRunLocal = process.platform === 'linux' && process.getuid?.() === 0;
const localEnv = { ...process.env, KUBECONFIG: '' };
const ns = `it-mon-${Date.now().toString(36)}`;
let info: ClusterInfo;
let mon: MonitoringTargets;
let k: Kubectl;

/** `node`: where the sleeper runs (node 1, whose kubelet `mon`'s kubelet URLs are, on a cluster of several nodes) */
function manifests(busybox: string, node: string): string {
  return `
apiVersion: v1
kind: ResourceQuota
metadata: {name: quota, namespace: ${ns}}
spec: {hard: {pods: '10', limits.memory: 1Gi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: ${ns}}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 64Mi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: sleeper, namespace: ${ns}}
spec:
  nodeSelector: {kubernetes.io/hostname: ${node}}
  securityContext: {fsGroup: 1000}
  containers:
  - name: main
    image: ${busybox}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'head -c 1048576 /dev/zero > /data/blob; exec sleep 3600']
    resources: {limits: {cpu: 200m, memory: 64Mi}}
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
---
apiVersion: v1
kind: Pod
metadata: {name: crasher, namespace: ${ns}}
spec:
  containers:
  - name: main
    image: ${busybox}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'exit 3']
    resources: {limits: {cpu: 100m, memory: 32Mi}}
`;
}

beforeAll(async () => {
  if (!canRunLocal) return;
  info = await ensureCluster({ backend: 'local', env: localEnv, images: ['busybox'], reporter: streamReporter(process.stderr, 'it-mon') });
  const st = await clusterStatus({ env: localEnv });
  if (st.monitoring === undefined) throw new Error('cluster status has no monitoring targets');
  mon = st.monitoring;
  k = await kubectlFor(info.kubeconfig);
  await k(['create', 'namespace', ns]);
  await until('default service account', () => k.ok(['-n', ns, 'get', 'sa', 'default']), 30_000);
  await k(['apply', '-f', '-'], manifests(info.images.busybox ?? '', mon.nodeName));
  await k(['-n', ns, 'wait', '--for=condition=Ready', 'pod/sleeper', '--timeout=120s']);
});

afterAll(async () => {
  if (!canRunLocal) return;
  await k(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
});

interface Got {
  readonly status: number;
  readonly body: string;
}

/** GET over HTTP(S), TLS verified against `tls.ca` when given, with an optional client certificate. */
function get(url: string, tls?: { ca: string; cert?: string; key?: string }): Promise<Got> {
  if (url.startsWith('http://')) {
    return fetch(url).then(async (r) => ({ status: r.status, body: await r.text() }));
  }
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        ...(tls === undefined ? {} : { ca: readFileSync(tls.ca) }),
        ...(tls?.cert === undefined ? {} : { cert: readFileSync(tls.cert) }),
        ...(tls?.key === undefined ? {} : { key: readFileSync(tls.key) }),
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The value of the first sample of `metric` whose labels include all of `labels`, or undefined. */
function sample(body: string, metric: string, labels: Record<string, string>): number | undefined {
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const close = line.lastIndexOf('}');
    const lbl = line.slice(metric.length + 1, close);
    if (Object.entries(labels).every(([key, v]) => lbl.includes(`${key}="${v}"`)))
      return Number(
        line
          .slice(close + 1)
          .trim()
          .split(' ')[0],
      );
  }
  return undefined;
}

describe.skipIf(!canRunLocal)('local cluster monitoring', () => {
  it('serves metrics.k8s.io through the aggregation layer: the APIService is Available and kubectl top shows the pod and the node', async () => {
    await until(
      'APIService v1beta1.metrics.k8s.io Available',
      async () =>
        (await k(['get', 'apiservice', 'v1beta1.metrics.k8s.io', '-o', 'jsonpath={.status.conditions[?(@.type=="Available")].status}'])) ===
        'True',
      90_000,
      1000,
    );
    const pm = await until(
      'PodMetrics of the sleeper',
      async () => {
        const raw = await k(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods/sleeper`]).catch(() => undefined);
        return raw === undefined
          ? undefined
          : (JSON.parse(raw) as { containers: { name: string; usage: { cpu: string; memory: string } }[] });
      },
      120_000,
      2000,
    );
    expect(pm.containers.map((c) => c.name)).toEqual(['main']);
    expect(pm.containers[0]?.usage.memory).toMatch(/^\d+Ki$/);
    expect(await k(['top', 'pod', '-n', ns, '--no-headers'])).toMatch(/^sleeper\s+\d+m\s+\d+Mi/m);
    const nodes = await until('kubectl top node', () => k(['top', 'node', '--no-headers']).catch(() => undefined), 60_000, 2000);
    expect(nodes).toMatch(new RegExp(`^${mon.nodeName}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%`, 'm'));
  });

  it('kube-state-metrics serves pod phase, limits, restarts, last termination reason and quotas', async () => {
    const body = await until(
      'the crasher terminated once in kube-state-metrics',
      async () => {
        const r = await get(mon.kubeStateMetrics, mon.tls);
        return r.status === 200 &&
          sample(r.body, 'kube_pod_container_status_last_terminated_reason', { namespace: ns, pod: 'crasher' }) === 1
          ? r.body
          : undefined;
      },
      90_000,
      1000,
    );
    expect(sample(body, 'kube_pod_status_phase', { namespace: ns, pod: 'sleeper', phase: 'Running' })).toBe(1);
    expect(sample(body, 'kube_pod_container_resource_limits', { namespace: ns, pod: 'sleeper', resource: 'memory' })).toBe(
      64 * 1024 * 1024,
    );
    expect(sample(body, 'kube_pod_container_resource_limits', { namespace: ns, pod: 'sleeper', resource: 'cpu' })).toBe(0.2);
    expect(sample(body, 'kube_pod_container_status_last_terminated_reason', { namespace: ns, pod: 'crasher', reason: 'Error' })).toBe(1);
    expect(sample(body, 'kube_pod_container_status_restarts_total', { namespace: ns, pod: 'crasher' })).toBeGreaterThanOrEqual(1);
    expect(sample(body, 'kube_pod_container_status_restarts_total', { namespace: ns, pod: 'sleeper' })).toBe(0);
    expect(sample(body, 'kube_resourcequota', { namespace: ns, resource: 'pods', type: 'hard' })).toBe(10);
    expect(sample(body, 'kube_resourcequota', { namespace: ns, resource: 'pods', type: 'used' })).toBe(2);
    // nothing of Secrets: kube-state-metrics may not even list them
    expect(body).not.toMatch(/^kube_secret_/m);
    // HTTPS admitting the scrape identity only: no client certificate, or another of the cluster CA (admin), is refused
    await expect(get(mon.kubeStateMetrics, { ca: mon.tls.ca })).rejects.toThrow();
    const pki = dirname(mon.tls.cert);
    await expect(
      get(mon.kubeStateMetrics, { ca: mon.tls.ca, cert: join(pki, 'admin.crt'), key: join(pki, 'admin.key') }),
    ).rejects.toThrow();
    expect(await k.ok(['auth', 'can-i', 'list', 'pods', '--as', 'gc-k8s:kube-state-metrics'])).toBe(true);
    expect(await k.ok(['auth', 'can-i', 'list', 'secrets', '--as', 'gc-k8s:kube-state-metrics'])).toBe(false);
  });

  it("the kubelet's cAdvisor and volume metrics, scraped directly with the gc-k8s:prometheus certificate", async () => {
    const cadvisor = await until(
      'cAdvisor has the sleeper',
      async () => {
        const r = await get(mon.kubeletCadvisor, mon.tls);
        return sample(r.body, 'container_memory_working_set_bytes', { namespace: ns, pod: 'sleeper', container: 'main' }) === undefined
          ? undefined
          : r.body;
      },
      60_000,
      1000,
    );
    expect(sample(cadvisor, 'container_cpu_usage_seconds_total', { namespace: ns, pod: 'sleeper', container: 'main' })).toBeGreaterThan(0);
    expect(sample(cadvisor, 'container_memory_working_set_bytes', { namespace: ns, pod: 'sleeper', container: 'main' })).toBeGreaterThan(0);
    // the kubelet computes volume usage every minute or so
    const used = await until(
      'kubelet_volume_stats_used_bytes of the claim',
      async () =>
        sample((await get(mon.kubeletMetrics, mon.tls)).body, 'kubelet_volume_stats_used_bytes', {
          namespace: ns,
          persistentvolumeclaim: 'data',
        }),
      150_000,
      2000,
    );
    expect(used).toBeGreaterThanOrEqual(1024 * 1024);
    // that identity reads metrics only: the kubelet's pod list and exec are refused
    expect((await get(mon.kubeletMetrics.replace(/\/metrics$/, '/pods'), mon.tls)).status).toBe(403);
    // without a client certificate the kubelet answers 401
    expect((await get(mon.kubeletCadvisor, { ca: mon.tls.ca })).status).toBe(401);
    // the same metrics through the API server's node proxy with the admin kubeconfig
    const viaProxy = await k(['get', '--raw', new URL(mon.nodeProxyCadvisor).pathname]);
    expect(sample(viaProxy, 'container_cpu_usage_seconds_total', { namespace: ns, pod: 'sleeper' })).toBeGreaterThan(0);
  });

  it('gives a Prometheus scrape configuration for exactly these targets', () => {
    const jobs = prometheusScrapeConfigs(mon);
    expect(jobs.map((j) => j['job_name'])).toEqual(['kube-state-metrics', 'kubelet', 'kubelet-cadvisor']);
    expect(jobs[2]).toMatchObject({
      scheme: 'https',
      metrics_path: '/metrics/cadvisor',
      tls_config: { ca_file: mon.tls.ca, cert_file: mon.tls.cert, key_file: mon.tls.key },
      // one target per node's kubelet (one node: mon's own)
      static_configs: (mon.nodes ?? [mon]).map((n) => ({ targets: [new URL(n.kubeletCadvisor).host] })),
    });
  });

  it('metrics-server and kube-state-metrics come back after a crash', async () => {
    await restartClusterComponent('metrics-server', { env: localEnv });
    await restartClusterComponent('kube-state-metrics', { env: localEnv });
    const st = await clusterStatus({ env: localEnv });
    for (const c of ['metrics-server', 'kube-state-metrics'])
      expect(st.components.find((x) => x.name === c)).toMatchObject({ alive: true, healthy: true });
    expect(st.monitoring).toEqual(mon);
    await until(
      'metrics.k8s.io after the restart',
      () => k(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods/sleeper`]).catch(() => undefined),
      90_000,
      2000,
    );
    expect((await get(mon.kubeStateMetrics, mon.tls)).status).toBe(200);
  });
});
