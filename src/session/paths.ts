// Mapping controller (host) paths to pod paths, as Gas City's native provider does: the city
// root becomes /workspace, anything under it keeps its relative path.

import { posix } from 'node:path';

export const WORKSPACE = '/workspace';

/** The controller's city path: GC_CITY, then GC_CITY_PATH, then GC_CITY_ROOT. */
export function controllerCityPath(env: Readonly<Record<string, string>>): string {
  for (const key of ['GC_CITY', 'GC_CITY_PATH', 'GC_CITY_ROOT']) {
    const v = env[key]?.trim();
    if (v !== undefined && v !== '') return posix.normalize(v).replace(/\/+$/, '') || '/';
  }
  return '';
}

/** `path` under `city` → the same relative path under /workspace; otherwise unchanged. */
export function remapToPod(path: string, city: string): string {
  const p = path.trim();
  if (city === '' || p === '') return p;
  if (p === city) return WORKSPACE;
  if (p.startsWith(`${city}/`)) return WORKSPACE + p.slice(city.length);
  return p;
}

/** The pod work dir: /workspace/<rel> when workDir is inside the city, else /workspace. */
export function podWorkDir(workDir: string, city: string): string {
  if (city === '' || workDir === '') return WORKSPACE;
  const mapped = remapToPod(posix.normalize(workDir), city);
  return mapped.startsWith(WORKSPACE) ? mapped : WORKSPACE;
}

/**
 * Replaces the city path in a command with /workspace, but only where it stands as a whole
 * path (followed by '/', quote, space or end) — upstream's plain substring replace also rewrote
 * "/cityscape" for a city "/city".
 */
export function rewriteCityPath(text: string, city: string): string {
  if (city === '' || city === '/') return text;
  const escaped = city.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`${escaped}(?=$|[/\\s'"\`;:)])`, 'g'), WORKSPACE);
}

/** Joins a relative destination under a base, refusing escapes with '..' or absolute paths. */
export function safeJoin(base: string, rel: string): string | undefined {
  if (rel === '') return base;
  if (posix.isAbsolute(rel)) return undefined;
  const joined = posix.normalize(posix.join(base, rel));
  return joined === base || joined.startsWith(`${base}/`) ? joined : undefined;
}
