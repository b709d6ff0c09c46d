// Writes the components' config files into the state dir (what they read at start), as the pure
// builders of src/config/ make them.

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { netPlan, nodeNetPlan } from '../host.js';
import { PAUSE_REF } from '../images.js';
import { authenticationConfig } from '../config/apiserver.js';
import { cniConflist } from '../config/cni.js';
import { containerdConfig } from '../config/containerd.js';
import { corefile } from '../config/coredns.js';
import { kubeProxyConfig } from '../config/kube-proxy.js';
import { kubeletConfig } from '../config/kubelet.js';
import { yaml } from '../config/yaml.js';
import type { WorktreePaths } from '../names.js';
import { nodeCertName } from '../pki.js';
import { logsDir, nodeLayout, type Layout } from './layout.js';
import { nodeCount, nodeNameOf, type LocalState } from './state.js';

export function writeConfigs(state: LocalState, paths: WorktreePaths, l: Layout): void {
  for (const d of [l.cfg, l.cniConf, join(l.s, 'cni', 'ipam'), l.kubeletDir, l.podLogs, l.run, logsDir(paths)]) {
    mkdirSync(d, { recursive: true });
  }
  // volumes: host users may pass through to a claim's directory (which the kubelet gives the pod's
  // fsGroup) but not list the claims
  mkdirSync(l.pvDir, { recursive: true, mode: 0o711 });
  chmodSync(l.pvDir, 0o711);
  const cfg = (f: string): string => join(l.cfg, f);
  writeFileSync(cfg('authentication-config.yaml'), authenticationConfig());
  for (let k = 1; k <= nodeCount(state); k++) writeNodeConfigs(state, l, k);
  writeFileSync(cfg('Corefile'), corefile({ kubeconfig: cfg('coredns.kubeconfig'), context: state.name }));
}

/** The config files of node k's containerd, CNI, kubelet and kube-proxy (node 1's in the cluster's config dir). */
function writeNodeConfigs(state: LocalState, l: Layout, k: number): void {
  const n = nodeNetPlan(state.slot, k);
  const nl = nodeLayout(l, k);
  for (const d of [nl.cfg, nl.cniConf, nl.cniIpam, nl.kubeletDir, nl.podLogs]) mkdirSync(d, { recursive: true });
  const cfg = (f: string): string => join(nl.cfg, f);
  const several = nodeCount(state) > 1;
  writeFileSync(
    cfg('containerd.toml'),
    containerdConfig({
      root: nl.containerdRoot,
      state: nl.containerdState,
      socket: nl.sock,
      runcRoot: nl.runcRoot,
      cniConfDir: nl.cniConf,
      sandboxImage: PAUSE_REF,
    }),
  );
  writeFileSync(
    join(nl.cniConf, '10-gck.conflist'),
    cniConflist({
      name: `gck${state.slot}`,
      bridge: n.bridge,
      podCidr: n.podCidr,
      podGateway: n.podGateway,
      ipamDataDir: nl.cniIpam,
      ...(several ? { ipMasq: false } : {}),
    }),
  );
  writeFileSync(
    cfg('kubelet.yaml'),
    yaml(
      kubeletConfig({
        nodeIp: n.nodeIp,
        clientCaFile: join(l.pki, 'ca.crt'),
        tlsCertFile: join(l.pki, `${nodeCertName('kubelet-serving', k)}.crt`),
        tlsPrivateKeyFile: join(l.pki, `${nodeCertName('kubelet-serving', k)}.key`),
        cgroupRoot: n.cgroupRoot,
        runtimeSocket: nl.sock,
        podLogsDir: nl.podLogs,
        // CoreDNS runs on node 1
        clusterDns: netPlan(state.slot).nodeIp,
      }),
    ),
  );
  writeFileSync(
    cfg('kube-proxy.yaml'),
    yaml(
      kubeProxyConfig({
        kubeconfig: join(l.cfg, 'kube-proxy.kubeconfig'),
        podCidr: n.podCidr,
        nodeName: nodeNameOf(state, k),
        nodeIp: n.nodeIp,
      }),
    ),
  );
}
