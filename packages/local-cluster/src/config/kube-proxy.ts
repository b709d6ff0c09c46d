// kube-proxy's configuration (config/kube-proxy.yaml): iptables mode inside the node's netns,
// health on the node IP, metrics on the netns's loopback, no localhost NodePorts.

export interface KubeProxyConfigInput {
  readonly kubeconfig: string;
  readonly podCidr: string;
  readonly nodeName: string;
  readonly nodeIp: string;
}

/** conntrack at 0: leave the limits as they are (kube-proxy in a netns must not change the host's). */
export function kubeProxyConfig(i: KubeProxyConfigInput): Record<string, unknown> {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: i.kubeconfig },
    mode: 'iptables',
    clusterCIDR: i.podCidr,
    hostnameOverride: i.nodeName,
    bindAddress: i.nodeIp,
    healthzBindAddress: `${i.nodeIp}:10256`,
    metricsBindAddress: '127.0.0.1:10249',
    oomScoreAdj: 0,
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    iptables: { localhostNodePorts: false, syncPeriod: '30s', minSyncPeriod: '0s' },
  };
}
