// The cluster's certificates (pki.ts), Secrets encryption key and the components' kubeconfigs.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encryptionConfig } from '../config/apiserver.js';
import { kubeconfigYaml } from '../config/kubeconfig.js';
import { kubeStateMetricsWebConfig } from '../config/monitoring.js';
import { yaml } from '../config/yaml.js';
import { netPlan } from '../host.js';
import { clusterCertSpecs, ensureEncryptionConfig, ensureEtcdPki, ensureFrontProxyPki, ensurePki, writeKubeconfig } from '../pki.js';
import type { Layout } from './layout.js';
import type { LocalState } from './state.js';

export async function writeKubeconfigs(state: LocalState, l: Layout): Promise<void> {
  const pki = await ensurePki(l.pki, state.name, clusterCertSpecs(state.nodeName, netPlan(state.slot)));
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
