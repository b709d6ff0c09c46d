// Where a worktree's cluster lives and what it is called. Every name is derived from the
// worktree so that two checkouts on one machine never share anything.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This package's directory (its scripts/ live there); src/ and dist/ are both one level below. */
export const LOCAL_CLUSTER_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The gc-k8s package this one belongs to: scripts/build-upstream.sh, the image sources under
 * image/, and the daemon's dist/ for the gc-k8s image. The nearest ancestor whose package.json
 * is gc-k8s's: the repository (packages/local-cluster), or an install of gc-k8s that bundles
 * this package (node_modules/@gc-k8s/local-cluster).
 */
export const PACKAGE_ROOT = gcK8sRoot(LOCAL_CLUSTER_ROOT);

function gcK8sRoot(from: string): string {
  for (let dir = dirname(from); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === 'gc-k8s') return dir;
    } catch {
      // no package.json here
    }
  }
  return resolve(from, '..', '..');
}

/** The worktree root containing `cwd`: the nearest ancestor with a `.git` entry, else cwd. */
export function findWorktree(cwd: string): string {
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, '.git'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(cwd);
    dir = parent;
  }
}

/** DNS-1123 label fragment: lower-case alphanumerics and '-', trimmed to `max`. */
export function sanitize(text: string, max: number): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  return s.slice(0, max).replace(/-$/, '');
}

/**
 * Cluster name: `gck-<dir>-<hash6>` where the hash covers the absolute worktree path, so two
 * worktrees with the same directory name still differ. The branch is part of the hash input
 * only through the path (renaming a branch must not orphan a running cluster).
 */
export function clusterName(worktree: string): string {
  const hash = createHash('sha256').update(resolve(worktree)).digest('hex').slice(0, 6);
  const dir = sanitize(basename(resolve(worktree)), 20) || 'wt';
  return `gck-${dir}-${hash}`;
}

export interface WorktreePaths {
  readonly worktree: string;
  readonly name: string;
  /** <worktree>/.gc-k8s/cluster: all state of the local cluster */
  readonly stateDir: string;
  /** <worktree>/.kube/config */
  readonly kubeconfig: string;
  readonly envrc: string;
}

export function worktreePaths(cwd: string): WorktreePaths {
  const worktree = findWorktree(cwd);
  return {
    worktree,
    name: clusterName(worktree),
    stateDir: join(worktree, '.gc-k8s', 'cluster'),
    kubeconfig: join(worktree, '.kube', 'config'),
    envrc: join(worktree, '.envrc'),
  };
}

/** The cache root shared by all worktrees (builds, images). */
export function cacheDir(env: NodeJS.ProcessEnv): string {
  const home = env.HOME ?? '/root';
  return env.GC_K8S_CACHE ?? join(home, '.cache', 'gc-k8s');
}
