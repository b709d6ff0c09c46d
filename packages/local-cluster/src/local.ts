// The `local` backend: a real single-node Kubernetes cluster built from processes on this host.
//
// Layout per cluster (slot N, see host.ts):
//   host:    etcd (127.0.0.1), kube-apiserver (10.250.N.1, the host end of a veth pair),
//            kube-controller-manager, kube-scheduler, the hostPath provisioner
//   netns gckN (node side of the veth, 10.250.N.2 = node IP): containerd, kubelet, kube-proxy
//            (iptables mode, rules only in this netns), CoreDNS (0.0.0.0:53 in the netns), pods on
//            bridge gckNbr with pod CIDR 10.244.N.0/24; services 10.96.N.0/24 (routed from the host)
// Everything is started detached (setsid) with its PID recorded in <worktree>/.gc-k8s/cluster/state.json.

import { appendFileSync, chmodSync, existsSync, mkdirSync, renameSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync, statSync, writeFileSync, copyFileSync, lstatSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { ClusterError, describeError, isClusterError, toClusterError } from './errors.js';
import { sleep } from './abort.js';
import {
  LOCAL_NEEDS,
  RUN_DIR,
  allocatePorts,
  assertResources,
  checkLocalPlatform,
  claimSlot,
  ensureBinaries,
  ensureHostDeps,
  listSlots,
  netPlan,
  parsePortRange,
  recordSlotPorts,
  releaseSlot,
  slotIsStale,
  withHostLock,
  type NetPlan,
} from './host.js';
import { PAUSE_REF, buildImage, importImage, type BuiltImage, type ImageName } from './images.js';
import { KubeClient, probe, type KubeCreds } from './kube/client.js';
import { LOCAL_CLUSTER_ROOT, type WorktreePaths } from './names.js';
import {
  APISERVER_KUBELET_CLIENT_USER,
  COREDNS_USER,
  PROVISIONER_USER,
  authenticationConfig,
  componentRbac,
  encryptionConfig,
  hostNftRules,
  kubeletConfig,
  nodeNftRules,
  parseNameservers,
  yaml,
} from './local-config.js';
import { ensureEncryptionConfig, ensureEtcdPki, ensurePki, etcdPkiPaths, kubeconfigYaml, writeKubeconfig } from './pki.js';
import { cmdline, findProcesses, isAlive, run, spawnDetached, stopPids, tailFile } from './proc.js';
import type { Reporter } from './progress.js';

export const COMPONENTS = [
  'etcd',
  'kube-apiserver',
  'containerd',
  'kube-controller-manager',
  'kube-scheduler',
  'kubelet',
  'kube-proxy',
  'coredns',
  'provisioner',
] as const;
export type Component = (typeof COMPONENTS)[number];

export interface LocalPorts {
  readonly etcd: number;
  readonly etcdPeer: number;
  readonly apiserver: number;
  readonly controllerManager: number;
  readonly scheduler: number;
}

/**
 * Version of the state (and of the cluster it describes). 2: etcd over TLS with client certs,
 * Secrets encrypted at rest, kubelet Webhook authz, anonymous API only on health paths, nft
 * filtering of pod/node traffic to the host, own identities for CoreDNS and the provisioner.
 */
export const STATE_VERSION = 2;

export interface LocalState {
  /** STATE_VERSION when made by this code; 1 (or absent) for clusters made before the hardening */
  readonly version: number;
  readonly backend: 'local';
  readonly name: string;
  readonly worktree: string;
  readonly stateDir: string;
  readonly slot: number;
  readonly ports: LocalPorts;
  readonly nodeName: string;
  readonly server: string;
  readonly containerdBin: string;
  pids: Partial<Record<Component, number>>;
  images: Partial<Record<ImageName, string>>;
  phase: 'starting' | 'running';
  readonly createdAt: string;
}

export interface ComponentStatus {
  readonly name: string;
  readonly pid?: number;
  readonly alive: boolean;
  readonly healthy: boolean;
  readonly endpoint?: string;
  readonly log?: string;
}

export interface LocalContext {
  readonly paths: WorktreePaths;
  readonly env: NodeJS.ProcessEnv;
  readonly reporter: Reporter;
  readonly signal: AbortSignal;
}

const STATE_FILE = 'state.json';

export function readState(stateDir: string): LocalState | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, STATE_FILE), 'utf8')) as LocalState;
  } catch {
    return undefined;
  }
}

