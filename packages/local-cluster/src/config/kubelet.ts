// The kubelet's configuration file (config/kubelet.yaml).

export interface KubeletConfigInput {
  readonly nodeIp: string;
  readonly clientCaFile: string;
  readonly tlsCertFile: string;
  readonly tlsPrivateKeyFile: string;
  readonly cgroupRoot: string;
  readonly runtimeSocket: string;
  readonly podLogsDir: string;
  /** the pods' nameserver: CoreDNS on node 1's IP (default nodeIp: node 1 itself) */
  readonly clusterDns?: string;
}

/**
 * The KubeletConfiguration. Its API (exec, logs, pods) authenticates x509 client certs of the
 * cluster CA and bearer tokens (TokenReview), never anonymous callers, and authorizes every
 * request with a SubjectAccessReview (Webhook), as kubeadm configures it.
 */
export function kubeletConfig(i: KubeletConfigInput): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: i.nodeIp,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: i.nodeIp,
    healthzPort: 10248,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: i.clientCaFile } },
    authorization: { mode: 'Webhook' },
    tlsCertFile: i.tlsCertFile,
    tlsPrivateKeyFile: i.tlsPrivateKeyFile,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: i.cgroupRoot,
    cgroupsPerQOS: true,
    failCgroupV1: false,
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${i.runtimeSocket}`,
    imageServiceEndpoint: `unix://${i.runtimeSocket}`,
    protectKernelDefaults: false,
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '2%', 'imagefs.available': '2%', 'nodefs.inodesFree': '2%' },
    clusterDNS: [i.clusterDns ?? i.nodeIp],
    clusterDomain: 'cluster.local',
    resolvConf: '/etc/resolv.conf',
    oomScoreAdj: 0,
    podLogsDir: i.podLogsDir,
    serializeImagePulls: false,
    makeIPTablesUtilChains: false,
    nodeStatusUpdateFrequency: '4s',
    syncFrequency: '10s',
    fileCheckFrequency: '20s',
    maxPods: 110,
  };
}
