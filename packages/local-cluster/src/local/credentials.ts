// The cluster's certificates (pki.ts), Secrets encryption key and the components' kubeconfigs.

import { join } from 'node:path';
import { netPlan } from '../host.js';
import { APISERVER_KUBELET_CLIENT_USER, COREDNS_USER, PROVISIONER_USER, encryptionConfig } from '../local-config.js';
import { ensureEncryptionConfig, ensureEtcdPki, ensurePki, kubeconfigYaml, writeKubeconfig } from '../pki.js';
import type { Layout } from './layout.js';
import type { LocalState } from './state.js';

export async function writeKubeconfigs(state: LocalState, l: Layout): Promise<void> {
  const n = netPlan(state.slot);
  const sans = [
    n.hostIp, '127.0.0.1', n.kubernetesServiceIp, 'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
  ];
  const pki = await ensurePki(l.pki, state.name, [
    { name: 'apiserver', cn: 'kube-apiserver', sans, server: true },
    // not system:masters: the kubelets authorize it through RBAC (system:kubelet-api-admin)
    { name: 'apiserver-kubelet-client', cn: APISERVER_KUBELET_CLIENT_USER },
    { name: 'admin', cn: 'gc-k8s-admin', org: 'system:masters' },
    { name: 'kube-controller-manager', cn: 'system:kube-controller-manager' },
    { name: 'kube-scheduler', cn: 'system:kube-scheduler' },
    { name: 'kubelet', cn: `system:node:${state.nodeName}`, org: 'system:nodes' },
    { name: 'kubelet-serving', cn: state.nodeName, sans: [n.nodeIp, state.nodeName], server: true },
    { name: 'kube-proxy', cn: 'system:kube-proxy' },
    { name: 'coredns', cn: COREDNS_USER },
    { name: 'local-provisioner', cn: PROVISIONER_USER },
  ]);
  await ensureEtcdPki(l.pki, state.name, state.nodeName);
  ensureEncryptionConfig(join(l.pki, 'encryption-config.yaml'), encryptionConfig);
  const kc = (user: string): string =>
    kubeconfigYaml({ name: state.name, server: state.server, caCert: pki.caCert, ...pki.cert(user) });
  for (const u of ['admin', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'coredns']) {
    writeKubeconfig(join(l.cfg, `${u}.kubeconfig`), kc(u));
  }
}
