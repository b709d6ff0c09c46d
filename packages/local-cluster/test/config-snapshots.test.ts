// Every file and object the builder writes or creates, as its pure builder makes it for a fixed
// cluster (slot 3, worktree /wt): a change to any of them shows up here as a snapshot diff.
import { describe, expect, it } from 'vitest';
import { authenticationConfig, encryptionConfig } from '../src/config/apiserver.js';
import { kubeDns, storageClasses } from '../src/config/cluster-objects.js';
import { cniConflist } from '../src/config/cni.js';
import { containerdConfig } from '../src/config/containerd.js';
import { corefile } from '../src/config/coredns.js';
import { withEnvrcLine, withoutEnvrcLine } from '../src/config/envrc.js';
import { kubeProxyConfig } from '../src/config/kube-proxy.js';
import { kubeconfigYaml } from '../src/config/kubeconfig.js';
import { kubeletConfig } from '../src/config/kubelet.js';
import { hostNftRules, nodeNftRules } from '../src/config/nft.js';
import { componentRbac } from '../src/config/rbac.js';
import { yaml } from '../src/config/yaml.js';
import { netPlan } from '../src/host.js';
import { componentCommand } from '../src/local/commands.js';
import { layout } from '../src/local/layout.js';
import { COMPONENTS, STATE_VERSION, type LocalState } from '../src/local/state.js';
import { clusterCertSpecs, etcdCertSpecs } from '../src/pki.js';

const n = netPlan(3);
const state = '/wt/.gc-k8s/cluster';
const run = '/run/gc-k8s/gck-wt-abc123';
const cfg = `${state}/config`;

