// Namespace and discovery helpers: used at startup (fail fast on a wrong cluster) and in tests.

import type { CallOptions } from '../core/ports.js';
import { hasCode } from '../errors.js';
import type { RestClient } from './rest.js';
import { obj, str } from './wire.js';

export interface ServerVersion {
  readonly major: string;
  readonly minor: string;
  readonly gitVersion: string;
  readonly platform?: string;
}

export async function serverVersion(rest: RestClient, signal: AbortSignal): Promise<ServerVersion> {
  const v = obj(await rest.json({ method: 'GET', path: '/version', verb: 'get', resource: 'version', what: 'getting server version', signal }));
  const platform = str(v.platform);
  return {
    major: str(v.major) ?? '',
    minor: str(v.minor) ?? '',
    gitVersion: str(v.gitVersion) ?? '',
    ...(platform === undefined ? {} : { platform }),
  };
}

export async function namespaceExists(rest: RestClient, name: string, options: CallOptions): Promise<boolean> {
  try {
    await rest.json({
      method: 'GET',
      path: `/api/v1/namespaces/${encodeURIComponent(name)}`,
      verb: 'get',
      resource: 'namespaces',
      what: `getting namespace ${name}`,
      signal: options.signal,
    });
    return true;
  } catch (err) {
    if (hasCode(err, 'NOT_FOUND')) return false;
    throw err;
  }
}

/** Creates the namespace unless it exists; returns true when this call created it. */
export async function ensureNamespace(
  rest: RestClient,
  name: string,
  options: CallOptions & { labels?: Record<string, string> },
): Promise<boolean> {
  if (await namespaceExists(rest, name, options)) return false;
  try {
    await rest.json({
      method: 'POST',
      path: '/api/v1/namespaces',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(options.labels === undefined ? {} : { labels: options.labels }) } },
      verb: 'create',
      resource: 'namespaces',
      what: `creating namespace ${name}`,
      signal: options.signal,
    });
    return true;
  } catch (err) {
    if (hasCode(err, 'ALREADY_EXISTS')) return false; // a concurrent creator won the race
    throw err;
  }
}
