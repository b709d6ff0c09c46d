// What a local cluster left on the host after `down` (for tests and `status`): empty means clean.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { allNodeNetPlans, netPlan } from '../host.js';
import { findProcesses, run } from '../proc.js';
import { cgroupHierarchies } from './cgroups.js';
import { runDir } from './layout.js';
import { mountsUnder } from './procfs.js';

/** What is left on the host from this cluster (for tests and `status`): empty means clean. */
export async function localLeftovers(name: string, slot: number, stateDir: string): Promise<string[]> {
  const n = netPlan(slot);
  const nodes = allNodeNetPlans(slot);
  const out: string[] = [];
  const procs = [...findProcesses(`${runDir(name)}/`), ...findProcesses(`${stateDir}/`)];
  if (procs.length > 0) out.push(`processes: ${procs.join(',')}`);
  const mounts = mountsUnder([runDir(name), stateDir]);
  if (mounts.length > 0) out.push(`mounts: ${mounts.join(', ')}`);
  for (const x of nodes) if (existsSync(x.netnsPath)) out.push(`netns ${x.netns}`);
  const links = (await run('ip', ['-o', 'link', 'show'], { allowFail: true })).stdout;
  for (const x of nodes) if (links.includes(`${x.hostIf}@`) || links.includes(`${x.hostIf}:`)) out.push(`link ${x.hostIf}`);
  // the host's routes to the nodes' pods (gone with their veths)
  const routes = (await run('ip', ['-4', 'route', 'show'], { allowFail: true })).stdout.split('\n');
  for (const x of nodes) if (routes.some((r) => r.startsWith(`${x.podCidr} `))) out.push(`route ${x.podCidr}`);
  const nft = (await run('nft', ['list', 'tables'], { allowFail: true })).stdout;
  if (nft.split('\n').includes(`table ip ${n.nftTable}`)) out.push(`nft table ${n.nftTable}`);
  for (const h of cgroupHierarchies())
    for (const x of nodes) if (existsSync(join(h, x.cgroupRoot))) out.push(`cgroup ${join(h, x.cgroupRoot)}`);
  if (existsSync(runDir(name))) out.push(`dir ${runDir(name)}`);
  if (existsSync(stateDir)) out.push(`dir ${stateDir}`);
  return out;
}
