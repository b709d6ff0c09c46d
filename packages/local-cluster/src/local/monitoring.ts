// Where a Prometheus on the host scrapes a local cluster: kube-state-metrics (HTTPS on the host's
// loopback), the kubelet's /metrics, /metrics/cadvisor and /metrics/resource (HTTPS on the node
// IP), both with one client certificate of its own (the kubelet lets it get nodes/metrics only,
// kube-state-metrics admits no other), and the same kubelet paths through the API server's node
// proxy (admin kubeconfig).

import { join } from 'node:path';
import { netPlan, nodeNetPlans } from '../host.js';
import type { Layout } from './layout.js';
import { monitoringPorts, nodeCount, nodeNameOf, type LocalState } from './state.js';

/** The kubelet's HTTPS port (KubeletConfiguration port) */
const KUBELET_PORT = 10250;

export interface ScrapeTls {
  /** the cluster CA: verifies the kubelet's and kube-state-metrics' serving certificates */
  readonly ca: string;
  /** client certificate and key of user gc-k8s:prometheus (ClusterRole: get nodes/metrics; SAN gc-k8s-prometheus) */
  readonly cert: string;
  readonly key: string;
}

export interface MonitoringTargets {
  readonly nodeName: string;
  /** kube-state-metrics' metrics: `https://127.0.0.1:<port>/metrics` (loopback only), with `tls` */
  readonly kubeStateMetrics: string;
  /** kube-state-metrics' own metrics (same listener rules) */
  readonly kubeStateMetricsTelemetry: string;
  /** the kubelet: `https://<node IP>:10250/metrics` (kubelet_volume_stats_*, …) with `tls` */
  readonly kubeletMetrics: string;
  /** `https://<node IP>:10250/metrics/cadvisor` (container_cpu_usage_seconds_total, container_memory_working_set_bytes, …) */
  readonly kubeletCadvisor: string;
  /** `https://<node IP>:10250/metrics/resource` (what metrics-server reads) */
  readonly kubeletResource: string;
  /** the scrape identity for kube-state-metrics and the kubelet */
  readonly tls: ScrapeTls;
  /** the same as kubeletCadvisor through the API server's node proxy: needs nodes/proxy (the admin kubeconfig) */
  readonly nodeProxyCadvisor: string;
  /** the same as kubeletMetrics through the node proxy */
  readonly nodeProxyMetrics: string;
  /** metrics-server's own address (the backend of APIService v1beta1.metrics.k8s.io; clients use the API server) */
  readonly metricsServer: string;
  /** every node's kubelet (node 1's are the fields above), on a cluster of several nodes only */
  readonly nodes?: readonly KubeletTargets[];
}

/** One node's kubelet endpoints (same identity and CA as `tls`). */
export interface KubeletTargets {
  readonly nodeName: string;
  readonly kubeletMetrics: string;
  readonly kubeletCadvisor: string;
  readonly kubeletResource: string;
}

/** The scrape targets of a cluster, or undefined for one made before its monitoring ports (until its repair). */
export function monitoringTargets(state: LocalState, l: Layout): MonitoringTargets | undefined {
  const p = monitoringPorts(state.ports);
  if (p === undefined) return undefined;
  const n = netPlan(state.slot);
  const kubelet = `https://${n.nodeIp}:${KUBELET_PORT}`;
  const nodes: KubeletTargets[] = nodeNetPlans(state.slot, nodeCount(state)).map((p, i) => ({
    nodeName: nodeNameOf(state, i + 1),
    kubeletMetrics: `https://${p.nodeIp}:${KUBELET_PORT}/metrics`,
    kubeletCadvisor: `https://${p.nodeIp}:${KUBELET_PORT}/metrics/cadvisor`,
    kubeletResource: `https://${p.nodeIp}:${KUBELET_PORT}/metrics/resource`,
  }));
  const proxy = `${state.server}/api/v1/nodes/${state.nodeName}/proxy`;
  return {
    nodeName: state.nodeName,
    kubeStateMetrics: `https://127.0.0.1:${p.kubeStateMetrics}/metrics`,
    kubeStateMetricsTelemetry: `https://127.0.0.1:${p.kubeStateMetricsTelemetry}/metrics`,
    kubeletMetrics: `${kubelet}/metrics`,
    kubeletCadvisor: `${kubelet}/metrics/cadvisor`,
    kubeletResource: `${kubelet}/metrics/resource`,
    tls: { ca: join(l.pki, 'ca.crt'), cert: join(l.pki, 'prometheus.crt'), key: join(l.pki, 'prometheus.key') },
    nodeProxyCadvisor: `${proxy}/metrics/cadvisor`,
    nodeProxyMetrics: `${proxy}/metrics`,
    metricsServer: `https://${n.hostIp}:${p.metricsServer}`,
    ...(nodes.length > 1 ? { nodes } : {}),
  };
}

/**
 * Prometheus `scrape_configs` for these targets (jobs kube-state-metrics, kubelet, kubelet-cadvisor),
 * as an object to serialize into prometheus.yml.
 */
export function prometheusScrapeConfigs(t: MonitoringTargets, scrapeInterval = '15s'): Record<string, unknown>[] {
  const hostPort = (url: string): string => new URL(url).host;
  const path = (url: string): string => new URL(url).pathname;
  const tls = { ca_file: t.tls.ca, cert_file: t.tls.cert, key_file: t.tls.key };
  const labels = { node: t.nodeName };
  // one target per node's kubelet (a cluster of several nodes), labelled with its node
  const kubelets = (url: (k: KubeletTargets) => string): Record<string, unknown>[] =>
    t.nodes === undefined
      ? [{ targets: [hostPort(url(t))], labels }]
      : t.nodes.map((k) => ({ targets: [hostPort(url(k))], labels: { node: k.nodeName } }));
  return [
    {
      job_name: 'kube-state-metrics',
      scrape_interval: scrapeInterval,
      // keep the pod's namespace and name rather than the target's
      honor_labels: true,
      scheme: 'https',
      metrics_path: path(t.kubeStateMetrics),
      tls_config: tls,
      static_configs: [{ targets: [hostPort(t.kubeStateMetrics)] }],
    },
    {
      job_name: 'kubelet',
      scrape_interval: scrapeInterval,
      scheme: 'https',
      metrics_path: path(t.kubeletMetrics),
      tls_config: tls,
      static_configs: kubelets((k) => k.kubeletMetrics),
    },
    {
      job_name: 'kubelet-cadvisor',
      scrape_interval: scrapeInterval,
      scheme: 'https',
      honor_labels: true,
      metrics_path: path(t.kubeletCadvisor),
      tls_config: tls,
      static_configs: kubelets((k) => k.kubeletCadvisor),
    },
  ];
}
