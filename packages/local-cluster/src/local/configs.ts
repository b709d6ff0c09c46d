// Writes the components' config files into the state dir (what they read at start), as the pure
// builders of src/config/ make them.

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { netPlan } from '../host.js';
import { PAUSE_REF } from '../images.js';
import { authenticationConfig } from '../config/apiserver.js';
import { cniConflist } from '../config/cni.js';
import { containerdConfig } from '../config/containerd.js';
import { corefile } from '../config/coredns.js';
import { kubeProxyConfig } from '../config/kube-proxy.js';
import { kubeletConfig } from '../config/kubelet.js';
import { yaml } from '../config/yaml.js';
import type { WorktreePaths } from '../names.js';
import { logsDir, type Layout } from './layout.js';
import type { LocalState } from './state.js';

export function writeConfigs(state: LocalState, paths: WorktreePaths, l: Layout): void {
  const n = netPlan(state.slot);
  for (const d of [l.cfg, l.cniConf, join(l.s, 'cni', 'ipam'), l.kubeletDir, l.podLogs, l.run, logsDir(paths)]) {
    mkdirSync(d, { recursive: true });
  }
  // volumes: host users may pass through to a claim's directory (which the kubelet gives the pod's
  // fsGroup) but not list the claims
  mkdirSync(l.pvDir, { recursive: true, mode: 0o711 });
  chmodSync(l.pvDir, 0o711);
  const cfg = (f: string): string => join(l.cfg, f);
  writeFileSync(cfg('authentication-config.yaml'), authenticationConfig());
  writeFileSync(
    cfg('containerd.toml'),
    containerdConfig({
      root: join(l.s, 'containerd'),
      state: join(l.run, 'containerd'),
      socket: l.sock,
      runcRoot: join(l.run, 'runc'),
      cniConfDir: l.cniConf,
      sandboxImage: PAUSE_REF,
    }),
  );
  writeFileSync(
    join(l.cniConf, '10-gck.conflist'),
    cniConflist({
      name: `gck${state.slot}`,
      bridge: n.bridge,
      podCidr: n.podCidr,
      podGateway: n.podGateway,
      ipamDataDir: join(l.s, 'cni', 'ipam'),
    }),
  );
  writeFileSync(
    cfg('kubelet.yaml'),
    yaml(
      kubeletConfig({
        nodeIp: n.nodeIp,
        clientCaFile: join(l.pki, 'ca.crt'),
        tlsCertFile: join(l.pki, 'kubelet-serving.crt'),
        tlsPrivateKeyFile: join(l.pki, 'kubelet-serving.key'),
        cgroupRoot: n.cgroupRoot,
        runtimeSocket: l.sock,
        podLogsDir: l.podLogs,
      }),
    ),
  );
  writeFileSync(
    cfg('kube-proxy.yaml'),
    yaml(kubeProxyConfig({ kubeconfig: cfg('kube-proxy.kubeconfig'), podCidr: n.podCidr, nodeName: state.nodeName, nodeIp: n.nodeIp })),
  );
  writeFileSync(cfg('Corefile'), corefile({ kubeconfig: cfg('coredns.kubeconfig'), context: state.name }));
}
