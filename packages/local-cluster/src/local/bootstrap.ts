// The API objects a fresh cluster needs: RBAC of our components, the default StorageClass and the
// kube-dns Service backed by CoreDNS on the node.

import { netPlan } from '../host.js';
import { KubeClient } from '../kube/client.js';
import { componentRbac } from '../local-config.js';
import { PROVISIONER_NAME } from './components.js';
import type { LocalState } from './state.js';

export async function bootstrapObjects(api: KubeClient, state: LocalState): Promise<void> {
  const n = netPlan(state.slot);
  for (const o of componentRbac()) await api.ensure(o.path, o.body);
  await api.ensure('/apis/storage.k8s.io/v1/storageclasses', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: PROVISIONER_NAME,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'Immediate',
  });
  // kube-dns: the conventional Service name, backed by CoreDNS on the node
  await api.ensure('/api/v1/namespaces/kube-system/services', {
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
  });
  await api.ensure('/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices', {
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
  });
}

export interface NodeObj {
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}
