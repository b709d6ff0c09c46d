// The CNI network of the node's pods (cni/net.d/10-gck.conflist): a bridge per cluster with
// host-local IPAM in the cluster's pod CIDR, masquerading to the node IP, and port mappings.

export interface CniConfigInput {
  /** network name, gckN */
  readonly name: string;
  readonly bridge: string;
  readonly podCidr: string;
  readonly podGateway: string;
  /** host-local IPAM's allocations, under the state dir */
  readonly ipamDataDir: string;
  /**
   * Masquerade pod traffic leaving the pod CIDR (default true: one node). Off on a cluster of
   * several nodes: pod-to-pod traffic between nodes keeps the pod IPs (NetworkPolicies match
   * them), and the host masquerades what leaves the cluster.
   */
  readonly ipMasq?: boolean;
}

export function cniConflist(i: CniConfigInput): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: i.name,
    plugins: [
      {
        type: 'bridge',
        bridge: i.bridge,
        isGateway: true,
        ipMasq: i.ipMasq ?? true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: i.ipamDataDir,
          ranges: [[{ subnet: i.podCidr, gateway: i.podGateway }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  });
}
