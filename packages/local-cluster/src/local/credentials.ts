// The cluster's certificates (pki.ts), Secrets encryption key and the components' kubeconfigs.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encryptionConfig } from '../config/apiserver.js';
import { kubeconfigYaml } from '../config/kubeconfig.js';
import { kubeStateMetricsWebConfig } from '../config/monitoring.js';
import { yaml } from '../config/yaml.js';
import { netPlan, nodeNetPlan } from '../host.js';
import {
  clusterCertSpecs,
  ensureEncryptionConfig,
  ensureEtcdPki,
  ensureFrontProxyPki,
  ensurePki,
  nodeCertName,
  nodeCertSpecs,
  writeKubeconfig,
} from '../pki.js';
import { nodeLayout, type Layout } from './layout.js';
import { nodeCount, nodeNameOf, type LocalState } from './state.js';

export async function writeKubeconfigs(state: LocalState, l: Layout): Promise<void> {
  const extra = Array.from({ length: nodeCount(state) - 1 }, (_, i) => i + 2);
  const pki = await ensurePki(l.pki, state.name, [
    ...clusterCertSpecs(state.nodeName, netPlan(state.slot)),
    ...extra.flatMap((k) => nodeCertSpecs(nodeNameOf(state, k), nodeNetPlan(state.slot, k), k)),
  ]);
  await ensureEtcdPki(l.pki, state.name, state.nodeName);
  await ensureFrontProxyPki(l.pki, state.name);
  ensureEncryptionConfig(join(l.pki, 'encryption-config.yaml'), encryptionConfig);
  const b64 = (p: string): string => readFileSync(p).toString('base64');
  const kc = (user: string): string => {
    const { cert, key } = pki.cert(user);
    return kubeconfigYaml({ name: state.name, server: state.server, caData: b64(pki.caCert), certData: b64(cert), keyData: b64(key) });
  };
  for (const u of [
    'admin',
    'kube-controller-manager',
    'kube-scheduler',
    'kubelet',
    'kube-proxy',
    'coredns',
    'kube-router',
    'kube-state-metrics',
    'metrics-server',
  ]) {
    writeKubeconfig(join(l.cfg, `${u}.kubeconfig`), kc(u));
  }
  // each further node's kubelet has its own identity (system:node:<node>)
  for (const k of extra) {
    mkdirSync(nodeLayout(l, k).cfg, { recursive: true });
    writeKubeconfig(join(nodeLayout(l, k).cfg, 'kubelet.kubeconfig'), kc(nodeCertName('kubelet', k)));
  }
  writeFileSync(
    join(l.cfg, 'kube-state-metrics-web.yaml'),
    yaml(
      kubeStateMetricsWebConfig({
        certFile: join(l.pki, 'kube-state-metrics-serving.crt'),
        keyFile: join(l.pki, 'kube-state-metrics-serving.key'),
        clientCaFile: pki.caCert,
      }),
    ),
    { mode: 0o600 },
  );
}
