// `down` of the local backend: stops everything of the worktree's cluster and removes what it created.

import { readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { listSlots, netPlan, nodeNetPlans, releaseSlot } from '../host.js';
import { cmdline, findProcesses, run, stopPids } from '../proc.js';
import { cgroupHierarchies, pidsInCgroup } from './cgroups.js';
import { cleanupSlotLeftovers } from './cleanup.js';
import { removeEnvrcLine } from './envrc.js';
import { layout, nodeLayout, runDir } from './layout.js';
import { restoreIpForward } from './network.js';
import { ownsPid } from './probes.js';
import { mountsUnder } from './procfs.js';
import { nodeCount, readState, type ComponentId, type LocalContext, type NodeComponent } from './state.js';

/** The kubelet's /var/log/containers symlinks into our pod log dir. */
function removeContainerLogLinks(podLogs: string): void {
  try {
    for (const f of readdirSync('/var/log/containers')) {
      const p = join('/var/log/containers', f);
      try {
        if (readlinkSync(p).startsWith(podLogs)) rmSync(p, { force: true });
      } catch {
        // not a link
      }
    }
  } catch {
    // no dir
  }
}

/**
 * Host-wide directories the kubelet and containerd create outside their configured roots: removed
 * with the last local cluster, and only when empty (a host kubelet/containerd keeps its own).
 */
function removeHostWideDirs(): void {
  for (const d of ['/var/lib/kubelet/device-plugins', '/var/lib/kubelet', '/run/containerd/s', '/run/containerd']) {
    try {
      rmdirSync(d);
    } catch {
      // not empty or absent
    }
  }
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
  const plans = nodeNetPlans(state.slot, nodeCount(state));
  const owned = (c: ComponentId): number[] => {
    const p = state.pids[c];
    return p !== undefined && ownsPid(p, paths, state) ? [p] : [];
  };
  // every node's own component of each kind (kubelet, kubelet@2, …)
  const onEvery = (c: NodeComponent): ComponentId[] => plans.map((_, i) => (i === 0 ? c : (`${c}@${i + 1}` as const)));
  // node side first (kubelets would restart pods), then pods, then the control plane
  await stopPids(
    [
      ...onEvery('kubelet'),
      ...onEvery('kube-proxy'),
      ...onEvery('kube-router'),
      'coredns',
      'provisioner',
      'kube-state-metrics',
      'metrics-server',
      'kube-scheduler',
      'kube-controller-manager',
    ].flatMap((c) => owned(c as ComponentId)),
    3000,
    never,
  );
  const podPids: number[] = [];
  for (const h of cgroupHierarchies()) for (const p of plans) podPids.push(...pidsInCgroup(join(h, p.cgroupRoot)));
  const shims = findProcesses(`${runDir(state.name)}/`).filter((p) => cmdline(p)?.includes('containerd-shim') === true);
  await stopPids([...new Set([...podPids, ...shims])], 300, never);
  await stopPids([...onEvery('containerd').flatMap(owned), ...owned('kube-apiserver')], 3000, never);
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
  } else reporter.warn(`slot ${state.slot} now belongs to ${slotOwner.name}; leaving its network and cgroups alone`);
  for (let k = 1; k <= plans.length; k++) removeContainerLogLinks(nodeLayout(l, k).podLogs);
  // rm -rf is several times faster than a recursive rmSync on the unpacked image snapshots
  await run('rm', ['-rf', '--one-file-system', l.s], { allowFail: true });
  rmSync(l.s, { recursive: true, force: true });
  releaseSlot(state.slot, paths.stateDir);
  if (state.stateDir !== paths.stateDir) releaseSlot(state.slot, state.stateDir);
  if (listSlots().length === 0) {
    removeHostWideDirs();
    restoreIpForward();
  }
  try {
    if (readFileSync(paths.kubeconfig, 'utf8').includes(state.server)) rmSync(paths.kubeconfig, { force: true });
  } catch {
    // none
  }
  removeEnvrcLine(paths);
  reporter.step(`cluster ${state.name} is down`);
}
