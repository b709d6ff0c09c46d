// Starting one component: detached (own session, output appended to its log), with its PID
// recorded in the state at once.

import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UpstreamComponent } from '../host.js';
import { LOCAL_CLUSTER_ROOT, type WorktreePaths } from '../names.js';
import { spawnDetached } from '../proc.js';
import { componentCommand, nodeEnv, type Bins } from './commands.js';
import { logOf, type Layout } from './layout.js';
import { writeState, type ComponentId, type LocalState } from './state.js';

/** The Go-built programs a local cluster runs (ensureBinaries of up and repair). */
export const CLUSTER_BINARIES = [
  'k8s',
  'etcd',
  'coredns',
  'kube-router',
  'kube-state-metrics',
  'metrics-server',
] as const satisfies readonly UpstreamComponent[];

/** The programs of this host: the built binaries' dirs, this Node, and the package's provisioner script. */
export function componentBins(dirs: {
  readonly k8s: string;
  readonly etcd: string;
  readonly coredns: string;
  readonly 'kube-router': string;
  readonly 'kube-state-metrics': string;
  readonly 'metrics-server': string;
}): Bins {
  return {
    k8s: dirs.k8s,
    etcd: dirs.etcd,
    coredns: dirs.coredns,
    kubeRouter: dirs['kube-router'],
    kubeStateMetrics: dirs['kube-state-metrics'],
    metricsServer: dirs['metrics-server'],
    node: process.execPath,
    provisioner: join(LOCAL_CLUSTER_ROOT, 'scripts', 'local-provisioner.mjs'),
  };
}

export function startComponent(
  state: LocalState,
  paths: WorktreePaths,
  c: ComponentId,
  bins: Bins,
  l: Layout,
  env: NodeJS.ProcessEnv,
): void {
  const log = logOf(paths, c);
  appendFileSync(log, `--- ${new Date().toISOString()} starting ${c}\n`);
  const { cmd, args, netns, cwd } = componentCommand(c, state, l, bins);
  state.pids[c] = spawnDetached(cmd, args, {
    logFile: log,
    env: nodeEnv(env, state.containerdBin),
    ...(netns === undefined ? {} : { netns }),
    ...(cwd === undefined ? {} : { cwd }),
  });
  writeState(state);
}
