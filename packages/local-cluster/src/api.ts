// Programmatic API of cluster management, used by `gc-k8s cluster …`, `npm start` and tests:
// ensureCluster() brings this worktree's cluster up (or validates an existing one) and returns the
// kubeconfig path; clusterStatus(), clusterDown() and ensureImage() complete it.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterError } from './errors.js';
import { checkExisting, kindDown, kindExists, kindLoad, kindUp, selectBackend, which, type BackendName } from './backends.js';
import { MAX_NODES, assertResources, ensureBinaries, listSlots, nodeNetPlans, slotIsStale } from './host.js';

/** what a kind node container needs on the Docker host */
const KIND_NEEDS = { memoryBytes: 2 * 1024 ** 3, diskBytes: 8 * 1024 ** 3, cpus: 2 };
import { buildImage, type ImageName } from './images.js';
import { pruneStaleSlots } from './local/cleanup.js';
import { localDown } from './local/down.js';
import { writeEnvrc } from './local/envrc.js';
import { ensureLocalImages } from './local/image-import.js';
import { localLeftovers } from './local/leftovers.js';
import { layout } from './local/layout.js';
import { monitoringTargets, type MonitoringTargets } from './local/monitoring.js';
import { localStatus } from './local/probes.js';
import {
  STATE_VERSION,
  componentIds,
  nodeCount,
  nodeNameOf,
  nodeNames,
  outdatedMessage,
  readState,
  type ComponentId,
  type ComponentStatus,
  type LocalState,
} from './local/state.js';
import { localUp } from './local/up.js';
import { worktreePaths, type WorktreePaths } from './names.js';
import { cmdline, isAlive, stopPids } from './proc.js';
import { sleep } from './abort.js';
import { silentReporter, type Reporter } from './progress.js';

export type { BackendName } from './backends.js';
export type { ImageName } from './images.js';
export type { ComponentStatus } from './local/state.js';
export type { KubeletTargets, MonitoringTargets, ScrapeTls } from './local/monitoring.js';

export interface ClusterOptions {
  /** any directory inside the worktree (default process.cwd()) */
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly backend?: BackendName | 'auto';
  /** existing backend: kubeconfig context */
  readonly context?: string;
  /** existing backend: kubeconfig path (default $KUBECONFIG, then ~/.kube/config) */
  readonly kubeconfig?: string;
  /** namespace the permissions check of the existing backend is about (default "default") */
  readonly namespace?: string;
  /** images to build and import on up (local, kind) */
  readonly images?: readonly ImageName[];
  /** local backend: how many nodes a new cluster gets (1..MAX_NODES; default: the existing cluster's count, else 1) */
  readonly nodes?: number;
  readonly signal?: AbortSignal;
  readonly reporter?: Reporter;
}

export interface ClusterInfo {
  readonly backend: BackendName;
  readonly name: string;
  /** path of a kubeconfig for this cluster */
  readonly kubeconfig: string;
  readonly context?: string;
  readonly server?: string;
  readonly nodeName?: string;
  /** local backend: every node's name, node 1 (nodeName, where the control plane and CoreDNS run) first */
  readonly nodeNames?: readonly string[];
  /** image name → fully qualified reference imported into the cluster */
  readonly images: Record<string, string>;
}

export interface ClusterStatus {
  readonly backend: BackendName | 'none';
  readonly name: string;
  readonly running: boolean;
  readonly healthy: boolean;
  readonly kubeconfig?: string;
  readonly server?: string;
  readonly slot?: number;
  /** local backend: each node's name and network (node 1 first) */
  readonly nodes?: readonly NodeInfo[];
  readonly ports?: Record<string, number>;
  readonly components: ComponentStatus[];
  readonly stateDir: string;
  readonly message?: string;
  /** image name → reference imported into the local cluster */
  readonly images?: Record<string, string>;
  /** local backend: where a Prometheus on the host scrapes kube-state-metrics and the kubelet */
  readonly monitoring?: MonitoringTargets;
}

export interface NodeInfo {
  readonly name: string;
  readonly netns: string;
  readonly nodeIp: string;
  readonly podCidr: string;
}

/** Throws BAD_REQUEST unless `nodes` is a whole number from 1 to MAX_NODES (before any I/O). */
export function checkNodeCount(nodes: number): void {
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) {
    throw new ClusterError('BAD_REQUEST', `--nodes ${String(nodes).slice(0, 20)}: want a whole number from 1 to ${String(MAX_NODES)}`);
  }
}

interface BackendRecord {
  readonly backend: BackendName;
  readonly name: string;
  readonly kubeconfig: string;
  readonly context?: string;
}

const recordPath = (p: WorktreePaths): string => join(p.worktree, '.gc-k8s', 'cluster-backend.json');

