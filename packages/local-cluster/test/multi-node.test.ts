// `cluster up --nodes N`: the plan of every node (addresses, names, files, command lines, the
// host's nft table) and the validation of the node count, which happens before any I/O. Node 1 of
// a multi-node cluster, and the whole of a 1-node one, are what they were before multi-node.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkNodeCount, ensureCluster } from '../src/api.js';
import { parseNodes, runClusterCommand } from '../src/cli.js';
import { cniConflist } from '../src/config/cni.js';
import { kubeletConfig } from '../src/config/kubelet.js';
import { hostNftRules } from '../src/config/nft.js';
import { MAX_NODES, allNodeNetPlans, netPlan, nodeNetPlan, nodeNetPlans } from '../src/host.js';
import { componentCommand, type Bins } from '../src/local/commands.js';
import { layout, nodeLayout } from '../src/local/layout.js';
import { monitoringTargets, prometheusScrapeConfigs } from '../src/local/monitoring.js';
import {
  COMPONENTS,
  STATE_VERSION,
  componentIds,
  nodeNameOf,
  nodeNames,
  resizeMessage,
  splitComponentId,
  type LocalState,
} from '../src/local/state.js';
import { clusterCertSpecs, nodeCertSpecs } from '../src/pki.js';

const tmp = mkdtempSync(join(tmpdir(), 'gck-multi-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const paths = {
  worktree: '/wt',
  name: 'gck-wt-abc123',
  stateDir: '/wt/.gc-k8s/cluster',
  kubeconfig: '/wt/.kube/config',
  envrc: '/wt/.envrc',
};
const l = layout(paths);
const bins: Bins = {
  k8s: '/cache/k8s/bin',
  etcd: '/cache/etcd/bin',
  coredns: '/cache/coredns/bin',
  kubeRouter: '/cache/kube-router/bin',
  kubeStateMetrics: '/cache/kube-state-metrics/bin',
  metricsServer: '/cache/metrics-server/bin',
  node: '/usr/bin/node',
  provisioner: '/pkg/scripts/local-provisioner.mjs',
};

function stateOf(nodes: number | undefined): LocalState {
  return {
    version: STATE_VERSION,
    backend: 'local',
    name: paths.name,
    worktree: '/wt',
    stateDir: paths.stateDir,
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
    nodeName: paths.name,
    ...(nodes === undefined ? {} : { nodes }),
    server: 'https://10.250.3.1:24002',
    containerdBin: '/cache/containerd/bin',
    pids: {},
    images: {},
    phase: 'running',
    createdAt: '2025-01-01T00:00:00.000Z',
  };
}

/** "10.250.3.4/30" → [first, last] address as numbers */
function range(cidr: string): [number, number] {
  const [ip, bits] = cidr.split('/');
  const n = (ip ?? '').split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  return [n, n + size - 1];
}
const overlaps = (a: string, b: string): boolean => {
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 <= b1 && b0 <= a1;
};

describe('the network plan of each node', () => {
  it('node 1 is the single-node plan itself', () => {
    expect(nodeNetPlan(3, 1)).toEqual(netPlan(3));
    expect(nodeNetPlans(3, 1)).toEqual([netPlan(3)]);
  });

  it('node k has its own netns, veth (the k-th /30 of 10.250.N.0/24), pod CIDR and cgroup root', () => {
    expect(nodeNetPlan(3, 2)).toMatchObject({
      netns: 'gck3n2',
      netnsPath: '/run/netns/gck3n2',
      hostIf: 'gck3h2',
      nodeIf: 'eth0',
      hostIp: '10.250.3.5',
      nodeIp: '10.250.3.6',
      podCidr: '10.245.3.0/24',
      podGateway: '10.245.3.1',
      bridge: 'gck3br2',
      cgroupRoot: '/gck-3-n2',
      // the cluster's: one service range and one host table for all nodes
      serviceCidr: '10.96.3.0/24',
      dnsServiceIp: '10.96.3.10',
      nftTable: 'gck3',
    });
    expect(nodeNetPlan(3, 4)).toMatchObject({ hostIp: '10.250.3.13', nodeIp: '10.250.3.14', podCidr: '10.247.3.0/24' });
  });

  it('no two ranges of a cluster overlap, nor those of two clusters, and every name fits a link name', () => {
    const cidrsOf = (slot: number): string[] =>
      allNodeNetPlans(slot).flatMap((p) => [
        `${p.hostIp.replace(/\.\d+$/, '')}.${String(Number(p.hostIp.split('.')[3]) - 1)}/30`,
        p.podCidr,
      ]);
    for (const slot of [1, 3, 250]) {
      const all = [...cidrsOf(slot), netPlan(slot).serviceCidr];
      for (let i = 0; i < all.length; i++)
        for (let j = i + 1; j < all.length; j++) expect(overlaps(all[i] ?? '', all[j] ?? '')).toBe(false);
      for (const p of allNodeNetPlans(slot)) {
        expect(p.hostIf.length).toBeLessThanOrEqual(15);
        expect(p.bridge.length).toBeLessThanOrEqual(15);
        expect(`${p.netns}e`.length).toBeLessThanOrEqual(15); // the node end's temporary name
      }
    }
    for (const a of cidrsOf(3)) for (const b of cidrsOf(4)) expect(overlaps(a, b)).toBe(false);
    expect(new Set(allNodeNetPlans(3).map((p) => p.netns)).size).toBe(MAX_NODES);
  });
});

describe('components and names of each node', () => {
  it('a 1-node cluster has exactly the components it always had; node k adds its own four', () => {
    expect(componentIds(1)).toEqual([...COMPONENTS]);
    expect(componentIds(2)).toEqual([...COMPONENTS, 'containerd@2', 'kubelet@2', 'kube-proxy@2', 'kube-router@2']);
    expect(componentIds(3)).toHaveLength(COMPONENTS.length + 8);
    expect(splitComponentId('kubelet@2')).toEqual({ component: 'kubelet', node: 2 });
    expect(splitComponentId('etcd')).toEqual({ component: 'etcd', node: 1 });
  });

  it('names nodes after the cluster, node 1 being the cluster name', () => {
    expect(nodeNames(stateOf(undefined))).toEqual([paths.name]);
    expect(nodeNames(stateOf(3))).toEqual([paths.name, `${paths.name}-n2`, `${paths.name}-n3`]);
    expect(nodeNameOf(stateOf(2), 2)).toBe('gck-wt-abc123-n2');
  });

  it('the 1-node plan is unchanged: every command line of a state with nodes: 1 is that of a state without', () => {
    for (const c of COMPONENTS) expect(componentCommand(c, stateOf(1), l, bins)).toEqual(componentCommand(c, stateOf(undefined), l, bins));
    expect(nodeLayout(l, 1)).toMatchObject({ sock: l.sock, kubeletDir: l.kubeletDir, podLogs: l.podLogs, cniConf: l.cniConf, cfg: l.cfg });
    // the certificates of node 1 are those clusterCertSpecs always had
    expect(clusterCertSpecs(paths.name, netPlan(3)).filter((c) => c.name.startsWith('kubelet'))).toEqual(
      nodeCertSpecs(paths.name, netPlan(3), 1),
    );
  });

  it("node 1's control plane and node components keep their command lines on a 2-node cluster", () => {
    for (const c of COMPONENTS.filter((x) => x !== 'provisioner'))
      expect(componentCommand(c, stateOf(2), l, bins)).toEqual(componentCommand(c, stateOf(undefined), l, bins));
    // the provisioner's volumes may be used on every node (all share this host's filesystem)
    const args = componentCommand('provisioner', stateOf(2), l, bins).args;
    expect(args[args.indexOf('--node') + 1]).toBe('gck-wt-abc123,gck-wt-abc123-n2');
  });

  it("node 2's components run in its netns with its own files, name and address", () => {
    const st = stateOf(2);
    const n2 = '/wt/.gc-k8s/cluster/nodes/n2';
    const kubelet = componentCommand('kubelet@2', st, l, bins);
    expect(kubelet.netns).toBe('/run/netns/gck3n2');
    expect(kubelet.args).toEqual([
      `--config=${n2}/config/kubelet.yaml`,
      `--kubeconfig=${n2}/config/kubelet.kubeconfig`,
      `--root-dir=${n2}/kubelet`,
      `--cert-dir=${n2}/kubelet/pki`,
      '--node-ip=10.250.3.6',
      '--hostname-override=gck-wt-abc123-n2',
      '--containerd=/run/gc-k8s/gck-wt-abc123/n2/containerd.sock',
      '--v=1',
    ]);
    expect(componentCommand('containerd@2', st, l, bins)).toEqual({
      cmd: '/cache/containerd/bin/containerd',
      args: ['--config', `${n2}/config/containerd.toml`, '--log-level', 'warn'],
      netns: '/run/netns/gck3n2',
    });
    expect(componentCommand('kube-proxy@2', st, l, bins)).toMatchObject({
      args: [`--config=${n2}/config/kube-proxy.yaml`, '--v=1'],
      netns: '/run/netns/gck3n2',
    });
    const router = componentCommand('kube-router@2', st, l, bins);
    expect(router.netns).toBe('/run/netns/gck3n2');
    expect(router.args).toContain('--hostname-override=gck-wt-abc123-n2');
    expect(router.args).toContain('--kubeconfig=/wt/.gc-k8s/cluster/config/kube-router.kubeconfig');
  });

  it("node 2's kubelet asks CoreDNS on node 1 and has an identity of its own", () => {
    const cfg = kubeletConfig({
      nodeIp: nodeNetPlan(3, 2).nodeIp,
      clientCaFile: 'ca',
      tlsCertFile: 'c',
      tlsPrivateKeyFile: 'k',
      cgroupRoot: nodeNetPlan(3, 2).cgroupRoot,
      runtimeSocket: 's',
      podLogsDir: 'p',
      clusterDns: netPlan(3).nodeIp,
    });
    expect(cfg.clusterDNS).toEqual(['10.250.3.2']);
    expect(cfg.address).toBe('10.250.3.6');
    expect(nodeCertSpecs('gck-wt-abc123-n2', nodeNetPlan(3, 2), 2)).toEqual([
      { name: 'kubelet-n2', cn: 'system:node:gck-wt-abc123-n2', org: 'system:nodes' },
      { name: 'kubelet-serving-n2', cn: 'gck-wt-abc123-n2', sans: ['10.250.3.6', 'gck-wt-abc123-n2'], server: true },
    ]);
  });
});

describe('traffic between nodes keeps pod IPs', () => {
  it('the CNI bridge masquerades only on a 1-node cluster', () => {
    const base = { name: 'gck3', bridge: 'b', podCidr: '10.245.3.0/24', podGateway: '10.245.3.1', ipamDataDir: '/d' };
    expect(JSON.parse(cniConflist(base)).plugins[0].ipMasq).toBe(true);
    expect(JSON.parse(cniConflist({ ...base, ipMasq: false })).plugins[0].ipMasq).toBe(false);
  });

  it("the host table of one node is the single-node table; of two, it masquerades only what leaves the cluster's veths", () => {
    const one = hostNftRules({ plan: netPlan(3), apiserverPort: 24002, hostDns: [] });
    expect(hostNftRules({ plan: netPlan(3), apiserverPort: 24002, hostDns: [], nodes: [netPlan(3)] })).toBe(one);
    const two = hostNftRules({ plan: netPlan(3), apiserverPort: 24002, hostDns: ['192.0.2.2'], nodes: nodeNetPlans(3, 2) });
    expect(two).toContain(
      'ip saddr { 10.250.3.0/30, 10.250.3.4/30, 10.244.3.0/24, 10.245.3.0/24 } oifname != { "gck3h", "gck3h2" } masquerade',
    );
    // node 2's kubelet and pods reach the API server (and host DNS) through their own veth; nothing else on the host
    expect(two).toContain('iifname { "gck3h", "gck3h2" } ip daddr 10.250.3.1 tcp dport 24002 accept');
    expect(two).toContain('iifname { "gck3h", "gck3h2" } ip daddr { 192.0.2.2 } meta l4proto { tcp, udp } th dport 53 accept');
    expect(two).toContain('iifname { "gck3h", "gck3h2" } reject with icmp type admin-prohibited');
    expect(two).toContain('iifname { "gck3h", "gck3h2" } ip daddr 10.96.3.0/24 reject with icmp type host-unreachable');
  });
});

describe('monitoring of every node', () => {
  it("scrapes each node's kubelet, labelled with its node; one node is scraped as before", () => {
    const one = monitoringTargets(stateOf(1), l);
    expect(one?.nodes).toBeUndefined();
    expect(monitoringTargets(stateOf(undefined), l)).toEqual(one);
    const two = monitoringTargets(stateOf(2), l);
    expect(two?.nodes?.map((n) => n.kubeletCadvisor)).toEqual([
      'https://10.250.3.2:10250/metrics/cadvisor',
      'https://10.250.3.6:10250/metrics/cadvisor',
    ]);
    const jobs = prometheusScrapeConfigs(two ?? ({} as never));
    expect(jobs.find((j) => j['job_name'] === 'kubelet-cadvisor')?.['static_configs']).toEqual([
      { targets: ['10.250.3.2:10250'], labels: { node: 'gck-wt-abc123' } },
      { targets: ['10.250.3.6:10250'], labels: { node: 'gck-wt-abc123-n2' } },
    ]);
  });
});

describe('--nodes is checked before anything is made', () => {
  it('parses 1..4 and refuses everything else with one line naming the value', () => {
    expect(parseNodes(undefined)).toBeUndefined();
    expect(parseNodes('1')).toBe(1);
    expect(parseNodes('4')).toBe(4);
    for (const bad of ['0', '5', '50', 'abc', '', '1.5', '-1', '2x', '0x2', ' 2', true] as const) {
      expect(() => parseNodes(bad)).toThrow(/^--nodes ".*": want a whole number from 1 to 4$/);
    }
    // an unbounded value is not echoed whole
    expect(() => parseNodes('9'.repeat(500))).toThrow(/^--nodes "9{20}": /);
    expect(() => {
      checkNodeCount(0);
    }).toThrow(/from 1 to 4/);
    expect(() => {
      checkNodeCount(2.5);
    }).toThrow(/from 1 to 4/);
  });

  it.each([['0'], ['50'], ['abc']])('gc-k8s cluster up --nodes %s: one line, exit 2, nothing made', async (value) => {
    const wt = join(tmp, `bad-${value}`);
    mkdirSync(join(wt, '.git'), { recursive: true });
    const out: string[] = [];
    const err: string[] = [];
    const sink = (into: string[]) =>
      ({
        write: (c: string | Uint8Array) => {
          into.push(String(c));
          return true;
        },
      }) as unknown as NodeJS.WritableStream;
    const io = { stdout: sink(out), stderr: sink(err), env: {}, cwd: wt, signal: new AbortController().signal };
    expect(await runClusterCommand(['up', '--nodes', value], io)).toBe(2);
    expect(err.join('')).toBe(`gc-k8s cluster: --nodes "${value}": want a whole number from 1 to 4\n`);
    expect(out.join('')).toBe('');
    expect(readdirSync(wt)).toEqual(['.git']);
  });

  it('ensureCluster refuses a bad count before choosing a backend', async () => {
    const wt = join(tmp, 'api-bad');
    mkdirSync(join(wt, '.git'), { recursive: true });
    await expect(ensureCluster({ cwd: wt, env: {}, nodes: 7 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(existsSync(join(wt, '.gc-k8s'))).toBe(false);
  });

  it('a different count on an existing cluster is refused in one line (no resize)', () => {
    const m = resizeMessage('gck-wt-abc123', 1, 2);
    expect(m).not.toContain('\n');
    expect(m).toBe(
      'cluster gck-wt-abc123 has 1 node; --nodes 2 would resize it, which is not supported: run `gc-k8s cluster down` first, then `gc-k8s cluster up --nodes 2`',
    );
  });
});
