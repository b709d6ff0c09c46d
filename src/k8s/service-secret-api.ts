// ServiceApi and SecretApi (src/kube/ports.ts) over the REST client: single named GETs, which is
// all the daemon needs to reach Dolt itself (its ClusterIP, and the password gc's pods get by
// reference), and the creation of a session's credentials Secret. A missing object is
// `undefined`, never an error.

import type { SecretManifest, ServiceAddress } from '../kube/types.js';
import type { CallOptions, SecretApi, ServiceApi } from '../kube/ports.js';
import { hasCode } from '../errors.js';
import { secretValue, toServiceAddress } from './convert.js';
import { namespacedPath } from './paths.js';
import type { RestClient } from './rest.js';

async function getOrUndefined(rest: RestClient, namespace: string, resource: string, name: string, options: CallOptions): Promise<unknown> {
  try {
    return await rest.json({
      method: 'GET',
      path: namespacedPath(namespace, resource, name),
      verb: 'get',
      resource,
      what: `getting ${resource.slice(0, -1)} ${namespace}/${name}`,
      signal: options.signal,
    });
  } catch (err) {
    if (hasCode(err, 'NOT_FOUND')) return undefined;
    throw err;
  }
}

export class RestServiceApi implements ServiceApi {
  constructor(
    private readonly rest: RestClient,
    readonly namespace: string,
  ) {}

  async get(name: string, options: CallOptions): Promise<ServiceAddress | undefined> {
    const wire = await getOrUndefined(this.rest, this.namespace, 'services', name, options);
    return wire === undefined ? undefined : toServiceAddress(wire);
  }
}

export class RestSecretApi implements SecretApi {
  constructor(
    private readonly rest: RestClient,
    readonly namespace: string,
  ) {}

  async value(name: string, key: string, options: CallOptions): Promise<string | undefined> {
    const wire = await getOrUndefined(this.rest, this.namespace, 'secrets', name, options);
    return wire === undefined ? undefined : secretValue(wire, key);
  }

  async create(manifest: SecretManifest, options: CallOptions): Promise<void> {
    await this.rest.json({
      method: 'POST',
      path: namespacedPath(this.namespace, 'secrets'),
      body: { ...manifest, metadata: { ...manifest.metadata, namespace: this.namespace } },
      verb: 'create',
      resource: 'secrets',
      // never the data: only the name reaches a message
      what: `creating secret ${this.namespace}/${manifest.metadata.name}`,
      signal: options.signal,
    });
  }
}
