// The API objects and names of the cluster's monitoring: metrics-server runs on the host (not in
// a pod), so the metrics.k8s.io APIService points at a selector-less Service whose EndpointSlice
// is the host end of the veth; the API server (--enable-aggregator-routing) dials that address.

import type { ApiObject } from './api-object.js';

export const METRICS_SERVER_SERVICE = 'metrics-server';
export const METRICS_SERVER_NAMESPACE = 'kube-system';
/** the name the API server checks metrics-server's serving certificate against (<service>.<namespace>.svc) */
export const METRICS_SERVER_DNS_NAME = `${METRICS_SERVER_SERVICE}.${METRICS_SERVER_NAMESPACE}.svc`;

export interface MetricsServerEndpoint {
  /** where metrics-server listens: the host end of the cluster's veth */
  readonly ip: string;
  readonly port: number;
  /** base64 of the CA that signed metrics-server's serving certificate (the cluster CA) */
  readonly caBundle: string;
}

/** The Service, its EndpointSlice and the APIService v1beta1.metrics.k8s.io (TLS verified with caBundle). */
export function metricsServerObjects(e: MetricsServerEndpoint): ApiObject[] {
  const labels = { 'k8s-app': 'metrics-server' };
  return [
    {
      path: `/api/v1/namespaces/${METRICS_SERVER_NAMESPACE}/services`,
      body: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: METRICS_SERVER_SERVICE, namespace: METRICS_SERVER_NAMESPACE, labels },
        spec: { ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: e.port }] },
      },
    },
    {
      path: `/apis/discovery.k8s.io/v1/namespaces/${METRICS_SERVER_NAMESPACE}/endpointslices`,
      body: {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: `${METRICS_SERVER_SERVICE}-host`,
          namespace: METRICS_SERVER_NAMESPACE,
          labels: { ...labels, 'kubernetes.io/service-name': METRICS_SERVER_SERVICE, 'endpointslice.kubernetes.io/managed-by': 'gc-k8s' },
        },
        addressType: 'IPv4',
        endpoints: [{ addresses: [e.ip], conditions: { ready: true } }],
        ports: [{ name: 'https', port: e.port, protocol: 'TCP' }],
      },
    },
    {
      path: '/apis/apiregistration.k8s.io/v1/apiservices',
      body: {
        apiVersion: 'apiregistration.k8s.io/v1',
        kind: 'APIService',
        metadata: { name: 'v1beta1.metrics.k8s.io', labels },
        spec: {
          group: 'metrics.k8s.io',
          version: 'v1beta1',
          service: { name: METRICS_SERVER_SERVICE, namespace: METRICS_SERVER_NAMESPACE, port: 443 },
          caBundle: e.caBundle,
          groupPriorityMinimum: 100,
          versionPriority: 100,
        },
      },
    },
  ];
}

/** the DNS SAN of the scrape identity's client certificate (pki/prometheus.crt), the one kube-state-metrics admits */
export const PROMETHEUS_CLIENT_SAN = 'gc-k8s-prometheus';

export interface KubeStateMetricsTls {
  readonly certFile: string;
  readonly keyFile: string;
  /** the cluster CA: client certificates must be signed by it */
  readonly clientCaFile: string;
}

/**
 * kube-state-metrics' web config (exporter-toolkit, --tls-config): HTTPS only, and only a client
 * certificate of the cluster CA with the scrape identity's SAN is admitted (no local user without
 * pki/prometheus.key reads the cluster's state from its loopback listener).
 */
export function kubeStateMetricsWebConfig(t: KubeStateMetricsTls): Record<string, unknown> {
  return {
    tls_server_config: {
      cert_file: t.certFile,
      key_file: t.keyFile,
      client_ca_file: t.clientCaFile,
      client_auth_type: 'RequireAndVerifyClientCert',
      client_allowed_sans: [PROMETHEUS_CLIENT_SAN],
      min_version: 'TLS12',
    },
  };
}