/**
 * Serializes cluster commands of one worktree (two `up`s racing would tear each other down):
 * <worktree>/.gc-k8s/cluster.lock holds the owner's PID; a dead owner's lock is taken over.
 */
async function withWorktreeLock<T>(p: WorktreePaths, reporter: Reporter, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  const dir = join(p.worktree, '.gc-k8s');
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, 'cluster.lock');
  let announced = false;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      const owner = Number(readFileSync(lock, 'utf8').trim() || '0');
      if (owner === process.pid) throw new ClusterError('INTERNAL', `cluster lock ${lock}: already held by this process`);
      // a dead owner, or a reused PID that is not a node process, does not hold the lock
      if (!isAlive(owner) || cmdline(owner)?.includes('node') !== true) {
        rmSync(lock, { force: true });
        continue;
      }
      if (!announced) {
        reporter.step(`waiting for another gc-k8s cluster command in this worktree (pid ${owner}, lock ${lock})`);
        announced = true;
      }
      await sleep(200, signal, 'waiting for the worktree cluster lock');
    }
  }
  try {
    return await fn();
  } finally {
    try {
      if (readFileSync(lock, 'utf8').trim() === String(process.pid)) rmSync(lock, { force: true });
    } catch {
      // gone
    }
  }
}

function readRecord(p: WorktreePaths): BackendRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordPath(p), 'utf8')) as BackendRecord;
  } catch {
    return undefined;
  }
}

function writeRecord(p: WorktreePaths, r: BackendRecord): void {
  mkdirSync(join(p.worktree, '.gc-k8s'), { recursive: true });
  writeFileSync(recordPath(p), JSON.stringify(r, null, 2));
}

function resolved(opts: ClusterOptions): { paths: WorktreePaths; env: NodeJS.ProcessEnv; signal: AbortSignal; reporter: Reporter } {
  return {
    paths: worktreePaths(opts.cwd ?? process.cwd()),
    env: opts.env ?? process.env,
    signal: opts.signal ?? new AbortController().signal,
    reporter: opts.reporter ?? silentReporter,
  };
}

async function kubectlPath(env: NodeJS.ProcessEnv, reporter: Reporter, signal: AbortSignal): Promise<string> {
  const onPath = which('kubectl', env);
  try {
    const dirs = await ensureBinaries(['k8s'], env, reporter, signal);
    if (existsSync(join(dirs.k8s, 'kubectl'))) return join(dirs.k8s, 'kubectl');
  } catch (e) {
    if (onPath === undefined) throw e;
  }
  if (onPath === undefined) throw new ClusterError('CLUSTER', 'kubectl not found (PATH) and it could not be built');
  return onPath;
}

function existingKubeconfig(opts: ClusterOptions, env: NodeJS.ProcessEnv): string {
  const k = opts.kubeconfig ?? (env.KUBECONFIG ?? '').split(':').find((s) => s !== '');
  return k ?? join(env.HOME ?? '/root', '.kube', 'config');
}

