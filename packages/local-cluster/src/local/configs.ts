// Writes the components' config files into the state dir (what they read at start).

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { netPlan } from '../host.js';
import { PAUSE_REF } from '../images.js';
import { authenticationConfig, kubeletConfig, yaml } from '../local-config.js';
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
  writeFileSync(join(l.cfg, 'authentication-config.yaml'), authenticationConfig());
  const ctrRoot = join(l.s, 'containerd');
  writeFileSync(
    join(l.cfg, 'containerd.toml'),
    [
      'version = 3',
      `root = '${ctrRoot}'`,
      `state = '${join(l.run, 'containerd')}'`,
      "disabled_plugins = ['io.containerd.snapshotter.v1.btrfs', 'io.containerd.snapshotter.v1.zfs', 'io.containerd.snapshotter.v1.devmapper', 'io.containerd.snapshotter.v1.aufs', 'io.containerd.snapshotter.v1.erofs', 'io.containerd.snapshotter.v1.blockfile', 'io.containerd.nri.v1.nri', 'io.containerd.tracing.processor.v1.otlp', 'io.containerd.internal.v1.tracing']",
      '[grpc]',
      `  address = '${l.sock}'`,
      '[plugins]',
      "  [plugins.'io.containerd.cri.v1.images']",
      "    snapshotter = 'overlayfs'",
      "    [plugins.'io.containerd.cri.v1.images'.pinned_images]",
      `      sandbox = '${PAUSE_REF}'`,
      "  [plugins.'io.containerd.cri.v1.runtime']",
      '    restrict_oom_score_adj = true',
      '    netns_mounts_under_state_dir = true',
      '    enable_selinux = false',
      "    [plugins.'io.containerd.cri.v1.runtime'.containerd]",
      "      default_runtime_name = 'runc'",
      "      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]",
      "        runtime_type = 'io.containerd.runc.v2'",
      "        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]",
      '          SystemdCgroup = false',
      "          BinaryName = '/usr/sbin/runc'",
      `          Root = '${join(l.run, 'runc')}'`,
      "    [plugins.'io.containerd.cri.v1.runtime'.cni]",
      "      bin_dirs = ['/usr/lib/cni']",
      `      conf_dir = '${l.cniConf}'`,
      "  [plugins.'io.containerd.grpc.v1.cri']",
      "    stream_server_address = '127.0.0.1'",
      "    stream_server_port = '0'",
      "  [plugins.'io.containerd.internal.v1.opt']",
      `    path = '${join(ctrRoot, 'opt')}'`,
      "  [plugins.'io.containerd.image-verifier.v1.bindir']",
      `    bin_dir = '${join(ctrRoot, 'image-verifier')}'`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(l.cniConf, '10-gck.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name: `gck${state.slot}`,
      plugins: [
        {
          type: 'bridge',
          bridge: n.bridge,
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: join(l.s, 'cni', 'ipam'),
            ranges: [[{ subnet: n.podCidr, gateway: n.podGateway }]],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }),
  );
  writeFileSync(
    join(l.cfg, 'kubelet.yaml'),
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
    join(l.cfg, 'kube-proxy.yaml'),
    yaml({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      clientConnection: { kubeconfig: join(l.cfg, 'kube-proxy.kubeconfig') },
      mode: 'iptables',
      clusterCIDR: n.podCidr,
      hostnameOverride: state.nodeName,
      bindAddress: n.nodeIp,
      healthzBindAddress: `${n.nodeIp}:10256`,
      metricsBindAddress: '127.0.0.1:10249',
      oomScoreAdj: 0,
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
      iptables: { localhostNodePorts: false, syncPeriod: '30s', minSyncPeriod: '0s' },
    }),
  );
  writeFileSync(
    join(l.cfg, 'Corefile'),
    [
      '.:53 {',
      '    errors',
      '    health :8080',
      '    ready :8181',
      `    kubernetes cluster.local in-addr.arpa ip6.arpa {`,
      `        kubeconfig ${join(l.cfg, 'coredns.kubeconfig')} ${state.name}`,
      '        pods insecure',
      '        fallthrough in-addr.arpa ip6.arpa',
      '        ttl 5',
      '    }',
      '    forward . /etc/resolv.conf',
      '    cache 10',
      '    loadbalance',
      '}',
      '',
    ].join('\n'),
  );
}
