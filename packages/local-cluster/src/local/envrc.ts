// The worktree's client side: <worktree>/.kube/config (the admin kubeconfig) and the KUBECONFIG
// line in <worktree>/.envrc.

import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withEnvrcLine, withoutEnvrcLine } from '../config/envrc.js';
import type { WorktreePaths } from '../names.js';
import type { Layout } from './layout.js';

export function writeClientConfig(paths: WorktreePaths, l: Layout): void {
  mkdirSync(join(paths.worktree, '.kube'), { recursive: true });
  // Replaced in one step (copy beside it, then rename): a daemon or kubectl reading it while a
  // restart rewrites it must see the old file or the new one, never an empty one.
  const next = `${paths.kubeconfig}.${process.pid}.tmp`;
  copyFileSync(join(l.cfg, 'admin.kubeconfig'), next);
  renameSync(next, paths.kubeconfig);
  writeEnvrc(paths);
}

export function writeEnvrc(paths: WorktreePaths): void {
  let text = '';
  try {
    text = readFileSync(paths.envrc, 'utf8');
  } catch {
    // new file
  }
  const next = withEnvrcLine(text);
  if (next !== undefined) writeFileSync(paths.envrc, next);
}

export function removeEnvrcLine(paths: WorktreePaths): void {
  try {
    const rest = withoutEnvrcLine(readFileSync(paths.envrc, 'utf8'));
    if (rest === undefined) rmSync(paths.envrc, { force: true });
    else writeFileSync(paths.envrc, rest);
  } catch {
    // none
  }
}
