import { createHash } from 'node:crypto';

/** Short stable hex digest used to keep sanitized Kubernetes names distinct. */
export function shortHash(value: string, length = 8): string {
  return createHash('sha256').update(value, 'utf8').digest('hex').slice(0, length);
}
