// Where a store lives in the runner. gc names a store by its root on the controller's disk
// (GC_STORE_ROOT, or init's <dir>); the runner keeps each store under /workspace at the same
// path relative to the city root, as gc-beads-k8s does. A root outside the city is refused
// rather than silently sharing /workspace with the city's store.

import { posix } from 'node:path';
import { GcK8sError, quote } from '../errors.js';

export const RUNNER_WORKSPACE = '/workspace';

export interface StoreScope {
  /** absolute directory in the runner */
  readonly workdir: string;
  /** the prefix gc gave (GC_BEADS_PREFIX or init's argument), '' when unknown */
  readonly prefix: string;
}

function clean(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** Maps a store root to the runner directory. `cityRoot` is GC_CITY_PATH or GC_CITY. */
export function runnerWorkdir(storeRoot: string, cityRoot: string): string {
  if (storeRoot === '') return RUNNER_WORKSPACE;
  if (!storeRoot.startsWith('/')) throw new GcK8sError('BAD_REQUEST', `store root ${quote(storeRoot)} is not an absolute path`);
  const root = clean(storeRoot);
  if (root === RUNNER_WORKSPACE || root.startsWith(`${RUNNER_WORKSPACE}/`)) return root;
  if (cityRoot === '')
    throw new GcK8sError('BAD_REQUEST', `store root ${root} is outside the city root: GC_CITY_PATH (or GC_CITY) is not set`);
  const city = clean(cityRoot);
  if (root === city) return RUNNER_WORKSPACE;
  if (city === '/' || root.startsWith(`${city}/`)) return posix.join(RUNNER_WORKSPACE, posix.relative(city, root));
  throw new GcK8sError('BAD_REQUEST', `store root ${root} is outside city root ${city}`);
}

/** The scope of a store op from gc's environment. */
export function storeScope(env: Readonly<Record<string, string>>, initDir?: string, initPrefix?: string): StoreScope {
  const cityRoot = env['GC_CITY_PATH'] || env['GC_CITY'] || '';
  const root = env['GC_STORE_ROOT'] || initDir || '';
  return { workdir: runnerWorkdir(root, cityRoot), prefix: initPrefix ?? env['GC_BEADS_PREFIX'] ?? '' };
}