function writeState(state: LocalState): void {
  mkdirSync(state.stateDir, { recursive: true });
  const tmp = join(state.stateDir, `${STATE_FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  // rename is atomic: a crash never leaves a torn state file
  renameSync(tmp, join(state.stateDir, STATE_FILE));
}

const runDir = (name: string): string => join(RUN_DIR, name);
const logsDir = (paths: WorktreePaths): string => join(paths.worktree, '.gc-k8s', 'logs');
const logOf = (paths: WorktreePaths, c: string): string => join(logsDir(paths), `${c}.log`);

interface Layout {
  readonly s: string; // state dir
  readonly pki: string;
  readonly run: string;
  readonly sock: string;
  readonly kubeletDir: string;
  readonly podLogs: string;
  readonly pvDir: string;
  readonly cniConf: string;
  readonly cfg: string;
}

function layout(paths: WorktreePaths): Layout {
  const s = paths.stateDir;
  const r = runDir(paths.name);
  return {
    s,
    pki: join(s, 'pki'),
    run: r,
    sock: join(r, 'containerd.sock'),
    kubeletDir: join(s, 'kubelet'),
    podLogs: join(s, 'pod-logs'),
    pvDir: join(s, 'pv'),
    cniConf: join(s, 'cni', 'net.d'),
    cfg: join(s, 'config'),
  };
}

/** What `up` does with a cluster whose state was made by an older gc-k8s (see outdatedMessage). */
export type UpgradeAction = 'current' | 'refuse' | 'rebuild';

/**
 * A cluster made before STATE_VERSION cannot be repaired in place (its etcd speaks plain HTTP,
 * its certificates and identities differ): while anything of it runs or its network exists,
 * `up` refuses and says to run `down`; once it is gone (reboot, cleanup) it is rebuilt.
 */
export function upgradeAction(version: number | undefined, anyAlive: boolean, networkIntact: boolean): UpgradeAction {
  if ((version ?? 1) >= STATE_VERSION) return 'current';
  return anyAlive || networkIntact ? 'refuse' : 'rebuild';
}

export function outdatedMessage(state: Pick<LocalState, 'name' | 'version'>): string {
  return (
    `cluster ${state.name} was made by an older gc-k8s (state version ${String(state.version)}, now ${String(STATE_VERSION)}: ` +
    'etcd without TLS, Secrets not encrypted, kubelet AlwaysAllow, anonymous API) and cannot be upgraded in place; ' +
    'run `gc-k8s cluster down` and then `gc-k8s cluster up` (its objects and volumes are not kept)'
  );
}

function credsFor(l: Layout, server: string, user: string): KubeCreds {
  return { server, ca: join(l.pki, 'ca.crt'), cert: join(l.pki, `${user}.crt`), key: join(l.pki, `${user}.key`) };
}

// ---------------------------------------------------------------- health

interface Probe {
  readonly endpoint: string;
  check(): Promise<boolean>;
}

function probes(state: LocalState, paths: WorktreePaths): Record<Component, Probe> {
  const n = netPlan(state.slot);
  const l = layout(paths);
  const http = (url: string): Probe => ({ endpoint: url, check: () => probe(url) });
  // verified TLS: the API server's certificate is from the cluster CA; the controller manager
  // and the scheduler serve a certificate they made themselves, with its CA, in their --cert-dir
  const https = (url: string, ca: string): Probe => ({ endpoint: url, check: () => probe(url, { ca }) });
  return {
    etcd: etcdProbe(state, l),
    'kube-apiserver': https(`${state.server}/readyz`, join(l.pki, 'ca.crt')),
    'kube-controller-manager': https(`https://127.0.0.1:${state.ports.controllerManager}/healthz`, join(l.s, 'kcm-certs', 'kube-controller-manager.crt')),
    'kube-scheduler': https(`https://127.0.0.1:${state.ports.scheduler}/healthz`, join(l.s, 'scheduler-certs', 'kube-scheduler.crt')),
    containerd: {
      endpoint: `unix://${l.sock}`,
      check: async () =>
        (await run(join(state.containerdBin, 'ctr'), ['--address', l.sock, 'version'], { allowFail: true, timeoutMs: 3000 })).code === 0,
    },
    kubelet: http(`http://${n.nodeIp}:10248/healthz`),
    'kube-proxy': http(`http://${n.nodeIp}:10256/healthz`),
    coredns: http(`http://${n.nodeIp}:8080/health`),
    provisioner: {
      endpoint: `heartbeat ${join(l.s, 'provisioner.heartbeat')}`,
      check: () => {
        try {
          return Promise.resolve(Date.now() - statSync(join(l.s, 'provisioner.heartbeat')).mtimeMs < 15_000);
        } catch {
          return Promise.resolve(false);
        }
      },
    },
  };
}

/** etcd's /health, through TLS with the health-check client certificate (plain HTTP before v2). */
function etcdProbe(state: LocalState, l: Layout): Probe {
  if (state.version < STATE_VERSION) {
    const url = `http://127.0.0.1:${state.ports.etcd}/health`;
    return { endpoint: url, check: () => probe(url) };
  }
  const e = etcdPkiPaths(l.pki);
  const url = `https://127.0.0.1:${state.ports.etcd}/health`;
  return { endpoint: url, check: () => probe(url, { ca: e.ca, ...e.healthcheck }) };
}

export async function localStatus(paths: WorktreePaths): Promise<{ state?: LocalState; components: ComponentStatus[] }> {
  const state = readState(paths.stateDir);
  if (state === undefined) return { components: [] };
  const pr = probes(state, paths);
  const components = await Promise.all(
    COMPONENTS.map(async (c): Promise<ComponentStatus> => {
      const pid = state.pids[c];
      const alive = isAlive(pid) && ownsPid(pid, paths, state);
      const healthy = alive && (await pr[c].check());
      return { name: c, ...(pid === undefined ? {} : { pid }), alive, healthy, endpoint: pr[c].endpoint, log: logOf(paths, c) };
    }),
  );
  return { state, components };
}

/** A recorded PID still belongs to this cluster (PIDs get reused after a crash or reboot). */
function ownsPid(pid: number | undefined, paths: WorktreePaths, state: LocalState): boolean {
  if (pid === undefined) return false;
  const cl = cmdline(pid);
  return cl !== undefined && (cl.includes(`${paths.stateDir}/`) || cl.includes(`${state.stateDir}/`) || cl.includes(`${runDir(state.name)}/`));
}

// ---------------------------------------------------------------- up

function ipForwardFile(): string {
  return join(RUN_DIR, 'ip_forward.orig');
}

/** Nameservers of the host's resolv.conf that are addresses of this host (CoreDNS forwards there). */
function hostLocalNameservers(): string[] {
  let text: string;
  try {
    text = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return [];
  }
  const own = new Set(Object.values(networkInterfaces()).flatMap((a) => (a ?? []).filter((x) => x.family === 'IPv4' && !x.internal).map((x) => x.address)));
  return parseNameservers(text).filter((ip) => own.has(ip));
}

async function setupNetwork(n: NetPlan, apiserverPort: number, signal: AbortSignal): Promise<void> {
  const ip = (...args: string[]): Promise<unknown> => run('ip', args, { signal });
  const nodeLink = `gck${n.slot}n`;
  await ip('netns', 'add', n.netns);
  await ip('link', 'add', n.hostIf, 'type', 'veth', 'peer', 'name', nodeLink, 'netns', n.netns);
  await ip('addr', 'add', `${n.hostIp}/30`, 'dev', n.hostIf);
  await ip('link', 'set', n.hostIf, 'up');
  await ip('-n', n.netns, 'link', 'set', nodeLink, 'name', n.nodeIf);
  await ip('-n', n.netns, 'addr', 'add', `${n.nodeIp}/30`, 'dev', n.nodeIf);
  await ip('-n', n.netns, 'link', 'set', n.nodeIf, 'up');
  await ip('-n', n.netns, 'link', 'set', 'lo', 'up');
  await ip('-n', n.netns, 'route', 'add', 'default', 'via', n.hostIp);
  // the host reaches pods and ClusterIPs through the node
  await ip('route', 'add', n.podCidr, 'via', n.nodeIp, 'dev', n.hostIf);
  await ip('route', 'add', n.serviceCidr, 'via', n.nodeIp, 'dev', n.hostIf);
  // forwarding: host (egress of the node) and node (pods, services)
  mkdirSync(RUN_DIR, { recursive: true });
  if (!existsSync(ipForwardFile())) writeFileSync(ipForwardFile(), readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'));
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
  await run('nsenter', [`--net=${n.netnsPath}`, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.route_localnet=1'], { signal });
  await run('nsenter', [`--net=${n.netnsPath}`, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1'], { signal, allowFail: true });
  // one nft table per cluster on the host (egress, ClusterIP, what node and pods reach on the host),
  // removed on down; and the node's own (martian loopback traffic), gone with the netns
  await run('nft', ['-f', '-'], { input: hostNftRules({ plan: n, apiserverPort, hostDns: hostLocalNameservers() }), signal });
  await run('nsenter', [`--net=${n.netnsPath}`, 'nft', '-f', '-'], { input: nodeNftRules(), signal });
}

function cgroupHierarchies(): string[] {
  try {
    return readdirSync('/sys/fs/cgroup')
      .map((d) => join('/sys/fs/cgroup', d))
      .filter((d) => {
        try {
          return !lstatSync(d).isSymbolicLink() && existsSync(join(d, 'cgroup.procs'));
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

function prepareCgroupRoot(n: NetPlan): void {
  for (const h of cgroupHierarchies()) {
    const d = join(h, n.cgroupRoot);
    mkdirSync(d, { recursive: true });
    if (existsSync(join(h, 'cpuset.cpus'))) {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        try {
          writeFileSync(join(d, f), readFileSync(join(h, f), 'utf8'));
        } catch {
          // not fatal: runc also copies the parent's cpuset
        }
      }
    }
  }
}

function writeConfigs(state: LocalState, paths: WorktreePaths, l: Layout): void {
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

async function writeKubeconfigs(state: LocalState, l: Layout): Promise<void> {
  const n = netPlan(state.slot);
  const sans = [
    n.hostIp, '127.0.0.1', n.kubernetesServiceIp, 'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
  ];
  const pki = await ensurePki(l.pki, state.name, [
    { name: 'apiserver', cn: 'kube-apiserver', sans, server: true },
    // not system:masters: the kubelets authorize it through RBAC (system:kubelet-api-admin)
    { name: 'apiserver-kubelet-client', cn: APISERVER_KUBELET_CLIENT_USER },
    { name: 'admin', cn: 'gc-k8s-admin', org: 'system:masters' },
    { name: 'kube-controller-manager', cn: 'system:kube-controller-manager' },
    { name: 'kube-scheduler', cn: 'system:kube-scheduler' },
    { name: 'kubelet', cn: `system:node:${state.nodeName}`, org: 'system:nodes' },
    { name: 'kubelet-serving', cn: state.nodeName, sans: [n.nodeIp, state.nodeName], server: true },
    { name: 'kube-proxy', cn: 'system:kube-proxy' },
    { name: 'coredns', cn: COREDNS_USER },
    { name: 'local-provisioner', cn: PROVISIONER_USER },
  ]);
  await ensureEtcdPki(l.pki, state.name, state.nodeName);
  ensureEncryptionConfig(join(l.pki, 'encryption-config.yaml'), encryptionConfig);
  const kc = (user: string): string =>
    kubeconfigYaml({ name: state.name, server: state.server, caCert: pki.caCert, ...pki.cert(user) });
  for (const u of ['admin', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'coredns']) {
    writeKubeconfig(join(l.cfg, `${u}.kubeconfig`), kc(u));
  }
}

interface Bins {
  readonly k8s: string;
  readonly etcd: string;
  readonly coredns: string;
}

function nodeEnv(env: NodeJS.ProcessEnv, containerdBin: string): NodeJS.ProcessEnv {
  return {
    PATH: `${containerdBin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: env.HOME ?? '/root',
    LANG: 'C.UTF-8',
  };
}

/**
 * etcd on 127.0.0.1 with TLS for clients and peers, both requiring a certificate of etcd's own CA
 * (no local user can read or write keys without the API server's or the health check's key).
 */
function etcdArgs(state: LocalState, l: Layout): string[] {
  const e = etcdPkiPaths(l.pki);
  const client = `https://127.0.0.1:${state.ports.etcd}`;
  const peer = `https://127.0.0.1:${state.ports.etcdPeer}`;
  return [
    '--name', state.nodeName, '--data-dir', join(l.s, 'etcd'),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--cert-file', e.server.cert, '--key-file', e.server.key, '--client-cert-auth', '--trusted-ca-file', e.ca,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `${state.nodeName}=${peer}`,
    '--peer-cert-file', e.peer.cert, '--peer-key-file', e.peer.key, '--peer-client-cert-auth', '--peer-trusted-ca-file', e.ca,
    '--unsafe-no-fsync', '--log-level', 'warn', '--quota-backend-bytes', String(2 * 1024 ** 3),
  ];
}

function apiserverEtcdArgs(state: LocalState, l: Layout): string[] {
  const e = etcdPkiPaths(l.pki);
  return [
    `--etcd-servers=https://127.0.0.1:${state.ports.etcd}`,
    `--etcd-cafile=${e.ca}`, `--etcd-certfile=${e.apiserverClient.cert}`, `--etcd-keyfile=${e.apiserverClient.key}`,
  ];
}

function startComponent(state: LocalState, paths: WorktreePaths, c: Component, bins: Bins, l: Layout, env: NodeJS.ProcessEnv): void {
  const n = netPlan(state.slot);
  const log = logOf(paths, c);
  appendFileSync(log, `--- ${new Date().toISOString()} starting ${c}\n`);
  const k = (b: string): string => join(bins.k8s, b);
  const e = nodeEnv(env, state.containerdBin);
  const pki = (f: string): string => join(l.pki, f);
  const cfg = (f: string): string => join(l.cfg, f);
  let pid: number;
  switch (c) {
    case 'etcd':
      pid = spawnDetached(join(bins.etcd, 'etcd'), etcdArgs(state, l), { logFile: log, env: e });
      break;
    case 'kube-apiserver':
      pid = spawnDetached(k('kube-apiserver'), [
        `--advertise-address=${n.hostIp}`, `--bind-address=${n.hostIp}`, `--secure-port=${state.ports.apiserver}`,
        ...apiserverEtcdArgs(state, l), `--service-cluster-ip-range=${n.serviceCidr}`,
        `--encryption-provider-config=${pki('encryption-config.yaml')}`, `--authentication-config=${cfg('authentication-config.yaml')}`,
        `--client-ca-file=${pki('ca.crt')}`, `--tls-cert-file=${pki('apiserver.crt')}`, `--tls-private-key-file=${pki('apiserver.key')}`,
        `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`, `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
        '--kubelet-preferred-address-types=InternalIP',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${pki('sa.pub')}`, `--service-account-signing-key-file=${pki('sa.key')}`,
        '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction', '--allow-privileged=true',
        '--profiling=false', '--event-ttl=30m', `--cert-dir=${join(l.s, 'apiserver-certs')}`,
        `--service-node-port-range=30000-32767`,
      ], { logFile: log, env: e });
      break;
    case 'containerd':
      pid = spawnDetached(join(state.containerdBin, 'containerd'), ['--config', cfg('containerd.toml'), '--log-level', 'warn'], {
        logFile: log, env: e, netns: n.netnsPath,
      });
      break;
    case 'kube-controller-manager':
      pid = spawnDetached(k('kube-controller-manager'), [
        `--kubeconfig=${cfg('kube-controller-manager.kubeconfig')}`,
        `--authentication-kubeconfig=${cfg('kube-controller-manager.kubeconfig')}`,
        `--authorization-kubeconfig=${cfg('kube-controller-manager.kubeconfig')}`,
        '--bind-address=127.0.0.1', `--secure-port=${state.ports.controllerManager}`, `--cert-dir=${join(l.s, 'kcm-certs')}`,
        `--service-account-private-key-file=${pki('sa.key')}`, `--root-ca-file=${pki('ca.crt')}`, '--use-service-account-credentials=true',
        `--cluster-signing-cert-file=${pki('ca.crt')}`, `--cluster-signing-key-file=${pki('ca.key')}`,
        '--leader-elect=false', `--service-cluster-ip-range=${n.serviceCidr}`, `--cluster-cidr=${n.podCidr}`,
        '--controllers=*,-nodeipam,-cloud-node-lifecycle', '--node-monitor-grace-period=40s',
      ], { logFile: log, env: e });
      break;
    case 'kube-scheduler':
      pid = spawnDetached(k('kube-scheduler'), [
        `--kubeconfig=${cfg('kube-scheduler.kubeconfig')}`,
        `--authentication-kubeconfig=${cfg('kube-scheduler.kubeconfig')}`,
        `--authorization-kubeconfig=${cfg('kube-scheduler.kubeconfig')}`,
        '--bind-address=127.0.0.1', `--secure-port=${state.ports.scheduler}`, `--cert-dir=${join(l.s, 'scheduler-certs')}`,
        '--leader-elect=false',
      ], { logFile: log, env: e });
      break;
    case 'kubelet':
      pid = spawnDetached(k('kubelet'), [
        `--config=${cfg('kubelet.yaml')}`, `--kubeconfig=${cfg('kubelet.kubeconfig')}`, `--root-dir=${l.kubeletDir}`,
        `--cert-dir=${join(l.kubeletDir, 'pki')}`, `--node-ip=${n.nodeIp}`, `--hostname-override=${state.nodeName}`, '--v=1',
      ], { logFile: log, env: e, netns: n.netnsPath });
      break;
    case 'kube-proxy':
      pid = spawnDetached(k('kube-proxy'), [`--config=${cfg('kube-proxy.yaml')}`, '--v=1'], {
        logFile: log, env: e, netns: n.netnsPath,
      });
      break;
    case 'coredns':
      pid = spawnDetached(join(bins.coredns, 'coredns'), ['-conf', cfg('Corefile')], {
        logFile: log, env: e, netns: n.netnsPath, cwd: l.cfg,
      });
      break;
    case 'provisioner':
      pid = spawnDetached(process.execPath, [
        join(LOCAL_CLUSTER_ROOT, 'scripts', 'local-provisioner.mjs'),
        '--heartbeat', join(l.s, 'provisioner.heartbeat'), '--server', state.server, '--ca', pki('ca.crt'),
        '--cert', pki('local-provisioner.crt'), '--key', pki('local-provisioner.key'),
        '--dir', l.pvDir, '--class', 'standard', '--name', PROVISIONER_NAME, '--node', state.nodeName,
      ], { logFile: log, env: e });
      break;
  }
  state.pids[c] = pid;
  writeState(state);
}

export const PROVISIONER_NAME = 'gc-k8s.io/local-hostpath';

/** Known failure signatures in component logs → what to do about them. */
const KNOWN_FIXES: readonly [RegExp, string][] = [
  [/address already in use/i, 'a port is taken: set GC_K8S_PORT_RANGE=LOW-HIGH to another free range, or stop the process holding it'],
  [/no space left on device/i, 'the disk is full: free space under the worktree and ~/.cache/gc-k8s, then `gc-k8s cluster down && gc-k8s cluster up`'],
  [/oom_score_adj.*permission denied|can't get final child's PID from pipe/i, 'containerd needs restrict_oom_score_adj = true (no CAP_SYS_RESOURCE); check <state>/config/containerd.toml'],
  [/GLIBC_2\.\d+' not found/, 'a binary from a newer Debian suite is first in PATH: use bookworm runc (/usr/sbin/runc)'],
  [/configured to not run on a host using cgroup v1/, 'set failCgroupV1: false in the kubelet configuration'],
  [/x509: certificate|certificate signed by unknown authority/i, 'stale certificates from an older cluster: `gc-k8s cluster down`, then `up`'],
  [/etcdserver: mvcc: database space exceeded/i, 'etcd is full: `gc-k8s cluster down` and `up` (recreates etcd)'],
  [/cannot allocate memory|out of memory/i, 'the host is out of memory: stop other clusters or processes'],
];

export function knownFix(logText: string): string | undefined {
  for (const [re, fix] of KNOWN_FIXES) if (re.test(logText)) return fix;
  return undefined;
}

function failureText(what: string, reason: string, log: string | undefined): string {
  const tail = log === undefined ? '' : tailFile(log, 25);
  const fix = knownFix(tail);
  return `${what}: ${reason} (log: ${log ?? '?'}); last lines:\n${tail}${fix === undefined ? '' : `\nfix: ${fix}`}`;
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; signal: AbortSignal; pidOf?: () => number | undefined; log?: string; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await check()) return;
    const pid = opts.pidOf?.();
    if (opts.pidOf !== undefined && !isAlive(pid)) {
      throw new ClusterError('CLUSTER', failureText(what, 'the process exited', opts.log));
    }
    if (Date.now() > deadline) {
      throw new ClusterError('CLUSTER', failureText(what, `not ready after ${opts.timeoutMs / 1000}s`, opts.log));
    }
    await sleep(opts.intervalMs ?? 250, opts.signal, what);
  }
}

async function bootstrapObjects(api: KubeClient, state: LocalState): Promise<void> {
  const n = netPlan(state.slot);
  for (const o of componentRbac()) await api.ensure(o.path, o.body);
  await api.ensure('/apis/storage.k8s.io/v1/storageclasses', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: PROVISIONER_NAME,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'Immediate',
  });
  // kube-dns: the conventional Service name, backed by CoreDNS on the node
  await api.ensure('/api/v1/namespaces/kube-system/services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
    spec: {
      clusterIP: n.dnsServiceIp,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
      ],
    },
  });
  await api.ensure('/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'kube-dns-node',
      namespace: 'kube-system',
      labels: { 'kubernetes.io/service-name': 'kube-dns', 'endpointslice.kubernetes.io/managed-by': 'gc-k8s' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [n.nodeIp], conditions: { ready: true } }],
    ports: [
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
    ],
  });
}

interface NodeObj {
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}

export interface UpOptions {
  readonly images?: readonly ImageName[];
}

/** Brings the local cluster up (idempotent). Returns the state of the running cluster. */
export async function localUp(ctx: LocalContext, opts: UpOptions = {}): Promise<LocalState> {
  const { paths, reporter, signal, env } = ctx;
  checkLocalPlatform();
  const existing = readState(paths.stateDir);
  if (existing !== undefined) {
    const st = await localStatus(paths);
    const intact = await networkIntact(netPlan(existing.slot));
    if (upgradeAction(existing.version, st.components.some((c) => c.alive), intact) === 'refuse') {
      throw new ClusterError('CLUSTER', outdatedMessage(existing));
    }
    if (existing.phase === 'running' && existing.stateDir === paths.stateDir && st.components.every((c) => c.alive)) {
      reporter.step(`cluster ${existing.name} is already up (${existing.server})`);
      await ensureLocalImages(ctx, existing, opts.images ?? []);
      return existing;
    }
    const dead = st.components.filter((c) => !c.alive).map((c) => c.name);
    // (a moved worktree's components point at the old path: rebuild instead)
    if (existing.phase === 'running' && existing.stateDir === paths.stateDir && intact) {
      // some components died (crash, kill): restart just those from the state on disk, keeping etcd
      // data, volumes and running pods
      try {
        return await repair(ctx, existing, dead as Component[], opts);
      } catch (e) {
        reporter.warn(`repair failed: ${(isClusterError(e) ? e.message : describeError(e)).slice(0, 2000)}`);
      }
    }
    const why = existing.stateDir !== paths.stateDir ? `the worktree moved from ${existing.stateDir}` : `not running: ${dead.join(', ') || 'none'}`;
    reporter.warn(`stale cluster state in ${paths.stateDir} (${why}); rebuilding it from scratch`);
    await localDown(ctx);
  }
  rmSync(logsDir(paths), { recursive: true, force: true });
  assertResources('local cluster', LOCAL_NEEDS, paths.stateDir);

  reporter.step('checking host packages and containerd');
  const { containerdBin } = await ensureHostDeps(env, reporter, signal);
  reporter.step('checking Kubernetes, etcd and CoreDNS binaries');
  const dirs = await ensureBinaries(['k8s', 'etcd', 'coredns'], env, reporter, signal);
  const bins: Bins = { k8s: dirs.k8s, etcd: dirs.etcd, coredns: dirs.coredns };
  const pause = await buildImage('pause', env, reporter, signal);

  const previousOwners = new Map(listSlots().map((s) => [s.slot, s]));
  const slot = await claimSlot(paths.name, paths.stateDir, undefined);
  const n = netPlan(slot);
  let state: LocalState | undefined;
  try {
    const previous = previousOwners.get(slot);
    if (previous !== undefined && previous.stateDir !== paths.stateDir) {
      reporter.warn(`slot ${slot} was left by ${previous.name} (${previous.stateDir} is gone or moved); cleaning it`);
      await cleanupSlotLeftovers(n, previous.name, reporter, previous.stateDir);
    }
    await cleanupSlotLeftovers(n, paths.name, reporter);
    const range = parsePortRange(env.GC_K8S_PORT_RANGE);
    const got = await withHostLock(async () => {
      const p = await allocatePorts(5, range, [], slot);
      recordSlotPorts(slot, paths.name, paths.stateDir, p);
      return p;
    });
    const port = (i: number): number => got[i] ?? 0;
    const ports: LocalPorts = { etcd: port(0), etcdPeer: port(1), apiserver: port(2), controllerManager: port(3), scheduler: port(4) };
    state = {
      version: STATE_VERSION,
      backend: 'local',
      name: paths.name,
      worktree: paths.worktree,
      stateDir: paths.stateDir,
      slot,
      ports,
      nodeName: paths.name,
      server: `https://${n.hostIp}:${ports.apiserver}`,
      containerdBin,
      pids: {},
      images: {},
      phase: 'starting',
      createdAt: new Date().toISOString(),
    };
    const l = layout(paths);
    rmSync(l.s, { recursive: true, force: true });
    writeState(state);
    reporter.step(`cluster ${state.name}: slot ${slot}, node IP ${n.nodeIp}, pods ${n.podCidr}, services ${n.serviceCidr}, ports ${Object.values(ports).join(',')}`);
    reporter.info(`logs: ${logsDir(paths)}`);
    await setupNetwork(n, ports.apiserver, signal);
    prepareCgroupRoot(n);
    writeConfigs(state, paths, l);
    await writeKubeconfigs(state, l);
    const st = state;
    const pr = probes(st, paths);
    const wait = (c: Component, timeoutMs: number): Promise<void> =>
      waitFor(`${c} health`, () => pr[c].check(), { timeoutMs, signal, pidOf: () => st.pids[c], log: logOf(paths, c) });

    reporter.step('starting etcd and containerd');
    startComponent(st, paths, 'etcd', bins, l, env);
    startComponent(st, paths, 'containerd', bins, l, env);
    await wait('etcd', 30_000);
    reporter.step('starting kube-apiserver');
    startComponent(st, paths, 'kube-apiserver', bins, l, env);
    await wait('containerd', 20_000);
    reporter.info(`importing ${pause.ref}`);
    await importImage(join(containerdBin, 'ctr'), l.sock, pause, reporter, signal);
    // requested images are built/imported while the control plane starts (containerd is ready)
    const imagesDone = ensureLocalImages(ctx, st, opts.images ?? []).then(
      () => undefined,
      (err: unknown) => toClusterError(err, 'CLUSTER'),
    );
    // everything else retries against the apiserver on its own: start it all now
    reporter.step('starting kubelet, kube-proxy, CoreDNS, provisioner');
    for (const c of ['kubelet', 'kube-proxy', 'coredns', 'provisioner'] as const) startComponent(st, paths, c, bins, l, env);
    reporter.info('waiting for kube-apiserver /readyz');
    await wait('kube-apiserver', 90_000);
    // the controller manager exits when RBAC bootstrap is not done yet: start it after /readyz
    reporter.step('starting kube-controller-manager, kube-scheduler');
    for (const c of ['kube-controller-manager', 'kube-scheduler'] as const) startComponent(st, paths, c, bins, l, env);
    const api = new KubeClient(credsFor(l, st.server, 'admin'));
    await bootstrapObjects(api, st);
    writeClientConfig(paths, l);
    reporter.step(`waiting for node ${st.nodeName} to be Ready`);
    let lastMsg = '';
    await waitFor(
      'node Ready',
      async () => {
        const node = await api.get<NodeObj>(`/api/v1/nodes/${st.nodeName}`).catch(() => undefined);
        const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
        const msg = ready === undefined ? 'not registered yet' : `${ready.status}: ${ready.message ?? ''}`;
        if (msg !== lastMsg) {
          reporter.info(`node: ${msg}`);
          lastMsg = msg;
        }
        return ready?.status === 'True';
      },
      { timeoutMs: 120_000, signal, pidOf: () => st.pids.kubelet, log: logOf(paths, 'kubelet'), intervalMs: 500 },
    );
    await waitFor('default ServiceAccount', async () => (await api.get('/api/v1/namespaces/default/serviceaccounts/default').catch(() => undefined)) !== undefined, {
      timeoutMs: 60_000, signal, pidOf: () => st.pids['kube-controller-manager'], log: logOf(paths, 'kube-controller-manager'),
    });
    for (const c of ['kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'coredns', 'provisioner'] as const) await wait(c, 60_000);
    const imageError = await imagesDone;
    if (imageError !== undefined) throw imageError;
    st.phase = 'running';
    writeState(st);
    reporter.step(`cluster ${st.name} is up: export KUBECONFIG=${paths.kubeconfig}`);
    return st;
  } catch (e) {
    const aborted = signal.aborted || (isClusterError(e) && e.code === 'ABORTED');
    reporter.warn(`${aborted ? 'interrupted' : 'failed'}: ${(isClusterError(e) ? e.message : describeError(e)).slice(0, 4000)}`);
    reporter.step('cleaning up the partial cluster');
    await localDown({ ...ctx, signal: new AbortController().signal }).catch((err: unknown) => {
      reporter.warn(`cleanup: ${describeError(err)}`);
    });
    if (state === undefined) releaseSlot(slot, paths.stateDir);
    throw e;
  }
}

/** The cluster's netns is mounted and its host veth exists (false after a reboot or manual cleanup). */
async function networkIntact(n: NetPlan): Promise<boolean> {
  if (mountsUnder([n.netnsPath]).length === 0) return false;
  return (await run('ip', ['link', 'show', n.hostIf], { allowFail: true })).code === 0;
}

/** Restarts the dead components of a running cluster in dependency order and waits for health. */
async function repair(ctx: LocalContext, state: LocalState, dead: readonly Component[], opts: UpOptions): Promise<LocalState> {
  const { paths, reporter, signal, env } = ctx;
  reporter.warn(`cluster ${state.name}: not running: ${dead.join(', ')}; restarting them (data and pods are kept)`);
  const dirs = await ensureBinaries(['k8s', 'etcd', 'coredns'], env, reporter, signal);
  const bins: Bins = { k8s: dirs.k8s, etcd: dirs.etcd, coredns: dirs.coredns };
  const l = layout(paths);
  const pr = probes(state, paths);
  for (const c of COMPONENTS) {
    if (!dead.includes(c)) continue;
    reporter.step(`restarting ${c}`);
    startComponent(state, paths, c, bins, l, env);
    await waitFor(`${c} health`, () => pr[c].check(), {
      timeoutMs: c === 'kube-apiserver' ? 90_000 : 60_000,
      signal,
      pidOf: () => state.pids[c],
      log: logOf(paths, c),
    });
  }
  const api = new KubeClient(credsFor(l, state.server, 'admin'));
  await waitFor(
    'node Ready',
    async () => {
      const node = await api.get<NodeObj>(`/api/v1/nodes/${state.nodeName}`).catch(() => undefined);
      return node?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    },
    { timeoutMs: 120_000, signal, pidOf: () => state.pids.kubelet, log: logOf(paths, 'kubelet'), intervalMs: 500 },
  );
  writeClientConfig(paths, l);
  await ensureLocalImages(ctx, state, opts.images ?? []);
  reporter.step(`cluster ${state.name} is up again: export KUBECONFIG=${paths.kubeconfig}`);
  return state;
}

function writeClientConfig(paths: WorktreePaths, l: Layout): void {
  mkdirSync(join(paths.worktree, '.kube'), { recursive: true });
  copyFileSync(join(l.cfg, 'admin.kubeconfig'), paths.kubeconfig);
  writeEnvrc(paths);
}

const ENVRC_LINE = 'export KUBECONFIG="$PWD/.kube/config"  # gc-k8s cluster';

export function writeEnvrc(paths: WorktreePaths): void {
  let text = '';
  try {
    text = readFileSync(paths.envrc, 'utf8');
  } catch {
    // new file
  }
  if (text.includes(ENVRC_LINE)) return;
  writeFileSync(paths.envrc, (text === '' || text.endsWith('\n') ? text : `${text}\n`) + `${ENVRC_LINE}\n`);
}

export function removeEnvrcLine(paths: WorktreePaths): void {
  try {
    const text = readFileSync(paths.envrc, 'utf8');
    const rest = text.split('\n').filter((l) => l !== ENVRC_LINE).join('\n');
    if (rest.trim() === '') rmSync(paths.envrc, { force: true });
    else writeFileSync(paths.envrc, rest);
  } catch {
    // none
  }
}

/** Builds (cached) and imports images into the running cluster; returns their references. */
export async function ensureLocalImages(ctx: LocalContext, state: LocalState, names: readonly ImageName[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const img: BuiltImage = await buildImage(name, ctx.env, ctx.reporter, ctx.signal);
    await importImage(join(state.containerdBin, 'ctr'), layout(ctx.paths).sock, img, ctx.reporter, ctx.signal);
    state.images[name] = img.ref;
    out[name] = img.ref;
  }
  if (names.length > 0) writeState(state);
  return out;
}

// ---------------------------------------------------------------- down

function mountsUnder(prefixes: readonly string[]): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const mp = line.split(' ')[4];
    if (mp === undefined) continue;
    const p = mp.replace(/\\040/g, ' ');
    if (prefixes.some((pre) => p === pre || p.startsWith(`${pre}/`))) out.push(p);
  }
  // deepest first
  return [...new Set(out)].sort((a, b) => b.length - a.length);
}

function pidsInCgroup(root: string): number[] {
  const out: number[] = [];
  const walk = (d: string): void => {
    try {
      for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (line !== '') out.push(Number(line));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      // vanished
    }
  };
  walk(root);
  return out;
}

function removeCgroupTree(d: string): void {
  try {
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) removeCgroupTree(join(d, e.name));
    rmdirSync(d);
  } catch {
    // already gone or busy (reported by the leak check)
  }
}

/** PIDs whose network namespace is the one bind-mounted at `path`. */
function processesInNetns(path: string): number[] {
  let target: string;
  try {
    target = `net:[${statSync(path).ino}]`;
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${e}/ns/net`) === target) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

/** Removes everything a slot may have left on the host (used before up and by down). */
export async function cleanupSlotLeftovers(n: NetPlan, name: string, reporter: Reporter, stateDir?: string): Promise<void> {
  const never = new AbortController().signal;
  // processes: anything still running with our run dir (or state dir) in its command line
  const stragglers = findProcesses(`${runDir(name)}/`);
  if (stateDir !== undefined) stragglers.push(...findProcesses(`${stateDir}/`));
  // anything still living in the cluster's network namespace (e.g. its previous owner moved away)
  stragglers.push(...processesInNetns(n.netnsPath));
  // pods: every process in our cgroup tree
  for (const h of cgroupHierarchies()) stragglers.push(...pidsInCgroup(join(h, n.cgroupRoot)));
  if (stragglers.length > 0) await stopPids([...new Set(stragglers)], 500, never);
  const mounts = mountsUnder(stateDir === undefined ? [runDir(name)] : [runDir(name), stateDir]);
  if (mounts.length > 0) await run('umount', ['-l', ...mounts], { allowFail: true });
  if (existsSync(n.netnsPath)) await run('ip', ['netns', 'delete', n.netns], { allowFail: true });
  await run('ip', ['link', 'delete', n.hostIf], { allowFail: true });
  await run('nft', ['delete', 'table', 'ip', n.nftTable], { allowFail: true });
  for (const h of cgroupHierarchies()) removeCgroupTree(join(h, n.cgroupRoot));
  rmSync(runDir(name), { recursive: true, force: true });
  reporter.info(`cleaned slot ${n.slot} (netns ${n.netns}, link ${n.hostIf}, nft ${n.nftTable}, cgroup ${n.cgroupRoot})`);
}

/** Stops everything of this worktree's cluster and removes what it created. Safe to repeat. */
export async function localDown(ctx: LocalContext): Promise<void> {
  const { paths, reporter } = ctx;
  const state = readState(paths.stateDir);
  const never = new AbortController().signal;
  if (state === undefined) {
    // maybe a slot record without state (crash during the first seconds of up)
    const mine = listSlots().filter((s) => s.stateDir === paths.stateDir);
    for (const s of mine) {
      await cleanupSlotLeftovers(netPlan(s.slot), s.name, reporter);
      releaseSlot(s.slot, paths.stateDir);
    }
    if (mine.length === 0) reporter.step(`no local cluster in ${paths.stateDir}`);
    return;
  }
  reporter.step(`stopping cluster ${state.name}`);
  const n = netPlan(state.slot);
  const owned = (c: Component): number[] => {
    const p = state.pids[c];
    return p !== undefined && ownsPid(p, paths, state) ? [p] : [];
  };
  // node side first (kubelet would restart pods), then pods, then the control plane
  await stopPids(['kubelet', 'kube-proxy', 'coredns', 'provisioner', 'kube-scheduler', 'kube-controller-manager'].flatMap((c) => owned(c as Component)), 3000, never);
  const podPids: number[] = [];
  for (const h of cgroupHierarchies()) podPids.push(...pidsInCgroup(join(h, n.cgroupRoot)));
  const shims = findProcesses(`${runDir(state.name)}/`).filter((p) => cmdline(p)?.includes('containerd-shim') === true);
  await stopPids([...new Set([...podPids, ...shims])], 300, never);
  await stopPids([...owned('containerd'), ...owned('kube-apiserver')], 3000, never);
  await stopPids(owned('etcd'), 3000, never);
  // stragglers that still mention our state dir (e.g. a component restarted by hand)
  const rest = findProcesses(`${paths.stateDir}/`);
  if (rest.length > 0) await stopPids(rest, 1000, never);
  reporter.info('removing mounts, network namespace, links, nft table, cgroups');
  const l = layout(paths);
  const mounts = mountsUnder([l.s, l.run]);
  if (mounts.length > 0) await run('umount', ['-l', ...mounts], { allowFail: true });
  // the slot may meanwhile belong to another worktree (this one was moved and its slot reclaimed)
  const slotOwner = listSlots().find((r) => r.slot === state.slot);
  if (slotOwner === undefined || slotOwner.stateDir === paths.stateDir || slotOwner.name === state.name) {
    await cleanupSlotLeftovers(n, state.name, reporter, state.stateDir);
  }
  else reporter.warn(`slot ${state.slot} now belongs to ${slotOwner.name}; leaving its network and cgroups alone`);
  // kubelet's /var/log/containers symlinks into our pod log dir
  try {
    for (const f of readdirSync('/var/log/containers')) {
      const p = join('/var/log/containers', f);
      try {
        if (readlinkSync(p).startsWith(l.podLogs)) rmSync(p, { force: true });
      } catch {
        // not a link
      }
    }
  } catch {
    // no dir
  }
  // rm -rf is several times faster than a recursive rmSync on the unpacked image snapshots
  await run('rm', ['-rf', '--one-file-system', l.s], { allowFail: true });
  rmSync(l.s, { recursive: true, force: true });
  releaseSlot(state.slot, paths.stateDir);
  if (state.stateDir !== paths.stateDir) releaseSlot(state.slot, state.stateDir);
  // host-wide directories the kubelet and containerd create outside their configured roots: removed
  // with the last local cluster, and only when empty (a host kubelet/containerd keeps its own)
  if (listSlots().length === 0) {
    for (const d of ['/var/lib/kubelet/device-plugins', '/var/lib/kubelet', '/run/containerd/s', '/run/containerd']) {
      try {
        rmdirSync(d);
      } catch {
        // not empty or absent
      }
    }
  }
  // restore ip_forward when the last local cluster is gone
  if (listSlots().length === 0 && existsSync(ipForwardFile())) {
    try {
      writeFileSync('/proc/sys/net/ipv4/ip_forward', readFileSync(ipForwardFile(), 'utf8').trim());
      rmSync(ipForwardFile(), { force: true });
    } catch {
      // leave it
    }
  }
  try {
    if (readFileSync(paths.kubeconfig, 'utf8').includes(state.server)) rmSync(paths.kubeconfig, { force: true });
  } catch {
    // none
  }
  removeEnvrcLine(paths);
  reporter.step(`cluster ${state.name} is down`);
}

/** Cleans every stale slot (worktree moved or deleted without `down`); returns their names. */
export async function pruneStaleSlots(reporter: Reporter): Promise<string[]> {
  const pruned: string[] = [];
  for (const rec of listSlots()) {
    if (!slotIsStale(rec)) continue;
    reporter.step(`pruning ${rec.name} (slot ${rec.slot}, ${rec.stateDir} is gone or moved)`);
    await cleanupSlotLeftovers(netPlan(rec.slot), rec.name, reporter, rec.stateDir);
    // a half-deleted worktree (rm -rf stopped at the kubelet's mounts): finish removing our state
    if (existsSync(rec.stateDir) && !existsSync(join(rec.stateDir, STATE_FILE))) rmSync(rec.stateDir, { recursive: true, force: true });
    rmSync(join(RUN_DIR, 'slots', `${rec.slot}.json`), { force: true });
    pruned.push(rec.name);
  }
  return pruned;
}

/** What is left on the host from this cluster (for tests and `status`): empty means clean. */
export async function localLeftovers(name: string, slot: number, stateDir: string): Promise<string[]> {
  const n = netPlan(slot);
  const out: string[] = [];
  const procs = [...findProcesses(`${runDir(name)}/`), ...findProcesses(`${stateDir}/`)];
  if (procs.length > 0) out.push(`processes: ${procs.join(',')}`);
  const mounts = mountsUnder([runDir(name), stateDir]);
  if (mounts.length > 0) out.push(`mounts: ${mounts.join(', ')}`);
  if (existsSync(n.netnsPath)) out.push(`netns ${n.netns}`);
  const links = (await run('ip', ['-o', 'link', 'show'], { allowFail: true })).stdout;
  if (links.includes(`${n.hostIf}@`) || links.includes(`${n.hostIf}:`)) out.push(`link ${n.hostIf}`);
  const nft = (await run('nft', ['list', 'tables'], { allowFail: true })).stdout;
  if (nft.split('\n').includes(`table ip ${n.nftTable}`)) out.push(`nft table ${n.nftTable}`);
  for (const h of cgroupHierarchies()) if (existsSync(join(h, n.cgroupRoot))) out.push(`cgroup ${join(h, n.cgroupRoot)}`);
  if (existsSync(runDir(name))) out.push(`dir ${runDir(name)}`);
  if (existsSync(stateDir)) out.push(`dir ${stateDir}`);
  return out;
}
