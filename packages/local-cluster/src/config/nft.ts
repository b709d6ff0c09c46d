// The nft rulesets of the host (one table per cluster) and of the node (inside its netns).

import type { NetPlan } from '../host.js';

export interface HostNftInput {
  readonly plan: NetPlan;
  readonly apiserverPort: number;
  /** nameservers of the host's resolv.conf that are addresses of the host itself (CoreDNS forwards to them) */
  readonly hostDns: readonly string[];
  /** every node of the cluster, node 1 (`plan`) first; absent: `plan` alone */
  readonly nodes?: readonly NetPlan[];
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
  const nodes = i.nodes ?? [n];
  // one node: its veth; several: the set of their veths (traffic between nodes is not NATed)
  const ifs = nodes.length === 1 ? `"${n.hostIf}"` : `{ ${nodes.map((x) => `"${x.hostIf}"`).join(', ')} }`;
  const sources = [
    ...nodes.map((x) => `${x.hostIp.replace(/\.\d+$/, '')}.${String(Number(x.hostIp.split('.')[3]) - 1)}/30`),
    ...nodes.map((x) => x.podCidr),
  ];
  const on = `iifname ${ifs}`;
  const dns = i.hostDns.length === 0 ? [] : [`    ${on} ip daddr { ${i.hostDns.join(', ')} } meta l4proto { tcp, udp } th dport 53 accept`];
  return [
    `table ip ${n.nftTable} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr { ${sources.join(', ')} } oifname != ${ifs} masquerade`,
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
