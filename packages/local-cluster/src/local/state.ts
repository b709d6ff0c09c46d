// The state of a local cluster on disk (<worktree>/.gc-k8s/cluster/state.json): what runs, where,
// with which PIDs, and which version of this code made it. Written atomically after every change.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageName } from '../images.js';
import type { WorktreePaths } from '../names.js';
import type { Reporter } from '../progress.js';

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
  'kube-router',
  'kube-state-metrics',
  'metrics-server',
] as const;

export type Component = (typeof COMPONENTS)[number];

/** What every node runs; node 1's are COMPONENTS, node k ≥ 2's are named `<component>@<k>`. */
export const NODE_COMPONENTS = ['containerd', 'kubelet', 'kube-proxy', 'kube-router'] as const satisfies readonly Component[];

export type NodeComponent = (typeof NODE_COMPONENTS)[number];

/** A component of node 1 (and the control plane), or `kubelet@2`: a node component of node k ≥ 2. */
export type ComponentId = Component | `${NodeComponent}@${number}`;

/** The node count of a state (1 for clusters made before `--nodes`). */
export const nodeCount = (state: Pick<LocalState, 'nodes'>): number => state.nodes ?? 1;

/** Every component of a cluster with `nodes` nodes: COMPONENTS, then each extra node's NODE_COMPONENTS. */
export function componentIds(nodes: number): ComponentId[] {
  const out: ComponentId[] = [...COMPONENTS];
  for (let k = 2; k <= nodes; k++) for (const c of NODE_COMPONENTS) out.push(`${c}@${k}`);
  return out;
}

/** The Node name of node k: node 1's is the cluster's name, node k ≥ 2's that with `-n<k>`. */
export const nodeNameOf = (state: Pick<LocalState, 'nodeName'>, k: number): string =>
  k === 1 ? state.nodeName : `${state.nodeName}-n${k}`;

/** The Node names of every node of a cluster, node 1 first. */
export const nodeNames = (state: Pick<LocalState, 'nodeName' | 'nodes'>): string[] =>
  Array.from({ length: nodeCount(state) }, (_, i) => nodeNameOf(state, i + 1));

/** The component and node of an id: `kubelet@2` → kubelet on node 2; `etcd` → etcd (node 1). */
export function splitComponentId(id: ComponentId): { readonly component: Component; readonly node: number } {
  const at = id.indexOf('@');
  if (at < 0) return { component: id as Component, node: 1 };
  return { component: id.slice(0, at) as NodeComponent, node: Number(id.slice(at + 1)) };
}

export interface LocalPorts {
  readonly etcd: number;
  readonly etcdPeer: number;
  readonly apiserver: number;
  readonly controllerManager: number;
  readonly scheduler: number;
  /** kube-state-metrics' /metrics (plain HTTP on 127.0.0.1); absent in clusters made before it, until their repair */
  readonly kubeStateMetrics?: number;
  /** kube-state-metrics' own metrics (127.0.0.1) */
  readonly kubeStateMetricsTelemetry?: number;
  /** metrics-server's HTTPS port on the host end of the veth (the API server proxies metrics.k8s.io there) */
  readonly metricsServer?: number;
}

/** The ports a cluster's monitoring components listen on. */
export type MonitoringPorts = Required<Pick<LocalPorts, 'kubeStateMetrics' | 'kubeStateMetricsTelemetry' | 'metricsServer'>>;

/** The monitoring ports of a state, or undefined for a cluster made before them (repair allocates them). */
export function monitoringPorts(ports: LocalPorts): MonitoringPorts | undefined {
  const { kubeStateMetrics, kubeStateMetricsTelemetry, metricsServer } = ports;
  if (kubeStateMetrics === undefined || kubeStateMetricsTelemetry === undefined || metricsServer === undefined) return undefined;
  return { kubeStateMetrics, kubeStateMetricsTelemetry, metricsServer };
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
  ports: LocalPorts;
  readonly nodeName: string;
  /** how many nodes (`cluster up --nodes N`); absent: 1 (a cluster made before multi-node) */
  readonly nodes?: number;
  readonly server: string;
  readonly containerdBin: string;
  pids: Partial<Record<ComponentId, number>>;
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

export const STATE_FILE = 'state.json';

export function readState(stateDir: string): LocalState | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, STATE_FILE), 'utf8')) as LocalState;
  } catch {
    return undefined;
  }
}

export function writeState(state: LocalState): void {
  mkdirSync(state.stateDir, { recursive: true });
  const tmp = join(state.stateDir, `${STATE_FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  // rename is atomic: a crash never leaves a torn state file
  renameSync(tmp, join(state.stateDir, STATE_FILE));
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

/** Why `up --nodes M` refuses a cluster made with another node count (one line). */
export function resizeMessage(name: string, has: number, asked: number): string {
  return (
    `cluster ${name} has ${String(has)} node${has === 1 ? '' : 's'}; --nodes ${String(asked)} would resize it, which is not supported: ` +
    `run \`gc-k8s cluster down\` first, then \`gc-k8s cluster up --nodes ${String(asked)}\``
  );
}

/** What `up` brings besides the cluster itself. */
export interface UpOptions {
  readonly images?: readonly ImageName[];
  /** how many nodes (1..MAX_NODES); absent: the existing cluster's count, else 1 */
  readonly nodes?: number;
}
