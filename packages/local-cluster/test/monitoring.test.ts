// The monitoring pieces of the local cluster as pure builders make them for a fixed cluster
// (slot 3, worktree /wt): metrics-server's APIService objects, the scrape targets and the
// Prometheus scrape configuration, the least-privilege RBAC, and a state made before them.
import { describe, expect, it } from 'vitest';
import { kubeStateMetricsWebConfig, metricsServerObjects } from '../src/config/monitoring.js';
import { KUBE_STATE_METRICS_RESOURCES, componentRbac, monitoringRbac } from '../src/config/rbac.js';
import { componentCommand } from '../src/local/commands.js';
import { monitoringObjects } from '../src/local/bootstrap.js';
import { layout } from '../src/local/layout.js';
import { monitoringTargets, prometheusScrapeConfigs } from '../src/local/monitoring.js';
import { probes } from '../src/local/probes.js';
import { STATE_VERSION, monitoringPorts, type LocalState } from '../src/local/state.js';

const paths = {
  worktree: '/wt',
  name: 'gck-wt-abc123',
  stateDir: '/wt/.gc-k8s/cluster',
  kubeconfig: '/wt/.kube/config',
  envrc: '/wt/.envrc',
};
const l = layout(paths);
const base = { etcd: 24000, etcdPeer: 24001, apiserver: 24002, controllerManager: 24003, scheduler: 24004 };
const stateWith = (ports: LocalState['ports']): LocalState => ({
  version: STATE_VERSION,
  backend: 'local',
  name: paths.name,
  worktree: '/wt',
  stateDir: paths.stateDir,
  slot: 3,
  ports,
  nodeName: paths.name,
  server: 'https://10.250.3.1:24002',
  containerdBin: '/cache/containerd/bin',
  pids: {},
  images: {},
  phase: 'running',
  createdAt: '2025-01-01T00:00:00.000Z',
});
const current = stateWith({ ...base, kubeStateMetrics: 24005, kubeStateMetricsTelemetry: 24006, metricsServer: 24007 });
const older = stateWith(base);

