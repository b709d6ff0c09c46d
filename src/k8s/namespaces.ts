// Namespace and discovery helpers: used at startup (fail fast on a wrong cluster) and in tests.

import type { CallOptions } from '../kube/ports.js';
import { hasCode } from '../errors.js';
import { Resource } from './resource.js';
import type { RestClient } from './rest.js';
import { obj, str } from './wire.js';

export interface ServerVersion {
  readonly major: string;
  readonly minor: string;
  readonly gitVersion: string;
  readonly platform?: string;
}

export async function serverVersion(rest: RestClient, signal: AbortSignal): Promise<ServerVersion> {
  const v = obj(
    await rest.json({ method: 'GET', path: '/version', verb: 'get', resource: 'version', what: 'getting server version', signal }),
  );
  const platform = str(v.platform);
  return {
    major: str(v.major) ?? '',
    minor: str(v.minor) ?? '',
    gitVersion: str(v.gitVersion) ?? '',
    ...(platform === undefined ? {} : { platform }),
  };
}

const namespaces = (rest: RestClient): Resource => new Resource(rest, 'namespaces');

export async function namespaceExists(rest: RestClient, name: string, options: CallOptions): Promise<boolean> {
  return (await namespaces(rest).get(name, options)) !== undefined;
}

/** The namespace's labels (Pod Security levels live there), or undefined when it does not exist. */
export async function namespaceLabels(rest: RestClient, name: string, options: CallOptions): Promise<Record<string, string> | undefined> {
  const ns = await namespaces(rest).get(name, options);
  if (ns === undefined) return undefined;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(obj(obj(ns).metadata).labels))) if (typeof v === 'string') labels[k] = v;
  return labels;
}

/** Whether the caller may do `verb` on `resource` (with `subresource`) in `namespace`: a SelfSubjectAccessReview. */
export async function canI(
  rest: RestClient,
  namespace: string,
  verb: string,
  resource: string,
  subresource: string,
  options: CallOptions,
): Promise<boolean> {
  // "jobs.batch": a resource of an API group, as kubectl auth can-i names it
  const [plural = resource, ...groupParts] = resource.split('.');
  const group = groupParts.join('.');
  const review = obj(
    await rest.json({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: {
          resourceAttributes: {
            namespace,
            verb,
            resource: plural,
            ...(group === '' ? {} : { group }),
            ...(subresource === '' ? {} : { subresource }),
          },
        },
      },
      verb: 'create',
      resource: 'selfsubjectaccessreviews',
      what: `checking ${verb} ${resource}${subresource === '' ? '' : `/${subresource}`} in ${namespace}`,
      signal: options.signal,
    }),
  );
  return obj(review.status).allowed === true;
}

/** Creates the namespace unless it exists; returns true when this call created it. */
export async function ensureNamespace(
  rest: RestClient,
  name: string,
  options: CallOptions & { labels?: Record<string, string> },
): Promise<boolean> {
  if (await namespaceExists(rest, name, options)) return false;
  try {
    const manifest = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, ...(options.labels === undefined ? {} : { labels: options.labels }) },
    };
    await namespaces(rest).create(name, manifest, options);
    return true;
  } catch (err) {
    if (hasCode(err, 'ALREADY_EXISTS')) return false; // a concurrent creator won the race
    throw err;
  }
}
