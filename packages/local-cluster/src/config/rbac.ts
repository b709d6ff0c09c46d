// RBAC of the cluster's own components (CoreDNS, the provisioner, kube-router, kube-state-metrics, metrics-server,
// a host Prometheus, the API server towards kubelets),
// POSTed by the bootstrap.

import type { ApiObject } from './api-object.js';

export const COREDNS_USER = 'gc-k8s:coredns';
export const PROVISIONER_USER = 'gc-k8s:local-provisioner';
export const KUBE_ROUTER_USER = 'gc-k8s:kube-router';
export const KUBE_STATE_METRICS_USER = 'gc-k8s:kube-state-metrics';
export const METRICS_SERVER_USER = 'gc-k8s:metrics-server';
/** a Prometheus on the host scraping the kubelet (/metrics, /metrics/cadvisor) with pki/prometheus.* */
export const PROMETHEUS_USER = 'gc-k8s:prometheus';
/** CN of the API server's front-proxy client certificate (the aggregation layer), as kubeadm names it */
export const FRONT_PROXY_CLIENT_USER = 'front-proxy-client';

/**
 * What kube-state-metrics lists and watches (its --resources): the state the alerts of
 * contrib/monitoring and a dashboard read, and nothing more (no Secrets, no ConfigMaps).
 */
export const KUBE_STATE_METRICS_RESOURCES: readonly { readonly group: string; readonly resources: readonly string[] }[] = [
  {
    group: '',
    resources: ['pods', 'nodes', 'namespaces', 'resourcequotas', 'limitranges', 'persistentvolumeclaims', 'persistentvolumes', 'services'],
  },
  { group: 'apps', resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'] },
  { group: 'batch', resources: ['jobs', 'cronjobs'] },
  { group: 'storage.k8s.io', resources: ['storageclasses'] },
  { group: 'policy', resources: ['poddisruptionbudgets'] },
];
/** CN of the API server's client certificate towards kubelets (kubeadm's name) */
export const APISERVER_KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';

interface Rule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
}

const CR = '/apis/rbac.authorization.k8s.io/v1/clusterroles';
const CRB = '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings';

function clusterRole(name: string, rules: Rule[]): ApiObject {
  return { path: CR, body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules } };
}

function bindUser(name: string, role: string, user: string): ApiObject {
  return {
    path: CRB,
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    },
  };
}

/** A RoleBinding in `namespace` of the Role `role` (of that namespace) to `user`. */
function bindUserInNamespace(namespace: string, name: string, role: string, user: string): ApiObject {
  return {
    path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`,
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    },
  };
}

/**
 * kube-state-metrics: list/watch of exactly its --resources. metrics-server: upstream's
 * system:metrics-server (the kubelets' /metrics/resource, nodes and pods), TokenReviews and
 * SubjectAccessReviews for its own clients (system:auth-delegator) and the
 * extension-apiserver-authentication ConfigMap (the front proxy's CA). A host Prometheus: the
 * kubelets' /metrics and /metrics/cadvisor (nodes/metrics) and nothing else.
 */
export function monitoringRbac(): ApiObject[] {
  return [
    clusterRole(
      KUBE_STATE_METRICS_USER,
      KUBE_STATE_METRICS_RESOURCES.map((g) => ({ apiGroups: [g.group], resources: [...g.resources], verbs: ['list', 'watch'] })),
    ),
    bindUser(KUBE_STATE_METRICS_USER, KUBE_STATE_METRICS_USER, KUBE_STATE_METRICS_USER),
    clusterRole(METRICS_SERVER_USER, [
      { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
    ]),
    bindUser(METRICS_SERVER_USER, METRICS_SERVER_USER, METRICS_SERVER_USER),
    bindUser(`${METRICS_SERVER_USER}:auth-delegator`, 'system:auth-delegator', METRICS_SERVER_USER),
    bindUserInNamespace(
      'kube-system',
      `${METRICS_SERVER_USER}:auth-reader`,
      'extension-apiserver-authentication-reader',
      METRICS_SERVER_USER,
    ),
    clusterRole(PROMETHEUS_USER, [{ apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] }]),
    bindUser(PROMETHEUS_USER, PROMETHEUS_USER, PROMETHEUS_USER),
  ];
}

/**
 * Least privilege for what runs with certificates of its own: CoreDNS gets upstream's
 * system:coredns rules; the provisioner exactly the calls local-provisioner.mjs makes; the API
 * server's kubelet client system:kubelet-api-admin (exec, logs, port-forward through the kubelets'
 * Webhook authorization), as kubeadm binds it.
 */
export function componentRbac(): ApiObject[] {
  return [
    clusterRole('system:coredns', [
      { apiGroups: [''], resources: ['services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    ]),
    bindUser('system:coredns', 'system:coredns', COREDNS_USER),
    clusterRole(PROVISIONER_USER, [
      { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['list'] },
      { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['list', 'create', 'delete'] },
    ]),
    bindUser(PROVISIONER_USER, PROVISIONER_USER, PROVISIONER_USER),
    // what kube-router's informers watch in firewall-only mode (its own DaemonSet's rules, read-only)
    clusterRole(KUBE_ROUTER_USER, [
      { apiGroups: [''], resources: ['pods', 'namespaces', 'nodes', 'services', 'endpoints'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch'] },
    ]),
    bindUser(KUBE_ROUTER_USER, KUBE_ROUTER_USER, KUBE_ROUTER_USER),
    bindUser('gc-k8s:apiserver-kubelet-client', 'system:kubelet-api-admin', APISERVER_KUBELET_CLIENT_USER),
    ...monitoringRbac(),
  ];
}