describe('monitoring of the local cluster', () => {
  it('scrape targets: kube-state-metrics on loopback, the kubelet on the node IP, both with the prometheus identity', () => {
    expect(monitoringTargets(current, l)).toEqual({
      nodeName: 'gck-wt-abc123',
      kubeStateMetrics: 'https://127.0.0.1:24005/metrics',
      kubeStateMetricsTelemetry: 'https://127.0.0.1:24006/metrics',
      kubeletMetrics: 'https://10.250.3.2:10250/metrics',
      kubeletCadvisor: 'https://10.250.3.2:10250/metrics/cadvisor',
      kubeletResource: 'https://10.250.3.2:10250/metrics/resource',
      tls: {
        ca: '/wt/.gc-k8s/cluster/pki/ca.crt',
        cert: '/wt/.gc-k8s/cluster/pki/prometheus.crt',
        key: '/wt/.gc-k8s/cluster/pki/prometheus.key',
      },
      nodeProxyCadvisor: 'https://10.250.3.1:24002/api/v1/nodes/gck-wt-abc123/proxy/metrics/cadvisor',
      nodeProxyMetrics: 'https://10.250.3.1:24002/api/v1/nodes/gck-wt-abc123/proxy/metrics',
      metricsServer: 'https://10.250.3.1:24007',
    });
  });

  it('a Prometheus scrape configuration of those targets', () => {
    const t = monitoringTargets(current, l);
    if (t === undefined) throw new Error('no targets');
    expect(prometheusScrapeConfigs(t, '5s')).toMatchInlineSnapshot(`
      [
        {
          "honor_labels": true,
          "job_name": "kube-state-metrics",
          "metrics_path": "/metrics",
          "scheme": "https",
          "scrape_interval": "5s",
          "static_configs": [
            {
              "targets": [
                "127.0.0.1:24005",
              ],
            },
          ],
          "tls_config": {
            "ca_file": "/wt/.gc-k8s/cluster/pki/ca.crt",
            "cert_file": "/wt/.gc-k8s/cluster/pki/prometheus.crt",
            "key_file": "/wt/.gc-k8s/cluster/pki/prometheus.key",
          },
        },
        {
          "job_name": "kubelet",
          "metrics_path": "/metrics",
          "scheme": "https",
          "scrape_interval": "5s",
          "static_configs": [
            {
              "labels": {
                "node": "gck-wt-abc123",
              },
              "targets": [
                "10.250.3.2:10250",
              ],
            },
          ],
          "tls_config": {
            "ca_file": "/wt/.gc-k8s/cluster/pki/ca.crt",
            "cert_file": "/wt/.gc-k8s/cluster/pki/prometheus.crt",
            "key_file": "/wt/.gc-k8s/cluster/pki/prometheus.key",
          },
        },
        {
          "honor_labels": true,
          "job_name": "kubelet-cadvisor",
          "metrics_path": "/metrics/cadvisor",
          "scheme": "https",
          "scrape_interval": "5s",
          "static_configs": [
            {
              "labels": {
                "node": "gck-wt-abc123",
              },
              "targets": [
                "10.250.3.2:10250",
              ],
            },
          ],
          "tls_config": {
            "ca_file": "/wt/.gc-k8s/cluster/pki/ca.crt",
            "cert_file": "/wt/.gc-k8s/cluster/pki/prometheus.crt",
            "key_file": "/wt/.gc-k8s/cluster/pki/prometheus.key",
          },
        },
      ]
    `);
  });

  it("metrics.k8s.io: a selector-less Service whose EndpointSlice is metrics-server's host address, TLS verified with the cluster CA", () => {
    const [svc, slice, apiService] = metricsServerObjects({ ip: '10.250.3.1', port: 24007, caBundle: 'Q0E=' });
    expect(svc?.body).toMatchObject({ kind: 'Service', metadata: { name: 'metrics-server', namespace: 'kube-system' } });
    expect(svc?.body).not.toHaveProperty('spec.selector');
    expect(slice?.body).toMatchObject({
      metadata: { labels: { 'kubernetes.io/service-name': 'metrics-server' } },
      endpoints: [{ addresses: ['10.250.3.1'] }],
      ports: [{ name: 'https', port: 24007 }],
    });
    expect(apiService).toEqual({
      path: '/apis/apiregistration.k8s.io/v1/apiservices',
      body: expect.objectContaining({
        metadata: { name: 'v1beta1.metrics.k8s.io', labels: { 'k8s-app': 'metrics-server' } },
        spec: expect.objectContaining({ group: 'metrics.k8s.io', version: 'v1beta1', caBundle: 'Q0E=' }) as unknown,
      }) as unknown,
    });
    expect(JSON.stringify(apiService)).not.toMatch(/insecureSkipTLSVerify/);
  });

  it('least privilege: read-only roles, no Secrets or ConfigMaps for kube-state-metrics, kubelet metrics only for Prometheus', () => {
    const roles = monitoringRbac().filter((o) => (o.body as { kind: string }).kind === 'ClusterRole');
    const rules = roles.flatMap((r) => (r.body as { rules: { resources: string[]; verbs: string[] }[] }).rules);
    expect(new Set(rules.flatMap((r) => r.verbs))).toEqual(new Set(['get', 'list', 'watch']));
    expect(rules.flatMap((r) => r.resources)).not.toContain('secrets');
    expect(KUBE_STATE_METRICS_RESOURCES.flatMap((g) => g.resources)).not.toContain('configmaps');
    const prometheus = roles.find((r) => (r.body as { metadata: { name: string } }).metadata.name === 'gc-k8s:prometheus');
    expect((prometheus?.body as { rules: unknown }).rules).toEqual([{ apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] }]);
    // part of what the bootstrap creates
    for (const o of monitoringRbac()) expect(componentRbac()).toContainEqual(o);
    // kube-state-metrics enables exactly the resources its role lists
    const ksm = componentCommand('kube-state-metrics', current, l, {
      k8s: '',
      etcd: '',
      coredns: '',
      kubeRouter: '',
      kubeStateMetrics: '/ksm',
      metricsServer: '',
      node: '',
      provisioner: '',
    });
    expect(ksm.args).toContain(`--resources=${KUBE_STATE_METRICS_RESOURCES.flatMap((g) => g.resources).join(',')}`);
    expect(ksm.args).toContain('--host=127.0.0.1');
    expect(ksm.args).toContain('--tls-config=/wt/.gc-k8s/cluster/config/kube-state-metrics-web.yaml');
    expect(kubeStateMetricsWebConfig({ certFile: '/p/s.crt', keyFile: '/p/s.key', clientCaFile: '/p/ca.crt' })).toEqual({
      tls_server_config: {
        cert_file: '/p/s.crt',
        key_file: '/p/s.key',
        client_ca_file: '/p/ca.crt',
        client_auth_type: 'RequireAndVerifyClientCert',
        client_allowed_sans: ['gc-k8s-prometheus'],
        min_version: 'TLS12',
      },
    });
    expect(ksm.args).toContain('--telemetry-host=127.0.0.1');
  });

  it('a cluster made before the monitoring components: no ports, targets, objects or healthy probes until its repair', async () => {
    expect(monitoringPorts(older.ports)).toBeUndefined();
    expect(monitoringTargets(older, l)).toBeUndefined();
    expect(monitoringObjects(older, l)).toEqual([]);
    const pr = probes(older, paths);
    expect(pr['metrics-server'].endpoint).toBe('(no port yet)');
    expect(await pr['kube-state-metrics'].check()).toBe(false);
    expect(() =>
      componentCommand('metrics-server', older, l, {
        k8s: '',
        etcd: '',
        coredns: '',
        kubeRouter: '',
        kubeStateMetrics: '',
        metricsServer: '/ms',
        node: '',
        provisioner: '',
      }),
    ).toThrow(/no monitoring ports/);
    expect(monitoringPorts(current.ports)).toEqual({ kubeStateMetrics: 24005, kubeStateMetricsTelemetry: 24006, metricsServer: 24007 });
    expect(probes(current, paths)['metrics-server'].endpoint).toBe('https://10.250.3.1:24007/livez');
  });
});
