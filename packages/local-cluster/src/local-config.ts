// Pure builders of the local cluster's security-relevant configuration (no I/O, unit-tested as
// text): the kubelet's config, the API server's AuthenticationConfiguration and
// EncryptionConfiguration, the nft rulesets of the host and of the node, and the RBAC of the
// cluster's own components. src/local/ writes and applies what these return.

import type { NetPlan } from './host.js';

/** JSON is valid YAML, and every Kubernetes config loader accepts it. */
export function yaml(obj: unknown): string {
  return `${JSON.stringify(obj, null, 2)}\n`;
}

// ---------------------------------------------------------------- kubelet

export interface KubeletConfigInput {
  readonly nodeIp: string;
  readonly clientCaFile: string;
  readonly tlsCertFile: string;
  readonly tlsPrivateKeyFile: string;
  readonly cgroupRoot: string;
  readonly runtimeSocket: string;
  readonly podLogsDir: string;
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
    clusterDNS: [i.nodeIp],
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

// ---------------------------------------------------------------- kube-apiserver

/** The only paths an anonymous client may ask (health probes, ours and anyone's). */
export const ANONYMOUS_PATHS = ['/livez', '/readyz', '/healthz'] as const;

/**
 * AuthenticationConfiguration (apiserver.config.k8s.io/v1, GA in 1.34) for
 * `--authentication-config`: anonymous requests are authenticated only on the health paths, so
 * /version, discovery and every API path answer 401 without credentials.
 */
export function authenticationConfig(): string {
  return yaml({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AuthenticationConfiguration',
    anonymous: { enabled: true, conditions: ANONYMOUS_PATHS.map((path) => ({ path })) },
  });
}

/**
 * EncryptionConfiguration for `--encryption-provider-config`: Secrets are written with secretbox
 * (XSalsa20-Poly1305, 32-byte key); identity stays as the fallback reader of values written
 * before encryption was on.
 */
export function encryptionConfig(keyBase64: string): string {
  return yaml({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'EncryptionConfiguration',
    resources: [{ resources: ['secrets'], providers: [{ secretbox: { keys: [{ name: 'key1', secret: keyBase64 }] } }, { identity: {} }] }],
  });
}

// ---------------------------------------------------------------- nft

export interface HostNftInput {
  readonly plan: NetPlan;
  readonly apiserverPort: number;
  /** nameservers of the host's resolv.conf that are addresses of the host itself (CoreDNS forwards to them) */
  readonly hostDns: readonly string[];
}

/**
 * The host's table for one cluster: masquerade of node/pod egress; reject of un-NATed ClusterIP
 * traffic; and what the node and its pods may reach on the host itself. The CNI bridge
 * masquerades pods to the node IP, so one rule on the veth covers node and pods alike: the API
 * server, (host-local DNS when the host's resolv.conf points at one), replies to what the host
 * opened (kubelet, ClusterIPs, pods); every other host address and port is refused.
 */
export function hostNftRules(i: HostNftInput): string {
  const n = i.plan;
  const on = `iifname "${n.hostIf}"`;
  const dns = i.hostDns.length === 0 ? [] : [`    ${on} ip daddr { ${i.hostDns.join(', ')} } meta l4proto { tcp, udp } th dport 53 accept`];
  return [
    `table ip ${n.nftTable} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr { 10.250.${n.slot}.0/30, ${n.podCidr} } oifname != "${n.hostIf}" masquerade`,
    '  }',
    // a ClusterIP without kube-proxy rules (yet) would bounce between host and node until the TTL
    // runs out, and the stuck conntrack entry would keep even later retries from being DNATed
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    `    ${on} ip daddr ${n.serviceCidr} reject with icmp type host-unreachable`,
    '  }',
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    `    ${on} ct state established,related accept`,
    `    ${on} ip daddr ${n.hostIp} tcp dport ${i.apiserverPort} accept`,
    ...dns,
    `    ${on} reject with icmp type admin-prohibited`,
    '  }',
    '}',
    '',
  ].join('\n');
}

export const NODE_NFT_TABLE = 'gcknode';

/**
 * The node's own table (inside its netns, gone with it). route_localnet=1 there lets a pod that
 * routes 127.0.0.1 via its gateway reach services bound to the node's loopback (containerd's
 * stream server, kube-proxy metrics): CVE-2020-8558. This is the rule kube-proxy/kubelet install
 * as KUBE-FIREWALL: drop packets for 127.0.0.0/8 that did not arrive on lo and were not DNATed.
 */
export function nodeNftRules(): string {
  return [
    `table ip ${NODE_NFT_TABLE} {`,
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    '    iifname != "lo" ip daddr 127.0.0.0/8 ip saddr != 127.0.0.0/8 ct status & dnat == 0 drop',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The nameserver addresses of a resolv.conf text, in order. */
export function parseNameservers(resolvConf: string): string[] {
  const out: string[] = [];
  for (const line of resolvConf.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m?.[1] !== undefined) out.push(m[1]);
  }
  return out;
}

// ---------------------------------------------------------------- RBAC of our components

export const COREDNS_USER = 'gc-k8s:coredns';
export const PROVISIONER_USER = 'gc-k8s:local-provisioner';
/** CN of the API server's client certificate towards kubelets (kubeadm's name) */
export const APISERVER_KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';

export interface ApiObject {
  /** collection path to POST to */
  readonly path: string;
  readonly body: Record<string, unknown>;
}

interface Rule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
}

const CR = '/apis/rbac.authorization.k8s.io/v1/clusterroles';
const CRB = '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings';

function clusterRole(name: string, rules: Rule[]): ApiObject {
  return { path: CR, body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules } };
}

function bindUser(name: string, role: string, user: string): ApiObject {
  return {
    path: CRB,
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    },
  };
}

/**
 * Least privilege for what runs with certificates of its own: CoreDNS gets upstream's
 * system:coredns rules; the provisioner exactly the calls local-provisioner.mjs makes; the API
 * server's kubelet client system:kubelet-api-admin (exec, logs, port-forward through the kubelets'
 * Webhook authorization), as kubeadm binds it.
 */
export function componentRbac(): ApiObject[] {
  return [
    clusterRole('system:coredns', [
      { apiGroups: [''], resources: ['services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    ]),
    bindUser('system:coredns', 'system:coredns', COREDNS_USER),
    clusterRole(PROVISIONER_USER, [
      { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['list'] },
      { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['list', 'create', 'delete'] },
    ]),
    bindUser(PROVISIONER_USER, PROVISIONER_USER, PROVISIONER_USER),
    bindUser('gc-k8s:apiserver-kubelet-client', 'system:kubelet-api-admin', APISERVER_KUBELET_CLIENT_USER),
  ];
}
