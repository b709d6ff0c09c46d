// Removing what a slot left on the host (processes, mounts, netns, veth, nft table, cgroups), for
// `down`, before `up` reuses a slot, and for `prune` of clusters whose worktree is gone.

import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_DIR, allNodeNetPlans, listSlots, netPlan, slotIsStale, type NetPlan } from '../host.js';
import { findProcesses, run, stopPids } from '../proc.js';
import type { Reporter } from '../progress.js';
import { cgroupHierarchies, pidsInCgroup, removeCgroupTree } from './cgroups.js';
import { runDir } from './layout.js';
import { mountsUnder, processesInNetns } from './procfs.js';
import { STATE_FILE } from './state.js';

/** Removes everything a slot may have left on the host (used before up and by down). */
export async function cleanupSlotLeftovers(n: NetPlan, name: string, reporter: Reporter, stateDir?: string): Promise<void> {
  const never = new AbortController().signal;
  // processes: anything still running with our run dir (or state dir) in its command line
  const stragglers = findProcesses(`${runDir(name)}/`);
  if (stateDir !== undefined) stragglers.push(...findProcesses(`${stateDir}/`));
  // every node the slot may have had (a lost state does not say how many)
  const nodes = allNodeNetPlans(n.slot);
  // anything still living in the cluster's network namespaces (e.g. its previous owner moved away)
  for (const x of nodes) stragglers.push(...processesInNetns(x.netnsPath));
  // pods: every process in our cgroup trees
  for (const h of cgroupHierarchies()) for (const x of nodes) stragglers.push(...pidsInCgroup(join(h, x.cgroupRoot)));
  if (stragglers.length > 0) await stopPids([...new Set(stragglers)], 500, never);
  const mounts = mountsUnder(stateDir === undefined ? [runDir(name)] : [runDir(name), stateDir]);
  if (mounts.length > 0) await run('umount', ['-l', ...mounts], { allowFail: true });
  // a veth goes with its netns (both ends, and the host's routes through it); deleted by hand too
  // in case the netns mount is gone but the link is not
  for (const x of nodes) {
    if (existsSync(x.netnsPath)) await run('ip', ['netns', 'delete', x.netns], { allowFail: true });
    if (x === n || existsSync(`/sys/class/net/${x.hostIf}`)) await run('ip', ['link', 'delete', x.hostIf], { allowFail: true });
  }
  await run('nft', ['delete', 'table', 'ip', n.nftTable], { allowFail: true });
  for (const h of cgroupHierarchies()) for (const x of nodes) removeCgroupTree(join(h, x.cgroupRoot));
  rmSync(runDir(name), { recursive: true, force: true });
  reporter.info(`cleaned slot ${n.slot} (netns ${n.netns}, link ${n.hostIf}, nft ${n.nftTable}, cgroup ${n.cgroupRoot})`);
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
