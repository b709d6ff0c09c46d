// The local cluster's security-relevant config builders, checked as the text the components read.
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { netPlan } from '../src/host.js';
import { authenticationConfig, encryptionConfig } from '../src/config/apiserver.js';
import { kubeletConfig } from '../src/config/kubelet.js';
import { hostNftRules, nodeNftRules, parseNameservers } from '../src/config/nft.js';
import { componentRbac } from '../src/config/rbac.js';
import { STATE_VERSION, outdatedMessage, upgradeAction } from '../src/local/state.js';
import { etcdCertSpecs, leafExtensions, writeKubeconfig } from '../src/pki.js';

describe('kubelet config', () => {
  const cfg = kubeletConfig({
    nodeIp: '10.250.3.2',
    clientCaFile: '/s/pki/ca.crt',
    tlsCertFile: '/s/pki/kubelet-serving.crt',
    tlsPrivateKeyFile: '/s/pki/kubelet-serving.key',
    cgroupRoot: '/gck-3',
    runtimeSocket: '/run/gc-k8s/x/containerd.sock',
    podLogsDir: '/s/pod-logs',
  });

  it('authenticates x509 and tokens, never anonymous callers, and authorizes by Webhook', () => {
    expect(cfg.authentication).toEqual({
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: '/s/pki/ca.crt' },
    });
    expect(cfg.authorization).toEqual({ mode: 'Webhook' });
    expect(cfg.readOnlyPort).toBe(0);
  });

  it('keeps the settings this VM needs', () => {
    expect(cfg).toMatchObject({
      address: '10.250.3.2',
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: '/gck-3',
      containerRuntimeEndpoint: 'unix:///run/gc-k8s/x/containerd.sock',
      clusterDNS: ['10.250.3.2'],
      makeIPTablesUtilChains: false,
      oomScoreAdj: 0,
    });
  });
});

describe('API server configs', () => {
  it('AuthenticationConfiguration: anonymous only on the health paths', () => {
    expect(JSON.parse(authenticationConfig())).toEqual({
      apiVersion: 'apiserver.config.k8s.io/v1',
      kind: 'AuthenticationConfiguration',
      anonymous: { enabled: true, conditions: [{ path: '/livez' }, { path: '/readyz' }, { path: '/healthz' }] },
    });
  });

  it('EncryptionConfiguration: Secrets with secretbox, identity as the fallback reader', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(JSON.parse(encryptionConfig(key))).toEqual({
      apiVersion: 'apiserver.config.k8s.io/v1',
      kind: 'EncryptionConfiguration',
      resources: [{ resources: ['secrets'], providers: [{ secretbox: { keys: [{ name: 'key1', secret: key }] } }, { identity: {} }] }],
    });
  });
});

describe('nft rules', () => {
  it('host: masquerade, ClusterIP reject, and only the API server (and host-local DNS) reachable from the node', () => {
    expect(hostNftRules({ plan: netPlan(3), apiserverPort: 24012, hostDns: ['192.0.2.2'] })).toBe(`table ip gck3 {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr { 10.250.3.0/30, 10.244.3.0/24 } oifname != "gck3h" masquerade
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "gck3h" ip daddr 10.96.3.0/24 reject with icmp type host-unreachable
  }
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "gck3h" ct state established,related accept
    iifname "gck3h" ip daddr 10.250.3.1 tcp dport 24012 accept
    iifname "gck3h" ip daddr { 192.0.2.2 } meta l4proto { tcp, udp } th dport 53 accept
    iifname "gck3h" reject with icmp type admin-prohibited
  }
}
`);
  });

  it('host: no DNS rule when the nameservers are not host addresses', () => {
    const text = hostNftRules({ plan: netPlan(9), apiserverPort: 24000, hostDns: [] });
    expect(text).not.toContain('dport 53');
    expect(text).toContain('iifname "gck9h" reject with icmp type admin-prohibited');
  });

  it('node: drops martian loopback traffic (the KUBE-FIREWALL rule, CVE-2020-8558)', () => {
    expect(nodeNftRules()).toBe(`table ip gcknode {
  chain input {
    type filter hook input priority filter; policy accept;
    iifname != "lo" ip daddr 127.0.0.0/8 ip saddr != 127.0.0.0/8 ct status & dnat == 0 drop
  }
}
`);
  });

  it('parses resolv.conf nameservers', () => {
    expect(parseNameservers('# x\nsearch a\nnameserver 10.255.255.53\n  nameserver 192.0.2.2 \noptions ndots:1\n')).toEqual([
      '10.255.255.53',
      '192.0.2.2',
    ]);
  });
});

