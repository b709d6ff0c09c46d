// Repair of a running local cluster some of whose components died: only those restart, from the
// state on disk (etcd data, volumes and running pods are kept).

import { ClusterError } from '../errors.js';
import { allocatePorts, ensureBinaries, parsePortRange, recordSlotPorts, withHostLock } from '../host.js';
import { KubeClient } from '../kube/client.js';
import { componentRbac } from '../config/rbac.js';
import { cmdline, stopPids } from '../proc.js';
import { monitoringObjects, type NodeObj } from './bootstrap.js';
import { REQUIRED_FLAGS } from './commands.js';
import { CLUSTER_BINARIES, componentBins, startComponent } from './components.js';
import { writeKubeconfigs } from './credentials.js';
import { writeClientConfig } from './envrc.js';
import { ensureLocalImages } from './image-import.js';
import { credsFor, layout, logOf } from './layout.js';
import { probeOf } from './probes.js';
import {
  componentIds,
  monitoringPorts,
  nodeCount,
  nodeNameOf,
  writeState,
  type Component,
  type ComponentId,
  type LocalContext,
  type LocalPorts,
  type LocalState,
  type UpOptions,
} from './state.js';
import { waitFor } from './wait.js';

/**
 * Running components started by an older gc-k8s without a flag this code needs (an API server
 * without the aggregation layer serves no metrics.k8s.io, a kubelet without --containerd no
 * cAdvisor container labels): repair restarts them with the current flags.
 */
export function outdatedComponents(state: LocalState): Component[] {
  return (Object.entries(REQUIRED_FLAGS) as [Component, string][])
    .filter(([c, flag]) => {
      const pid = state.pids[c];
      return pid !== undefined && cmdline(pid)?.includes(flag) === false;
    })
    .map(([c]) => c);
}

/** Restarts the dead components of a running cluster in dependency order and waits for health. */
export async function repair(ctx: LocalContext, state: LocalState, dead: readonly ComponentId[], opts: UpOptions): Promise<LocalState> {
  const { paths, reporter, signal, env } = ctx;
  if (dead.length > 0) reporter.warn(`cluster ${state.name}: not running: ${dead.join(', ')}; restarting them (data and pods are kept)`);
  const dirs = await ensureBinaries(CLUSTER_BINARIES, env, reporter, signal);
  const bins = componentBins(dirs);
  const l = layout(paths);
  // a cluster made before the monitoring components has no ports for them: allocated now
  if (monitoringPorts(state.ports) === undefined) await addMonitoringPorts(state, env);
  const pr = probeOf(state, paths);
  const api = new KubeClient(credsFor(l, state.server, 'admin'));
  // a cluster made before a component existed (kube-router, kube-state-metrics, metrics-server)
  // lacks its identity and RBAC: both are made idempotently, the RBAC once the API server answers
  // (it restarts before them)
  await writeKubeconfigs(state, l);
  const toStart = new Set<ComponentId>(dead);
  for (const c of outdatedComponents(state)) {
    if (toStart.has(c)) continue;
    reporter.step(`restarting ${c}: started without ${REQUIRED_FLAGS[c] ?? ''}`);
    await stopPids(state.pids[c] === undefined ? [] : [state.pids[c]], 3000, signal);
    toStart.add(c);
  }
  let objectsMade = false;
  // in dependency order: node 1's and the control plane's, then each further node's (containerd first)
  for (const c of componentIds(nodeCount(state))) {
    if (!toStart.has(c)) continue;
    if (!objectsMade && (c === 'kube-router' || c === 'kube-state-metrics' || c === 'metrics-server')) {
      for (const o of [...componentRbac(), ...monitoringObjects(state, l)]) await api.ensure(o.path, o.body);
      objectsMade = true;
    }
    reporter.step(`restarting ${c}`);
    startComponent(state, paths, c, bins, l, env);
    await waitFor(`${c} health`, () => pr(c).check(), {
      timeoutMs: c === 'kube-apiserver' ? 90_000 : 60_000,
      signal,
      pidOf: () => state.pids[c],
      log: logOf(paths, c),
    });
  }
  for (let k = 1; k <= nodeCount(state); k++) {
    const name = nodeNameOf(state, k);
    const kubelet: ComponentId = k === 1 ? 'kubelet' : `kubelet@${k}`;
    await waitFor(
      k === 1 ? 'node Ready' : `node ${name} Ready`,
      async () => {
        const node = await api.get<NodeObj>(`/api/v1/nodes/${name}`).catch(() => undefined);
        return node?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      },
      { timeoutMs: 120_000, signal, pidOf: () => state.pids[kubelet], log: logOf(paths, kubelet), intervalMs: 500 },
    );
  }
  writeClientConfig(paths, l);
  await ensureLocalImages(ctx, state, opts.images ?? []);
  reporter.step(`cluster ${state.name} is up again: export KUBECONFIG=${paths.kubeconfig}`);
  return state;
}

const portList = (ports: LocalPorts): number[] => Object.values(ports).filter((p): p is number => typeof p === 'number');

/** Allocates (bind-checked, under the host lock) and records the ports of kube-state-metrics and metrics-server. */
async function addMonitoringPorts(state: LocalState, env: NodeJS.ProcessEnv): Promise<void> {
  await withHostLock(async () => {
    const own = portList(state.ports);
    const range = parsePortRange(env.GC_K8S_PORT_RANGE);
    // the cluster's own ports are bound (so never free), unless a component is down: excluded by hand
    const got = (await allocatePorts(3 + own.length, range, [], state.slot)).filter((p) => !own.includes(p)).slice(0, 3);
    const [kubeStateMetrics, kubeStateMetricsTelemetry, metricsServer] = got;
    if (kubeStateMetrics === undefined || kubeStateMetricsTelemetry === undefined || metricsServer === undefined) {
      throw new ClusterError('CLUSTER', `local cluster: no 3 free ports in ${range.join('-')} for kube-state-metrics and metrics-server`);
    }
    state.ports = { ...state.ports, kubeStateMetrics, kubeStateMetricsTelemetry, metricsServer };
    recordSlotPorts(state.slot, state.name, state.stateDir, portList(state.ports));
    writeState(state);
  });
}
