// The identity of the kubeconfig files a daemon uses (KUBECONFIG, else ~/.kube/config): their
// inode, size and mtime, and the digest of their content once those move. A rewrite with the
// same content (an idempotent `cluster up`) keeps the identity; a new cluster's CA or endpoint
// changes it. In a pod (service account) the files do not exist and the identity never changes.

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { ConfigWatch } from './runtimes.js';

export function kubeconfigPaths(env: Readonly<Record<string, string | undefined>>): string[] {
  const given = env['KUBECONFIG'];
  if (given !== undefined && given !== '') return given.split(':').filter((p) => p !== '');
  return [join(env['HOME'] ?? '/root', '.kube', 'config')];
}

export function kubeconfigWatch(paths: readonly string[]): ConfigWatch {
  let stamp = '';
  let digest = '';
  return {
    current(): string {
      const now = paths
        .map((p) => {
          try {
            const s = statSync(p);
            return `${s.ino}:${s.size}:${s.mtimeMs}`;
          } catch {
            return 'missing';
          }
        })
        .join('|');
      if (now === stamp) return digest;
      stamp = now;
      const h = createHash('sha256');
      for (const p of paths) {
        try {
          h.update(readFileSync(p));
        } catch {
          h.update('missing');
        }
        h.update('\0');
      }
      digest = h.digest('hex');
      return digest;
    },
  };
}
