// The worktree's client side: <worktree>/.kube/config (the admin kubeconfig) and the KUBECONFIG
// line in <worktree>/.envrc.

import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorktreePaths } from '../names.js';
import type { Layout } from './layout.js';

export function writeClientConfig(paths: WorktreePaths, l: Layout): void {
  mkdirSync(join(paths.worktree, '.kube'), { recursive: true });
  copyFileSync(join(l.cfg, 'admin.kubeconfig'), paths.kubeconfig);
  writeEnvrc(paths);
}

const ENVRC_LINE = 'export KUBECONFIG="$PWD/.kube/config"  # gc-k8s cluster';

export function writeEnvrc(paths: WorktreePaths): void {
  let text = '';
  try {
    text = readFileSync(paths.envrc, 'utf8');
  } catch {
    // new file
  }
  if (text.includes(ENVRC_LINE)) return;
  writeFileSync(paths.envrc, (text === '' || text.endsWith('\n') ? text : `${text}\n`) + `${ENVRC_LINE}\n`);
}

export function removeEnvrcLine(paths: WorktreePaths): void {
  try {
    const text = readFileSync(paths.envrc, 'utf8');
    const rest = text.split('\n').filter((l) => l !== ENVRC_LINE).join('\n');
    if (rest.trim() === '') rmSync(paths.envrc, { force: true });
    else writeFileSync(paths.envrc, rest);
  } catch {
    // none
  }
}