describe('component RBAC', () => {
  const objs = componentRbac();
  const named = (kind: string, name: string): Record<string, unknown> | undefined =>
    objs.map((o) => o.body).find((b) => b.kind === kind && (b.metadata as { name: string }).name === name);

  it('CoreDNS: list/watch of what the kubernetes plugin reads, bound to its own user', () => {
    expect(named('ClusterRole', 'system:coredns')?.rules).toEqual([
      { apiGroups: [''], resources: ['services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    ]);
    expect(named('ClusterRoleBinding', 'system:coredns')?.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'gc-k8s:coredns' },
    ]);
  });

  it('provisioner: exactly the calls local-provisioner.mjs makes', () => {
    expect(named('ClusterRole', 'gc-k8s:local-provisioner')?.rules).toEqual([
      { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['list'] },
      { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['list', 'create', 'delete'] },
    ]);
  });

  it('the API server reaches kubelets as kube-apiserver-kubelet-client through system:kubelet-api-admin', () => {
    const b = named('ClusterRoleBinding', 'gc-k8s:apiserver-kubelet-client');
    expect(b?.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kubelet-api-admin' });
    expect(b?.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kube-apiserver-kubelet-client' }]);
  });

  it('posts each kind to its collection', () => {
    const collection: Record<string, string> = {
      ClusterRole: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
      ClusterRoleBinding: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
      // metrics-server reads extension-apiserver-authentication in kube-system
      RoleBinding: '/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings',
    };
    for (const o of objs) expect(o.path).toBe(collection[String(o.body.kind)]);
    expect(objs.filter((o) => o.body.kind === 'RoleBinding')).toHaveLength(1);
  });
});

describe('etcd certificates', () => {
  it('serving and peer certs for 127.0.0.1; the API server and the health check as clients', () => {
    const s = etcdCertSpecs('gck-x-abc123');
    expect(s.etcdDir.map((c) => [c.name, c.server === true])).toEqual([
      ['server', true],
      ['peer', true],
      ['healthcheck-client', false],
    ]);
    expect(s.pkiDir).toEqual([{ name: 'apiserver-etcd-client', cn: 'kube-apiserver-etcd-client' }]);
    expect(leafExtensions(s.etcdDir[0]!)).toContain('subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:gck-x-abc123');
    expect(leafExtensions(s.pkiDir[0]!)).toContain('extendedKeyUsage=clientAuth');
  });
});

describe('upgrade of a cluster made by older code', () => {
  it('refuses while any of it runs or its network exists, rebuilds once it is gone', () => {
    expect(upgradeAction(STATE_VERSION, true, true)).toBe('current');
    expect(upgradeAction(1, true, true)).toBe('refuse');
    expect(upgradeAction(1, false, true)).toBe('refuse');
    expect(upgradeAction(1, true, false)).toBe('refuse');
    expect(upgradeAction(1, false, false)).toBe('rebuild');
  });

  it('says what to run', () => {
    expect(outdatedMessage({ name: 'gck-a-123456', version: 1 })).toMatch(
      /gck-a-123456 .* run `gc-k8s cluster down` and then `gc-k8s cluster up`/,
    );
  });
});

describe('kubeconfig files', () => {
  it('are replaced whole (rename), so a reader of the old file never sees it emptied or half written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gck8s-kc-'));
    try {
      const path = join(dir, 'admin.kubeconfig');
      writeFileSync(path, 'old: config\n', { mode: 0o600 });
      const fd = openSync(path, 'r'); // a daemon in the middle of reading it
      writeKubeconfig(path, 'new: config\n');
      const buf = Buffer.alloc(64);
      const n = readSync(fd, buf, 0, 64, 0);
      closeSync(fd);
      expect(buf.subarray(0, n).toString()).toBe('old: config\n');
      expect(readFileSync(path, 'utf8')).toBe('new: config\n');
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(readdirSync(dir)).toEqual(['admin.kubeconfig']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
