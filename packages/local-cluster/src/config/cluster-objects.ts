// The API objects of a fresh cluster besides RBAC: the StorageClasses of our provisioner and
// the conventional kube-dns Service with an EndpointSlice of CoreDNS on the node.

import type { NetPlan } from '../host.js';
import type { ApiObject } from './api-object.js';

/** The provisioner name of the StorageClass `standard` (scripts/local-provisioner.mjs --name). */
export const PROVISIONER_NAME = 'gc-k8s.io/local-hostpath';

/** The default class binds at once; the second binds when a pod needs it (as cloud disks do). */
export const STORAGE_CLASS = 'standard';
export const WAIT_STORAGE_CLASS = 'standard-wffc';

export function storageClasses(): ApiObject[] {
  const sc = (name: string, mode: 'Immediate' | 'WaitForFirstConsumer', annotations: Record<string, string>): ApiObject => ({
    path: '/apis/storage.k8s.io/v1/storageclasses',
    body: {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name, annotations },
      provisioner: PROVISIONER_NAME,
      reclaimPolicy: 'Delete',
      volumeBindingMode: mode,
    },
  });
  return [
    sc(STORAGE_CLASS, 'Immediate', { 'storageclass.kubernetes.io/is-default-class': 'true' }),
    sc(WAIT_STORAGE_CLASS, 'WaitForFirstConsumer', {}),
  ];
}

/** kube-dns: CoreDNS runs on the node (not in a pod), so its endpoints are the node IP, by hand. */
export function kubeDns(n: NetPlan): ApiObject[] {
  return [
    {
      path: '/api/v1/namespaces/kube-system/services',
      body: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
        spec: {
          clusterIP: n.dnsServiceIp,
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
            { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          ],
        },
      },
    },
    {
      path: '/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices',
      body: {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: 'kube-dns-node',
          namespace: 'kube-system',
          labels: { 'kubernetes.io/service-name': 'kube-dns', 'endpointslice.kubernetes.io/managed-by': 'gc-k8s' },
        },
        addressType: 'IPv4',
        endpoints: [{ addresses: [n.nodeIp], conditions: { ready: true } }],
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
      },
    },
  ];
}
