// Where the daemon listens: one daemon per user and kubeconfig, so two worktrees with their own
// clusters (their own KUBECONFIG) never share a daemon. GC_K8S_SOCKET overrides.

import { createHash } from 'node:crypto';
import { join } from 'node:path';

export function stateDir(env: Readonly<Record<string, string | undefined>>): string {
  const base = env['XDG_RUNTIME_DIR'] ?? join(env['HOME'] ?? '/tmp', '.cache');
  return join(base, 'gc-k8s');
}

export function socketPath(env: Readonly<Record<string, string | undefined>>): string {
  const explicit = env['GC_K8S_SOCKET'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const key = createHash('sha256').update(env['KUBECONFIG'] ?? '').digest('hex').slice(0, 10);
  return join(stateDir(env), `daemon-${key}.sock`);
}