/** Brings the worktree's cluster up (idempotent) and returns how to reach it. */
export async function ensureCluster(opts: ClusterOptions = {}): Promise<ClusterInfo> {
  if (opts.nodes !== undefined) checkNodeCount(opts.nodes);
  const { paths, env, signal, reporter } = resolved(opts);
  const prev = readRecord(paths);
  // KUBECONFIG pointing at this worktree's own kubeconfig (the .envrc we write) is not an "existing" cluster
  const selectEnv = env.KUBECONFIG === paths.kubeconfig ? { ...env, KUBECONFIG: '' } : env;
  const backend =
    (opts.backend ?? 'auto') === 'auto' && prev !== undefined && opts.context === undefined && opts.kubeconfig === undefined
      ? prev.backend
      : await selectBackend({
          requested: opts.backend ?? 'auto',
          env: selectEnv,
          ...(opts.context === undefined ? {} : { context: opts.context }),
        });
  if (backend !== 'local' && (opts.nodes ?? 1) > 1) {
    throw new ClusterError(
      'BAD_REQUEST',
      `--nodes ${String(opts.nodes)}: several nodes are made by the local backend only (this is ${backend})`,
    );
  }
  switch (backend) {
    case 'existing': {
      const remembered =
        prev?.backend === 'existing' && opts.kubeconfig === undefined && (env.KUBECONFIG ?? '') === '' ? prev.kubeconfig : undefined;
      const kubeconfig = remembered ?? existingKubeconfig(opts, env);
      const namespace = opts.namespace ?? 'default';
      reporter.step(`checking existing cluster (kubeconfig ${kubeconfig}${opts.context === undefined ? '' : `, context ${opts.context}`})`);
      const kubectl = await kubectlPath(env, reporter, signal);
      const rep = await checkExisting(
        kubectl,
        { kubeconfig, ...(opts.context === undefined ? {} : { context: opts.context }), namespace },
        env,
        signal,
      );
      if (rep.missing.length > 0) {
        throw new ClusterError(
          'FORBIDDEN',
          `existing cluster ${rep.server}: missing permissions in namespace ${namespace}: ${rep.missing.join(', ')}`,
        );
      }
      reporter.step(`existing cluster ${rep.server} (${rep.version}) is usable in namespace ${namespace}`);
      if ((opts.images ?? []).length > 0) {
        reporter.warn(
          `images (${(opts.images ?? []).join(', ')}) are not imported into an existing cluster: build Dockerfile.agent and push it to a registry the cluster can pull from`,
        );
      }
      writeRecord(paths, { backend, name: rep.server, kubeconfig, ...(opts.context === undefined ? {} : { context: opts.context }) });
      return {
        backend,
        name: rep.server,
        kubeconfig,
        server: rep.server,
        images: {},
        ...(opts.context === undefined ? {} : { context: opts.context }),
      };
    }
    case 'kind': {
      assertResources('kind cluster', KIND_NEEDS, paths.worktree);
      await kindUp(paths.name, paths.kubeconfig, env, reporter, signal);
      writeEnvrc(paths);
      writeRecord(paths, { backend, name: paths.name, kubeconfig: paths.kubeconfig, context: `kind-${paths.name}` });
      const images: Record<string, string> = {};
      for (const name of opts.images ?? []) {
        const img = await buildImage(name, env, reporter, signal);
        await kindLoad(paths.name, img.archive, env, signal);
        images[name] = img.ref;
      }
      return { backend, name: paths.name, kubeconfig: paths.kubeconfig, context: `kind-${paths.name}`, images };
    }
    case 'local': {
      writeRecord(paths, { backend, name: paths.name, kubeconfig: paths.kubeconfig });
      const st = await withWorktreeLock(paths, reporter, signal, () =>
        localUp(
          { paths, env, reporter, signal },
          { images: opts.images ?? [], ...(opts.nodes === undefined ? {} : { nodes: opts.nodes }) },
        ),
      );
      return {
        backend,
        name: st.name,
        kubeconfig: paths.kubeconfig,
        context: st.name,
        server: st.server,
        nodeName: st.nodeName,
        nodeNames: nodeNames(st),
        images: { ...st.images },
      };
    }
  }
}

function withMonitoring(state: LocalState, paths: WorktreePaths): { monitoring?: MonitoringTargets } {
  const m = monitoringTargets(state, layout(paths));
  return m === undefined ? {} : { monitoring: m };
}

/** Status of the worktree's cluster; never throws for a missing or dead cluster. */
export async function clusterStatus(opts: ClusterOptions = {}): Promise<ClusterStatus> {
  const { paths, env } = resolved(opts);
  const rec = readRecord(paths);
  if (rec?.backend === 'kind') {
    const up = await kindExists(rec.name, env);
    return {
      backend: 'kind',
      name: rec.name,
      running: up,
      healthy: up,
      kubeconfig: rec.kubeconfig,
      components: [],
      stateDir: paths.stateDir,
    };
  }
  if (rec?.backend === 'existing') {
    return {
      backend: 'existing',
      name: rec.name,
      running: true,
      healthy: true,
      kubeconfig: rec.kubeconfig,
      components: [],
      stateDir: paths.stateDir,
    };
  }
  const st = await localStatus(paths);
  if (st.state === undefined) {
    return {
      backend: 'none',
      name: paths.name,
      running: false,
      healthy: false,
      components: [],
      stateDir: paths.stateDir,
      message: 'no cluster (run gc-k8s cluster up)',
    };
  }
  const state = st.state;
  const running = st.components.some((c) => c.alive);
  const healthy = st.components.every((c) => c.healthy) && st.state.phase === 'running';
  return {
    backend: 'local',
    name: st.state.name,
    running,
    healthy,
    kubeconfig: paths.kubeconfig,
    server: st.state.server,
    slot: st.state.slot,
    nodes: nodeNetPlans(st.state.slot, nodeCount(st.state)).map((n, i) => ({
      name: nodeNameOf(state, i + 1),
      netns: n.netns,
      nodeIp: n.nodeIp,
      podCidr: n.podCidr,
    })),
    ports: { ...st.state.ports },
    components: st.components,
    stateDir: paths.stateDir,
    images: { ...st.state.images },
    ...withMonitoring(st.state, paths),
    ...(running && !healthy ? { message: 'degraded: see the unhealthy components and their logs' } : {}),
    ...(!running ? { message: 'stale state of a crashed cluster: run gc-k8s cluster down (or up)' } : {}),
    ...(st.state.version < STATE_VERSION ? { message: outdatedMessage(st.state) } : {}),
  };
}

