// Repair of a running local cluster some of whose components died: only those restart, from the
// state on disk (etcd data, volumes and running pods are kept).

import { ensureBinaries } from '../host.js';
import { KubeClient } from '../kube/client.js';
import { componentRbac } from '../config/rbac.js';
import type { NodeObj } from './bootstrap.js';
import { componentBins, startComponent } from './components.js';
import { writeKubeconfigs } from './credentials.js';
import { writeClientConfig } from './envrc.js';
import { ensureLocalImages } from './image-import.js';
import { credsFor, layout, logOf } from './layout.js';
import { probes } from './probes.js';
import { COMPONENTS, type Component, type LocalContext, type LocalState, type UpOptions } from './state.js';
import { waitFor } from './wait.js';

/** Restarts the dead components of a running cluster in dependency order and waits for health. */
export async function repair(ctx: LocalContext, state: LocalState, dead: readonly Component[], opts: UpOptions): Promise<LocalState> {
  const { paths, reporter, signal, env } = ctx;
  reporter.warn(`cluster ${state.name}: not running: ${dead.join(', ')}; restarting them (data and pods are kept)`);
  const dirs = await ensureBinaries(['k8s', 'etcd', 'coredns', 'kube-router'], env, reporter, signal);
  const bins = componentBins(dirs);
  const l = layout(paths);
  const pr = probes(state, paths);
  const api = new KubeClient(credsFor(l, state.server, 'admin'));
  // a cluster made before a component existed (kube-router) lacks its identity and RBAC: both
  // are made idempotently, the RBAC once the API server answers (it restarts before kube-router)
  await writeKubeconfigs(state, l);
  for (const c of COMPONENTS) {
    if (!dead.includes(c)) continue;
    if (c === 'kube-router') for (const o of componentRbac()) await api.ensure(o.path, o.body);
    reporter.step(`restarting ${c}`);
    startComponent(state, paths, c, bins, l, env);
    await waitFor(`${c} health`, () => pr[c].check(), {
      timeoutMs: c === 'kube-apiserver' ? 90_000 : 60_000,
      signal,
      pidOf: () => state.pids[c],
      log: logOf(paths, c),
    });
  }
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
