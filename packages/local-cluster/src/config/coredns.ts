// CoreDNS's Corefile (config/Corefile): cluster.local from the API server with CoreDNS's own
// identity, everything else forwarded to the host's resolvers; health on :8080 of the node.

export interface CorefileInput {
  /** CoreDNS's kubeconfig (user gc-k8s:coredns) */
  readonly kubeconfig: string;
  /** its context, named after the cluster */
  readonly context: string;
}

export function corefile(i: CorefileInput): string {
  return [
    '.:53 {',
    '    errors',
    '    health :8080',
    '    ready :8181',
    `    kubernetes cluster.local in-addr.arpa ip6.arpa {`,
    `        kubeconfig ${i.kubeconfig} ${i.context}`,
    '        pods insecure',
    '        fallthrough in-addr.arpa ip6.arpa',
    '        ttl 5',
    '    }',
    '    forward . /etc/resolv.conf',
    '    cache 10',
    '    loadbalance',
    '}',
    '',
  ].join('\n');
}