/**
 * Restarts one component of the worktree's local cluster (SIGTERM, then the same repair `up`
 * does for a crashed component): how tests and users check that clients ride out, say, an
 * apiserver restart. Etcd data, volumes and pods are kept.
 */
export async function restartClusterComponent(component: string, opts: ClusterOptions = {}): Promise<ClusterInfo> {
  const { paths, reporter, signal } = resolved(opts);
  const rec = readRecord(paths);
  const state = readState(paths.stateDir);
  const ids: readonly string[] = componentIds(state === undefined ? 1 : nodeCount(state));
  if (!ids.includes(component)) {
    throw new ClusterError(
      'BAD_REQUEST',
      `restart: unknown component ${JSON.stringify(component.slice(0, 40))} (one of ${ids.join(', ')})`,
    );
  }
  if (rec?.backend !== 'local' || state?.phase !== 'running')
    throw new ClusterError('CLUSTER', 'restart: only a running local cluster (gc-k8s cluster up) can restart its components');
  const pid = state.pids[component as ComponentId];
  reporter.step(`stopping ${component}${pid === undefined ? ' (not running)' : ` (pid ${pid})`}`);
  if (pid !== undefined) await stopPids([pid], 10_000, signal);
  return ensureCluster(opts);
}

/** Stops and removes the worktree's cluster (kind: deletes it; existing: forgets it). */
export async function clusterDown(opts: ClusterOptions = {}): Promise<void> {
  const { paths, env, signal, reporter } = resolved(opts);
  const rec = readRecord(paths);
  if (rec?.backend === 'kind') await kindDown(rec.name, rec.kubeconfig, env, reporter, signal);
  else if (rec?.backend === 'existing') reporter.step('existing cluster: nothing to stop (forgetting it)');
  else await withWorktreeLock(paths, reporter, signal, () => localDown({ paths, env, reporter, signal }));
  rmSync(recordPath(paths), { force: true });
}

/** Builds (cached) and imports an image into the worktree's running cluster; returns its reference. */
export async function ensureImage(name: ImageName, opts: ClusterOptions = {}): Promise<string> {
  const { paths, env, signal, reporter } = resolved(opts);
  const rec = readRecord(paths);
  if (rec?.backend === 'kind') {
    const img = await buildImage(name, env, reporter, signal);
    await kindLoad(rec.name, img.archive, env, signal);
    return img.ref;
  }
  if (rec?.backend === 'existing') {
    throw new ClusterError(
      'CLUSTER',
      `image ${name}: cannot import into an existing cluster; push the image built from Dockerfile.agent to its registry`,
    );
  }
  const state = readState(paths.stateDir);
  if (state?.phase !== 'running') throw new ClusterError('CLUSTER', `image ${name}: no running local cluster (run gc-k8s cluster up)`);
  const refs = await withWorktreeLock(paths, reporter, signal, () =>
    ensureLocalImages({ paths, env, reporter, signal }, readState(paths.stateDir) ?? state, [name]),
  );
  const ref = refs[name];
  if (ref === undefined) throw new ClusterError('INTERNAL', `image ${name}: no reference`);
  return ref;
}

export interface LocalClusterEntry {
  readonly name: string;
  readonly slot: number;
  readonly worktree: string;
  readonly stateDir: string;
  readonly ports: number[];
  /** the worktree no longer references the slot (moved/deleted): reclaimed by the next `up` */
  readonly stale: boolean;
  readonly server?: string;
}

/** Every local cluster on this machine (all worktrees), from the slot registry. */
export function listLocalClusters(): LocalClusterEntry[] {
  return listSlots()
    .sort((x, y) => x.slot - y.slot)
    .map((r) => {
      const st = readState(r.stateDir);
      return {
        name: r.name,
        slot: r.slot,
        worktree: join(r.stateDir, '..', '..'),
        stateDir: r.stateDir,
        ports: r.ports,
        stale: slotIsStale(r),
        ...(st === undefined ? {} : { server: st.server }),
      };
    });
}

/** Stops and removes local clusters whose worktree was moved or deleted without `down`. */
export async function pruneLocalClusters(opts: Pick<ClusterOptions, 'reporter'> = {}): Promise<string[]> {
  return pruneStaleSlots(opts.reporter ?? silentReporter);
}

/** Host resources left by a local cluster after `down` (empty = clean). For tests. */
export async function clusterLeftovers(name: string, slot: number, stateDir: string): Promise<string[]> {
  return localLeftovers(name, slot, stateDir);
}