describe('config files', () => {
  it('kubelet.yaml', () => {
    expect(
      yaml(
        kubeletConfig({
          nodeIp: n.nodeIp,
          clientCaFile: `${state}/pki/ca.crt`,
          tlsCertFile: `${state}/pki/kubelet-serving.crt`,
          tlsPrivateKeyFile: `${state}/pki/kubelet-serving.key`,
          cgroupRoot: n.cgroupRoot,
          runtimeSocket: `${run}/containerd.sock`,
          podLogsDir: `${state}/pod-logs`,
        }),
      ),
    ).toMatchInlineSnapshot(`
      "{
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": "10.250.3.2",
        "port": 10250,
        "readOnlyPort": 0,
        "healthzBindAddress": "10.250.3.2",
        "healthzPort": 10248,
        "authentication": {
          "anonymous": {
            "enabled": false
          },
          "webhook": {
            "enabled": true
          },
          "x509": {
            "clientCAFile": "/wt/.gc-k8s/cluster/pki/ca.crt"
          }
        },
        "authorization": {
          "mode": "Webhook"
        },
        "tlsCertFile": "/wt/.gc-k8s/cluster/pki/kubelet-serving.crt",
        "tlsPrivateKeyFile": "/wt/.gc-k8s/cluster/pki/kubelet-serving.key",
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": "/gck-3",
        "cgroupsPerQOS": true,
        "failCgroupV1": false,
        "failSwapOn": false,
        "containerRuntimeEndpoint": "unix:///run/gc-k8s/gck-wt-abc123/containerd.sock",
        "imageServiceEndpoint": "unix:///run/gc-k8s/gck-wt-abc123/containerd.sock",
        "protectKernelDefaults": false,
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {
          "memory.available": "100Mi",
          "nodefs.available": "2%",
          "imagefs.available": "2%",
          "nodefs.inodesFree": "2%"
        },
        "clusterDNS": [
          "10.250.3.2"
        ],
        "clusterDomain": "cluster.local",
        "resolvConf": "/etc/resolv.conf",
        "oomScoreAdj": 0,
        "podLogsDir": "/wt/.gc-k8s/cluster/pod-logs",
        "serializeImagePulls": false,
        "makeIPTablesUtilChains": false,
        "nodeStatusUpdateFrequency": "4s",
        "syncFrequency": "10s",
        "fileCheckFrequency": "20s",
        "maxPods": 110
      }
      "
    `);
  });

  it('authentication-config.yaml (AuthenticationConfiguration)', () => {
    expect(authenticationConfig()).toMatchInlineSnapshot(`
      "{
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AuthenticationConfiguration",
        "anonymous": {
          "enabled": true,
          "conditions": [
            {
              "path": "/livez"
            },
            {
              "path": "/readyz"
            },
            {
              "path": "/healthz"
            }
          ]
        }
      }
      "
    `);
  });

  it('encryption-config.yaml (EncryptionConfiguration)', () => {
    expect(encryptionConfig(Buffer.alloc(32, 7).toString('base64'))).toMatchInlineSnapshot(`
      "{
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "EncryptionConfiguration",
        "resources": [
          {
            "resources": [
              "secrets"
            ],
            "providers": [
              {
                "secretbox": {
                  "keys": [
                    {
                      "name": "key1",
                      "secret": "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="
                    }
                  ]
                }
              },
              {
                "identity": {}
              }
            ]
          }
        ]
      }
      "
    `);
  });

  it('containerd.toml', () => {
    expect(
      containerdConfig({
        root: `${state}/containerd`,
        state: `${run}/containerd`,
        socket: `${run}/containerd.sock`,
        runcRoot: `${run}/runc`,
        cniConfDir: `${state}/cni/net.d`,
        sandboxImage: 'registry.k8s.io/pause:3.10',
      }),
    ).toMatchInlineSnapshot(`
      "version = 3
      root = '/wt/.gc-k8s/cluster/containerd'
      state = '/run/gc-k8s/gck-wt-abc123/containerd'
      disabled_plugins = ['io.containerd.snapshotter.v1.btrfs', 'io.containerd.snapshotter.v1.zfs', 'io.containerd.snapshotter.v1.devmapper', 'io.containerd.snapshotter.v1.aufs', 'io.containerd.snapshotter.v1.erofs', 'io.containerd.snapshotter.v1.blockfile', 'io.containerd.nri.v1.nri', 'io.containerd.tracing.processor.v1.otlp', 'io.containerd.internal.v1.tracing']
      [grpc]
        address = '/run/gc-k8s/gck-wt-abc123/containerd.sock'
      [plugins]
        [plugins.'io.containerd.cri.v1.images']
          snapshotter = 'overlayfs'
          [plugins.'io.containerd.cri.v1.images'.pinned_images]
            sandbox = 'registry.k8s.io/pause:3.10'
        [plugins.'io.containerd.cri.v1.runtime']
          restrict_oom_score_adj = true
          netns_mounts_under_state_dir = true
          enable_selinux = false
          [plugins.'io.containerd.cri.v1.runtime'.containerd]
            default_runtime_name = 'runc'
            [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
              runtime_type = 'io.containerd.runc.v2'
              [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
                SystemdCgroup = false
                BinaryName = '/usr/sbin/runc'
                Root = '/run/gc-k8s/gck-wt-abc123/runc'
          [plugins.'io.containerd.cri.v1.runtime'.cni]
            bin_dirs = ['/usr/lib/cni']
            conf_dir = '/wt/.gc-k8s/cluster/cni/net.d'
        [plugins.'io.containerd.grpc.v1.cri']
          stream_server_address = '127.0.0.1'
          stream_server_port = '0'
        [plugins.'io.containerd.internal.v1.opt']
          path = '/wt/.gc-k8s/cluster/containerd/opt'
        [plugins.'io.containerd.image-verifier.v1.bindir']
          bin_dir = '/wt/.gc-k8s/cluster/containerd/image-verifier'
      "
    `);
  });

  it('cni/net.d/10-gck.conflist', () => {
    expect(
      cniConflist({ name: 'gck3', bridge: n.bridge, podCidr: n.podCidr, podGateway: n.podGateway, ipamDataDir: `${state}/cni/ipam` }),
    ).toMatchInlineSnapshot(
      `"{"cniVersion":"1.0.0","name":"gck3","plugins":[{"type":"bridge","bridge":"gck3br","isGateway":true,"ipMasq":true,"hairpinMode":true,"ipam":{"type":"host-local","dataDir":"/wt/.gc-k8s/cluster/cni/ipam","ranges":[[{"subnet":"10.244.3.0/24","gateway":"10.244.3.1"}]],"routes":[{"dst":"0.0.0.0/0"}]}},{"type":"portmap","capabilities":{"portMappings":true}}]}"`,
    );
  });

  it('kube-proxy.yaml', () => {
    expect(
      yaml(
        kubeProxyConfig({ kubeconfig: `${cfg}/kube-proxy.kubeconfig`, podCidr: n.podCidr, nodeName: 'gck-wt-abc123', nodeIp: n.nodeIp }),
      ),
    ).toMatchInlineSnapshot(`
      "{
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {
          "kubeconfig": "/wt/.gc-k8s/cluster/config/kube-proxy.kubeconfig"
        },
        "mode": "iptables",
        "clusterCIDR": "10.244.3.0/24",
        "hostnameOverride": "gck-wt-abc123",
        "bindAddress": "10.250.3.2",
        "healthzBindAddress": "10.250.3.2:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        "oomScoreAdj": 0,
        "conntrack": {
          "maxPerCore": 0,
          "min": 0,
          "tcpEstablishedTimeout": "0s",
          "tcpCloseWaitTimeout": "0s"
        },
        "iptables": {
          "localhostNodePorts": false,
          "syncPeriod": "30s",
          "minSyncPeriod": "0s"
        }
      }
      "
    `);
  });

  it('Corefile', () => {
    expect(corefile({ kubeconfig: `${cfg}/coredns.kubeconfig`, context: 'gck-wt-abc123' })).toMatchInlineSnapshot(`
      ".:53 {
          errors
          health :8080
          ready :8181
          kubernetes cluster.local in-addr.arpa ip6.arpa {
              kubeconfig /wt/.gc-k8s/cluster/config/coredns.kubeconfig gck-wt-abc123
              pods insecure
              fallthrough in-addr.arpa ip6.arpa
              ttl 5
          }
          forward . /etc/resolv.conf
          cache 10
          loadbalance
      }
      "
    `);
  });

  it('kubeconfigs (and the worktree .kube/config, a copy of admin.kubeconfig)', () => {
    const i = { name: 'gck-wt-abc123', server: `https://${n.hostIp}:24002`, caData: 'Q0E=', certData: 'Q0VSVA==', keyData: 'S0VZ' };
    expect(kubeconfigYaml(i)).toMatchInlineSnapshot(`
      "apiVersion: v1
      kind: Config
      clusters:
      - name: gck-wt-abc123
        cluster:
          server: https://10.250.3.1:24002
          certificate-authority-data: Q0E=
      users:
      - name: gck-wt-abc123-user
        user:
          client-certificate-data: Q0VSVA==
          client-key-data: S0VZ
      contexts:
      - name: gck-wt-abc123
        context:
          cluster: gck-wt-abc123
          user: gck-wt-abc123-user
      current-context: gck-wt-abc123
      "
    `);
    expect(kubeconfigYaml({ ...i, namespace: 'gc' })).toContain('    namespace: gc\ncurrent-context: gck-wt-abc123\n');
  });

  it('nft: the host table and the node table', () => {
    expect(hostNftRules({ plan: n, apiserverPort: 24002, hostDns: [] })).toMatchInlineSnapshot(`
      "table ip gck3 {
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
          iifname "gck3h" ip daddr 10.250.3.1 tcp dport 24002 accept
          iifname "gck3h" reject with icmp type admin-prohibited
        }
      }
      "
    `);
    expect(nodeNftRules()).toMatchInlineSnapshot(`
      "table ip gcknode {
        chain input {
          type filter hook input priority filter; policy accept;
          iifname != "lo" ip daddr 127.0.0.0/8 ip saddr != 127.0.0.0/8 ct status & dnat == 0 drop
        }
      }
      "
    `);
  });

  it('.envrc: our line added once, removed with the file when nothing else is left', () => {
    expect(withEnvrcLine('use nix')).toMatchInlineSnapshot(`
      "use nix
      export KUBECONFIG="$PWD/.kube/config"  # gc-k8s cluster
      "
    `);
    expect(withEnvrcLine(withEnvrcLine('') ?? '')).toBeUndefined();
    expect(withoutEnvrcLine(withEnvrcLine('use nix\n') ?? '')).toBe('use nix\n');
    expect(withoutEnvrcLine(withEnvrcLine('') ?? '')).toBeUndefined();
  });
});

