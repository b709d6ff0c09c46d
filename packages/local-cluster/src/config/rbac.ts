// RBAC of the cluster's own components (CoreDNS, the provisioner, kube-router, the API server towards kubelets),
// POSTed by the bootstrap.

import type { ApiObject } from './api-object.js';

export const COREDNS_USER = 'gc-k8s:coredns';
export const PROVISIONER_USER = 'gc-k8s:local-provisioner';
export const KUBE_ROUTER_USER = 'gc-k8s:kube-router';
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
  ];
}
