// ConfigMapApi (src/kube/ports.ts) over the REST client.

import type { ConfigMap, ConfigMapManifest } from '../kube/types.js';
import type { CallOptions, ConfigMapApi } from '../kube/ports.js';
import { GcK8sError, hasCode } from '../errors.js';
import { listMeta, toConfigMap } from './convert.js';
import { namespacedPath } from './paths.js';
import type { RestClient } from './rest.js';

export class RestConfigMapApi implements ConfigMapApi {
  constructor(
    private readonly rest: RestClient,
    readonly namespace: string,
  ) {}

  async get(name: string, options: CallOptions): Promise<ConfigMap | undefined> {
    try {
      return toConfigMap(
        await this.rest.json({
          method: 'GET',
          path: namespacedPath(this.namespace, 'configmaps', name),
          verb: 'get',
          resource: 'configmaps',
          what: `getting configmap ${this.namespace}/${name}`,
          signal: options.signal,
        }),
      );
    } catch (err) {
      if (hasCode(err, 'NOT_FOUND')) return undefined;
      throw err;
    }
  }

  async create(manifest: ConfigMapManifest, options: CallOptions): Promise<ConfigMap> {
    const { resourceVersion: _ignored, ...metadata } = manifest.metadata;
    return toConfigMap(
      await this.rest.json({
        method: 'POST',
        path: namespacedPath(this.namespace, 'configmaps'),
        body: { ...manifest, metadata: { ...metadata, namespace: this.namespace } },
        verb: 'create',
        resource: 'configmaps',
        what: `creating configmap ${this.namespace}/${manifest.metadata.name}`,
        signal: options.signal,
      }),
    );
  }

  async replace(manifest: ConfigMapManifest, options: CallOptions): Promise<ConfigMap> {
    const { name, resourceVersion } = manifest.metadata;
    const what = `replacing configmap ${this.namespace}/${name}`;
    // Without a resourceVersion a PUT silently overwrites: refuse rather than lose an update.
    if (resourceVersion === undefined || resourceVersion === '') {
      throw new GcK8sError('BAD_REQUEST', `${what}: metadata.resourceVersion is required for an optimistic replace`);
    }
    return toConfigMap(
      await this.rest.json({
        method: 'PUT',
        path: namespacedPath(this.namespace, 'configmaps', name),
        body: { ...manifest, metadata: { ...manifest.metadata, namespace: this.namespace } },
        verb: 'update',
        resource: 'configmaps',
        what,
        signal: options.signal,
      }),
    );
  }

  async delete(name: string, options: CallOptions & { resourceVersion?: string }): Promise<boolean> {
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      ...(options.resourceVersion === undefined ? {} : { preconditions: { resourceVersion: options.resourceVersion } }),
    };
    try {
      await this.rest.json({
        method: 'DELETE',
        path: namespacedPath(this.namespace, 'configmaps', name),
        body,
        verb: 'delete',
        resource: 'configmaps',
        what: `deleting configmap ${this.namespace}/${name}`,
        signal: options.signal,
      });
      return true;
    } catch (err) {
      if (hasCode(err, 'NOT_FOUND')) return false;
      throw err;
    }
  }

  async list(
    labelSelector: string,
    options: CallOptions & { limit?: number; continueToken?: string },
  ): Promise<{ items: ConfigMap[]; resourceVersion: string; continueToken?: string }> {
    const page = listMeta(
      await this.rest.json({
        method: 'GET',
        path: namespacedPath(this.namespace, 'configmaps'),
        query: { labelSelector: labelSelector === '' ? undefined : labelSelector, limit: options.limit, continue: options.continueToken },
        verb: 'list',
        resource: 'configmaps',
        what: `listing configmaps in ${this.namespace}${labelSelector === '' ? '' : ` (${labelSelector})`}`,
        signal: options.signal,
      }),
    );
    return {
      items: page.items.map(toConfigMap),
      resourceVersion: page.resourceVersion,
      ...(page.continueToken === undefined ? {} : { continueToken: page.continueToken }),
    };
  }
}
