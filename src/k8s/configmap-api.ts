// ConfigMapApi (src/kube/ports.ts) over the REST client.

import type { ConfigMap, ConfigMapManifest } from '../kube/types.js';
import type { CallOptions, ConfigMapApi } from '../kube/ports.js';
import { GcK8sError } from '../errors.js';
import { toConfigMap } from './convert.js';
import { Resource } from './resource.js';
import type { RestClient } from './rest.js';

export class RestConfigMapApi implements ConfigMapApi {
  private readonly configMaps: Resource;

  constructor(
    rest: RestClient,
    readonly namespace: string,
  ) {
    this.configMaps = new Resource(rest, 'configmaps', namespace);
  }

  async get(name: string, options: CallOptions): Promise<ConfigMap | undefined> {
    const wire = await this.configMaps.get(name, options);
    return wire === undefined ? undefined : toConfigMap(wire);
  }

  async create(manifest: ConfigMapManifest, options: CallOptions): Promise<ConfigMap> {
    const { resourceVersion: _ignored, ...metadata } = manifest.metadata;
    return toConfigMap(await this.configMaps.create(manifest.metadata.name, { ...manifest, metadata }, options));
  }

  async replace(manifest: ConfigMapManifest, options: CallOptions): Promise<ConfigMap> {
    const { name, resourceVersion } = manifest.metadata;
    // Without a resourceVersion a PUT silently overwrites: refuse rather than lose an update.
    if (resourceVersion === undefined || resourceVersion === '') {
      throw new GcK8sError(
        'BAD_REQUEST',
        `replacing ${this.configMaps.describe(name)}: metadata.resourceVersion is required for an optimistic replace`,
      );
    }
    return toConfigMap(await this.configMaps.replace(name, manifest, options));
  }

  delete(name: string, options: CallOptions & { resourceVersion?: string }): Promise<boolean> {
    return this.configMaps.delete(name, options);
  }

  async list(
    labelSelector: string,
    options: CallOptions & { limit?: number; continueToken?: string },
  ): Promise<{ items: ConfigMap[]; resourceVersion: string; continueToken?: string }> {
    const page = await this.configMaps.page(
      { labelSelector: labelSelector === '' ? undefined : labelSelector, limit: options.limit, continue: options.continueToken },
      options,
    );
    return {
      items: page.items.map(toConfigMap),
      resourceVersion: page.resourceVersion,
      ...(page.continueToken === undefined ? {} : { continueToken: page.continueToken }),
    };
  }
}