describe('API objects and identities', () => {
  it('bootstrap objects: RBAC, StorageClass, kube-dns', () => {
    expect([...componentRbac(), ...storageClasses(), ...kubeDns(n)]).toMatchInlineSnapshot(`
      [
        {
          "body": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {
              "name": "system:coredns",
            },
            "rules": [
              {
                "apiGroups": [
                  "",
                ],
                "resources": [
                  "services",
                  "pods",
                  "namespaces",
                ],
                "verbs": [
                  "list",
                  "watch",
                ],
              },
              {
                "apiGroups": [
                  "discovery.k8s.io",
                ],
                "resources": [
                  "endpointslices",
                ],
                "verbs": [
                  "list",
                  "watch",
                ],
              },
            ],
          },
          "path": "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        },
        {
          "body": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {
              "name": "system:coredns",
            },
            "roleRef": {
              "apiGroup": "rbac.authorization.k8s.io",
              "kind": "ClusterRole",
              "name": "system:coredns",
            },
            "subjects": [
              {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "User",
                "name": "gc-k8s:coredns",
              },
            ],
          },
          "path": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        },
        {
          "body": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {
              "name": "gc-k8s:local-provisioner",
            },
            "rules": [
              {
                "apiGroups": [
                  "",
                ],
                "resources": [
                  "persistentvolumeclaims",
                ],
                "verbs": [
                  "list",
                ],
              },
              {
                "apiGroups": [
                  "",
                ],
                "resources": [
                  "persistentvolumes",
                ],
                "verbs": [
                  "list",
                  "create",
                  "delete",
                ],
              },
            ],
          },
          "path": "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        },
        {
          "body": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {
              "name": "gc-k8s:local-provisioner",
            },
            "roleRef": {
              "apiGroup": "rbac.authorization.k8s.io",
              "kind": "ClusterRole",
              "name": "gc-k8s:local-provisioner",
            },
            "subjects": [
              {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "User",
                "name": "gc-k8s:local-provisioner",
              },
            ],
          },
          "path": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        },
        {
          "body": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {
              "name": "gc-k8s:kube-router",
            },
            "rules": [
              {
                "apiGroups": [
                  "",
                ],
                "resources": [
                  "pods",
                  "namespaces",
                  "nodes",
                  "services",
                  "endpoints",
                ],
                "verbs": [
                  "get",
                  "list",
                  "watch",
                ],
              },
              {
                "apiGroups": [
                  "discovery.k8s.io",
                ],
                "resources": [
                  "endpointslices",
                ],
                "verbs": [
                  "get",
                  "list",
                  "watch",
                ],
              },
              {
                "apiGroups": [
                  "networking.k8s.io",
                ],
                "resources": [
                  "networkpolicies",
                ],
                "verbs": [
                  "get",
                  "list",
                  "watch",
                ],
              },
            ],
          },
          "path": "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        },
        {
          "body": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {
              "name": "gc-k8s:kube-router",
            },
            "roleRef": {
              "apiGroup": "rbac.authorization.k8s.io",
              "kind": "ClusterRole",
              "name": "gc-k8s:kube-router",
            },
            "subjects": [
              {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "User",
                "name": "gc-k8s:kube-router",
              },
            ],
          },
          "path": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        },
        {
          "body": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {
              "name": "gc-k8s:apiserver-kubelet-client",
            },
            "roleRef": {
              "apiGroup": "rbac.authorization.k8s.io",
              "kind": "ClusterRole",
              "name": "system:kubelet-api-admin",
            },
            "subjects": [
              {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "User",
                "name": "kube-apiserver-kubelet-client",
              },
            ],
          },
          "path": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        },
        {
          "body": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {
              "name": "gc-k8s:kube-state-metrics",
            },
            "rules": [
              {
                "apiGroups": [
                  "",
                ],
                "resources": [
                  "pods",
                  "nodes",
                  "namespaces",
                  "resourcequotas",
                  "limitranges",
                  "persistentvolumeclaims",
                  "persistentvolumes",
                  "services",
                ],
                "verbs": [
                  "list",
                  "watch",
                ],
              },
              {
                "apiGroups": [
                  "apps",
                ],
                "resources": [
                  "deployments",
                  "statefulsets",
                  "daemonsets",
                  "replicasets",
                ],
                "verbs": [
                  "list",
                  "watch",
                ],
              },
              {
                "apiGroups": [
                  "batch",
                ],
                "resources": [
                  "jobs",
                  "cronjobs",
                ],
                "verbs": [
                  "list",
                  "watch",
                ],
              },
              {
                "apiGroups": [
                  "storage.k8s.io",
                ],
                "resources": [
                  "storageclasses",
                ],
                "verbs": [
                  "list",
                  "watch",
                ],
              },
              {
                "apiGroups": [
                  "policy",
                ],
                "resources": [
                  "poddisruptionbudgets",
                ],
                "verbs": [
                  "list",
                  "watch",
                ],
              },
            ],
          },
          "path": "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        },
        {
          "body": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {
              "name": "gc-k8s:kube-state-metrics",
            },
            "roleRef": {
              "apiGroup": "rbac.authorization.k8s.io",
              "kind": "ClusterRole",
              "name": "gc-k8s:kube-state-metrics",
            },
            "subjects": [
              {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "User",
                "name": "gc-k8s:kube-state-metrics",
              },
            ],
          },
          "path": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        },
        {
          "body": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {
              "name": "gc-k8s:metrics-server",
            },
            "rules": [
              {
                "apiGroups": [
                  "",
                ],
                "resources": [
                  "nodes/metrics",
                ],
                "verbs": [
                  "get",
                ],
              },
              {
                "apiGroups": [
                  "",
                ],
                "resources": [
                  "pods",
                  "nodes",
                ],
                "verbs": [
                  "get",
                  "list",
                  "watch",
                ],
              },
            ],
          },
          "path": "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        },
        {
          "body": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {
              "name": "gc-k8s:metrics-server",
            },
            "roleRef": {
              "apiGroup": "rbac.authorization.k8s.io",
              "kind": "ClusterRole",
              "name": "gc-k8s:metrics-server",
            },
            "subjects": [
              {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "User",
                "name": "gc-k8s:metrics-server",
              },
            ],
          },
          "path": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        },
        {
          "body": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {
              "name": "gc-k8s:metrics-server:auth-delegator",
            },
            "roleRef": {
              "apiGroup": "rbac.authorization.k8s.io",
              "kind": "ClusterRole",
              "name": "system:auth-delegator",
            },
            "subjects": [
              {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "User",
                "name": "gc-k8s:metrics-server",
              },
            ],
          },
          "path": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        },
        {
          "body": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {
              "name": "gc-k8s:metrics-server:auth-reader",
              "namespace": "kube-system",
            },
            "roleRef": {
              "apiGroup": "rbac.authorization.k8s.io",
              "kind": "Role",
              "name": "extension-apiserver-authentication-reader",
            },
            "subjects": [
              {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "User",
                "name": "gc-k8s:metrics-server",
              },
            ],
          },
          "path": "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings",
        },
        {
          "body": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {
              "name": "gc-k8s:prometheus",
            },
            "rules": [
              {
                "apiGroups": [
                  "",
                ],
                "resources": [
                  "nodes/metrics",
                ],
                "verbs": [
                  "get",
                ],
              },
            ],
          },
          "path": "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        },
        {
          "body": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {
              "name": "gc-k8s:prometheus",
            },
            "roleRef": {
              "apiGroup": "rbac.authorization.k8s.io",
              "kind": "ClusterRole",
              "name": "gc-k8s:prometheus",
            },
            "subjects": [
              {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "User",
                "name": "gc-k8s:prometheus",
              },
            ],
          },
          "path": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        },
        {
          "body": {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
              "annotations": {
                "storageclass.kubernetes.io/is-default-class": "true",
              },
              "name": "standard",
            },
            "provisioner": "gc-k8s.io/local-hostpath",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate",
          },
          "path": "/apis/storage.k8s.io/v1/storageclasses",
        },
        {
          "body": {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
              "annotations": {},
              "name": "standard-wffc",
            },
            "provisioner": "gc-k8s.io/local-hostpath",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
          },
          "path": "/apis/storage.k8s.io/v1/storageclasses",
        },
        {
          "body": {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
              "labels": {
                "k8s-app": "kube-dns",
              },
              "name": "kube-dns",
              "namespace": "kube-system",
            },
            "spec": {
              "clusterIP": "10.96.3.10",
              "ports": [
                {
                  "name": "dns",
                  "port": 53,
                  "protocol": "UDP",
                  "targetPort": 53,
                },
                {
                  "name": "dns-tcp",
                  "port": 53,
                  "protocol": "TCP",
                  "targetPort": 53,
                },
              ],
            },
          },
          "path": "/api/v1/namespaces/kube-system/services",
        },
        {
          "body": {
            "addressType": "IPv4",
            "apiVersion": "discovery.k8s.io/v1",
            "endpoints": [
              {
                "addresses": [
                  "10.250.3.2",
                ],
                "conditions": {
                  "ready": true,
                },
              },
            ],
            "kind": "EndpointSlice",
            "metadata": {
              "labels": {
                "endpointslice.kubernetes.io/managed-by": "gc-k8s",
                "kubernetes.io/service-name": "kube-dns",
              },
              "name": "kube-dns-node",
              "namespace": "kube-system",
            },
            "ports": [
              {
                "name": "dns",
                "port": 53,
                "protocol": "UDP",
              },
              {
                "name": "dns-tcp",
                "port": 53,
                "protocol": "TCP",
              },
            ],
          },
          "path": "/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices",
        },
      ]
    `);
  });

  it('certificates of the cluster CA and of etcd CA', () => {
    expect(clusterCertSpecs('gck-wt-abc123', n)).toMatchInlineSnapshot(`
      [
        {
          "cn": "kube-apiserver",
          "name": "apiserver",
          "sans": [
            "10.250.3.1",
            "127.0.0.1",
            "10.96.3.1",
            "localhost",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
          ],
          "server": true,
        },
        {
          "cn": "kube-apiserver-kubelet-client",
          "name": "apiserver-kubelet-client",
        },
        {
          "cn": "gc-k8s-admin",
          "name": "admin",
          "org": "system:masters",
        },
        {
          "cn": "system:kube-controller-manager",
          "name": "kube-controller-manager",
        },
        {
          "cn": "system:kube-scheduler",
          "name": "kube-scheduler",
        },
        {
          "cn": "system:node:gck-wt-abc123",
          "name": "kubelet",
          "org": "system:nodes",
        },
        {
          "cn": "gck-wt-abc123",
          "name": "kubelet-serving",
          "sans": [
            "10.250.3.2",
            "gck-wt-abc123",
          ],
          "server": true,
        },
        {
          "cn": "system:kube-proxy",
          "name": "kube-proxy",
        },
        {
          "cn": "gc-k8s:coredns",
          "name": "coredns",
        },
        {
          "cn": "gc-k8s:local-provisioner",
          "name": "local-provisioner",
        },
        {
          "cn": "gc-k8s:kube-router",
          "name": "kube-router",
        },
        {
          "cn": "gc-k8s:kube-state-metrics",
          "name": "kube-state-metrics",
        },
        {
          "cn": "kube-state-metrics",
          "name": "kube-state-metrics-serving",
          "sans": [
            "127.0.0.1",
            "localhost",
          ],
          "server": true,
        },
        {
          "cn": "gc-k8s:metrics-server",
          "name": "metrics-server",
        },
        {
          "cn": "metrics-server.kube-system.svc",
          "name": "metrics-server-serving",
          "sans": [
            "metrics-server.kube-system.svc",
            "10.250.3.1",
          ],
          "server": true,
        },
        {
          "cn": "gc-k8s:prometheus",
          "name": "prometheus",
          "sans": [
            "gc-k8s-prometheus",
          ],
        },
      ]
    `);
    expect(etcdCertSpecs('gck-wt-abc123')).toMatchInlineSnapshot(`
      {
        "etcdDir": [
          {
            "cn": "gck-wt-abc123",
            "name": "server",
            "sans": [
              "127.0.0.1",
              "localhost",
              "gck-wt-abc123",
            ],
            "server": true,
          },
          {
            "cn": "gck-wt-abc123",
            "name": "peer",
            "sans": [
              "127.0.0.1",
              "localhost",
              "gck-wt-abc123",
            ],
            "server": true,
          },
          {
            "cn": "kube-etcd-healthcheck-client",
            "name": "healthcheck-client",
          },
        ],
        "pkiDir": [
          {
            "cn": "kube-apiserver-etcd-client",
            "name": "apiserver-etcd-client",
          },
        ],
      }
    `);
  });
});

