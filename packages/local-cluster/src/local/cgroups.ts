// The cluster's cgroup root /gck-N in every v1 hierarchy (the kubelet's cgroupRoot): made before
// the kubelet starts, scanned for pod processes and removed on down.

import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NetPlan } from '../host.js';

export function cgroupHierarchies(): string[] {
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

export function prepareCgroupRoot(n: NetPlan): void {
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

export function pidsInCgroup(root: string): number[] {
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

export function removeCgroupTree(d: string): void {
  try {
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) removeCgroupTree(join(d, e.name));
    rmdirSync(d);
  } catch {
    // already gone or busy (reported by the leak check)
  }
}