describe('component command lines', () => {
  it('each component: program, flags, and the netns it runs in', () => {
    const st: LocalState = {
      version: STATE_VERSION,
      backend: 'local',
      name: 'gck-wt-abc123',
      worktree: '/wt',
      stateDir: state,
      slot: 3,
      ports: {
        etcd: 24000,
        etcdPeer: 24001,
        apiserver: 24002,
        controllerManager: 24003,
        scheduler: 24004,
        kubeStateMetrics: 24005,
        kubeStateMetricsTelemetry: 24006,
        metricsServer: 24007,
      },
      nodeName: 'gck-wt-abc123',
      server: `https://${n.hostIp}:24002`,
      containerdBin: '/cache/containerd/bin',
      pids: {},
      images: {},
      phase: 'starting',
      createdAt: '2025-01-01T00:00:00.000Z',
    };
    const l = layout({ worktree: '/wt', name: 'gck-wt-abc123', stateDir: state, kubeconfig: '/wt/.kube/config', envrc: '/wt/.envrc' });
    const bins = {
      k8s: '/cache/k8s/bin',
      etcd: '/cache/etcd/bin',
      coredns: '/cache/coredns/bin',
      kubeRouter: '/cache/kube-router/bin',
      kubeStateMetrics: '/cache/kube-state-metrics/bin',
      metricsServer: '/cache/metrics-server/bin',
      node: '/usr/bin/node',
      provisioner: '/pkg/scripts/local-provisioner.mjs',
    };
    expect(Object.fromEntries(COMPONENTS.map((c) => [c, componentCommand(c, st, l, bins)]))).toMatchInlineSnapshot(`
      {
        "containerd": {
          "args": [
            "--config",
            "/wt/.gc-k8s/cluster/config/containerd.toml",
            "--log-level",
            "warn",
          ],
          "cmd": "/cache/containerd/bin/containerd",
          "netns": "/run/netns/gck3",
        },
        "coredns": {
          "args": [
            "-conf",
            "/wt/.gc-k8s/cluster/config/Corefile",
          ],
          "cmd": "/cache/coredns/bin/coredns",
          "cwd": "/wt/.gc-k8s/cluster/config",
          "netns": "/run/netns/gck3",
        },
        "etcd": {
          "args": [
            "--name",
            "gck-wt-abc123",
            "--data-dir",
            "/wt/.gc-k8s/cluster/etcd",
            "--listen-client-urls",
            "https://127.0.0.1:24000",
            "--advertise-client-urls",
            "https://127.0.0.1:24000",
            "--cert-file",
            "/wt/.gc-k8s/cluster/pki/etcd/server.crt",
            "--key-file",
            "/wt/.gc-k8s/cluster/pki/etcd/server.key",
            "--client-cert-auth",
            "--trusted-ca-file",
            "/wt/.gc-k8s/cluster/pki/etcd/ca.crt",
            "--listen-peer-urls",
            "https://127.0.0.1:24001",
            "--initial-advertise-peer-urls",
            "https://127.0.0.1:24001",
            "--initial-cluster",
            "gck-wt-abc123=https://127.0.0.1:24001",
            "--peer-cert-file",
            "/wt/.gc-k8s/cluster/pki/etcd/peer.crt",
            "--peer-key-file",
            "/wt/.gc-k8s/cluster/pki/etcd/peer.key",
            "--peer-client-cert-auth",
            "--peer-trusted-ca-file",
            "/wt/.gc-k8s/cluster/pki/etcd/ca.crt",
            "--unsafe-no-fsync",
            "--log-level",
            "warn",
            "--quota-backend-bytes",
            "2147483648",
          ],
          "cmd": "/cache/etcd/bin/etcd",
        },
        "kube-apiserver": {
          "args": [
            "--advertise-address=10.250.3.1",
            "--bind-address=10.250.3.1",
            "--secure-port=24002",
            "--etcd-servers=https://127.0.0.1:24000",
            "--etcd-cafile=/wt/.gc-k8s/cluster/pki/etcd/ca.crt",
            "--etcd-certfile=/wt/.gc-k8s/cluster/pki/apiserver-etcd-client.crt",
            "--etcd-keyfile=/wt/.gc-k8s/cluster/pki/apiserver-etcd-client.key",
            "--service-cluster-ip-range=10.96.3.0/24",
            "--encryption-provider-config=/wt/.gc-k8s/cluster/pki/encryption-config.yaml",
            "--authentication-config=/wt/.gc-k8s/cluster/config/authentication-config.yaml",
            "--client-ca-file=/wt/.gc-k8s/cluster/pki/ca.crt",
            "--tls-cert-file=/wt/.gc-k8s/cluster/pki/apiserver.crt",
            "--tls-private-key-file=/wt/.gc-k8s/cluster/pki/apiserver.key",
            "--kubelet-client-certificate=/wt/.gc-k8s/cluster/pki/apiserver-kubelet-client.crt",
            "--kubelet-client-key=/wt/.gc-k8s/cluster/pki/apiserver-kubelet-client.key",
            "--kubelet-preferred-address-types=InternalIP",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file=/wt/.gc-k8s/cluster/pki/sa.pub",
            "--service-account-signing-key-file=/wt/.gc-k8s/cluster/pki/sa.key",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            "--allow-privileged=true",
            "--profiling=false",
            "--event-ttl=30m",
            "--cert-dir=/wt/.gc-k8s/cluster/apiserver-certs",
            "--service-node-port-range=30000-32767",
            "--requestheader-client-ca-file=/wt/.gc-k8s/cluster/pki/front-proxy-ca.crt",
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            "--proxy-client-cert-file=/wt/.gc-k8s/cluster/pki/front-proxy-client.crt",
            "--proxy-client-key-file=/wt/.gc-k8s/cluster/pki/front-proxy-client.key",
            "--enable-aggregator-routing=true",
          ],
          "cmd": "/cache/k8s/bin/kube-apiserver",
        },
        "kube-controller-manager": {
          "args": [
            "--kubeconfig=/wt/.gc-k8s/cluster/config/kube-controller-manager.kubeconfig",
            "--authentication-kubeconfig=/wt/.gc-k8s/cluster/config/kube-controller-manager.kubeconfig",
            "--authorization-kubeconfig=/wt/.gc-k8s/cluster/config/kube-controller-manager.kubeconfig",
            "--bind-address=127.0.0.1",
            "--secure-port=24003",
            "--cert-dir=/wt/.gc-k8s/cluster/kcm-certs",
            "--service-account-private-key-file=/wt/.gc-k8s/cluster/pki/sa.key",
            "--root-ca-file=/wt/.gc-k8s/cluster/pki/ca.crt",
            "--use-service-account-credentials=true",
            "--cluster-signing-cert-file=/wt/.gc-k8s/cluster/pki/ca.crt",
            "--cluster-signing-key-file=/wt/.gc-k8s/cluster/pki/ca.key",
            "--leader-elect=false",
            "--service-cluster-ip-range=10.96.3.0/24",
            "--cluster-cidr=10.244.3.0/24",
            "--controllers=*,-nodeipam,-cloud-node-lifecycle",
            "--node-monitor-grace-period=40s",
          ],
          "cmd": "/cache/k8s/bin/kube-controller-manager",
        },
        "kube-proxy": {
          "args": [
            "--config=/wt/.gc-k8s/cluster/config/kube-proxy.yaml",
            "--v=1",
          ],
          "cmd": "/cache/k8s/bin/kube-proxy",
          "netns": "/run/netns/gck3",
        },
        "kube-router": {
          "args": [
            "--kubeconfig=/wt/.gc-k8s/cluster/config/kube-router.kubeconfig",
            "--hostname-override=gck-wt-abc123",
            "--run-firewall=true",
            "--run-router=false",
            "--run-service-proxy=false",
            "--enable-cni=false",
            "--service-cluster-ip-range=10.96.3.0/24",
            "--health-port=20244",
            "--v=1",
          ],
          "cmd": "/cache/kube-router/bin/kube-router",
          "netns": "/run/netns/gck3",
        },
        "kube-scheduler": {
          "args": [
            "--kubeconfig=/wt/.gc-k8s/cluster/config/kube-scheduler.kubeconfig",
            "--authentication-kubeconfig=/wt/.gc-k8s/cluster/config/kube-scheduler.kubeconfig",
            "--authorization-kubeconfig=/wt/.gc-k8s/cluster/config/kube-scheduler.kubeconfig",
            "--bind-address=127.0.0.1",
            "--secure-port=24004",
            "--cert-dir=/wt/.gc-k8s/cluster/scheduler-certs",
            "--leader-elect=false",
          ],
          "cmd": "/cache/k8s/bin/kube-scheduler",
        },
        "kube-state-metrics": {
          "args": [
            "--kubeconfig=/wt/.gc-k8s/cluster/config/kube-state-metrics.kubeconfig",
            "--host=127.0.0.1",
            "--port=24005",
            "--telemetry-host=127.0.0.1",
            "--telemetry-port=24006",
            "--tls-config=/wt/.gc-k8s/cluster/config/kube-state-metrics-web.yaml",
            "--resources=pods,nodes,namespaces,resourcequotas,limitranges,persistentvolumeclaims,persistentvolumes,services,deployments,statefulsets,daemonsets,replicasets,jobs,cronjobs,storageclasses,poddisruptionbudgets",
          ],
          "cmd": "/cache/kube-state-metrics/bin/kube-state-metrics",
        },
        "kubelet": {
          "args": [
            "--config=/wt/.gc-k8s/cluster/config/kubelet.yaml",
            "--kubeconfig=/wt/.gc-k8s/cluster/config/kubelet.kubeconfig",
            "--root-dir=/wt/.gc-k8s/cluster/kubelet",
            "--cert-dir=/wt/.gc-k8s/cluster/kubelet/pki",
            "--node-ip=10.250.3.2",
            "--hostname-override=gck-wt-abc123",
            "--containerd=/run/gc-k8s/gck-wt-abc123/containerd.sock",
            "--v=1",
          ],
          "cmd": "/cache/k8s/bin/kubelet",
          "netns": "/run/netns/gck3",
        },
        "metrics-server": {
          "args": [
            "--kubeconfig=/wt/.gc-k8s/cluster/config/metrics-server.kubeconfig",
            "--authentication-kubeconfig=/wt/.gc-k8s/cluster/config/metrics-server.kubeconfig",
            "--authorization-kubeconfig=/wt/.gc-k8s/cluster/config/metrics-server.kubeconfig",
            "--bind-address=10.250.3.1",
            "--secure-port=24007",
            "--tls-cert-file=/wt/.gc-k8s/cluster/pki/metrics-server-serving.crt",
            "--tls-private-key-file=/wt/.gc-k8s/cluster/pki/metrics-server-serving.key",
            "--kubelet-certificate-authority=/wt/.gc-k8s/cluster/pki/ca.crt",
            "--kubelet-client-certificate=/wt/.gc-k8s/cluster/pki/metrics-server.crt",
            "--kubelet-client-key=/wt/.gc-k8s/cluster/pki/metrics-server.key",
            "--kubelet-preferred-address-types=InternalIP",
            "--kubelet-use-node-status-port",
            "--metric-resolution=10s",
            "--kubelet-request-timeout=5s",
            "--profiling=false",
          ],
          "cmd": "/cache/metrics-server/bin/metrics-server",
        },
        "provisioner": {
          "args": [
            "/pkg/scripts/local-provisioner.mjs",
            "--heartbeat",
            "/wt/.gc-k8s/cluster/provisioner.heartbeat",
            "--server",
            "https://10.250.3.1:24002",
            "--ca",
            "/wt/.gc-k8s/cluster/pki/ca.crt",
            "--cert",
            "/wt/.gc-k8s/cluster/pki/local-provisioner.crt",
            "--key",
            "/wt/.gc-k8s/cluster/pki/local-provisioner.key",
            "--dir",
            "/wt/.gc-k8s/cluster/pv",
            "--class",
            "standard",
            "--wait-class",
            "standard-wffc",
            "--name",
            "gc-k8s.io/local-hostpath",
            "--node",
            "gck-wt-abc123",
          ],
          "cmd": "/usr/bin/node",
        },
      }
    `);
  });
});
