// ServiceApi and SecretApi (src/kube/ports.ts) over the REST client: single named GETs, which is
// all the daemon needs to reach Dolt itself (its ClusterIP, and the password gc's pods get by
// reference), and the creation of a session's credentials Secret. A missing object is
// `undefined`, never an error.

import type { SecretManifest, ServiceAddress } from '../kube/types.js';
import type { CallOptions, SecretApi, ServiceApi } from '../kube/ports.js';
import { secretKeys, secretValue, toServiceAddress } from './convert.js';
import { Resource } from './resource.js';
import type { RestClient } from './rest.js';

export class RestServiceApi implements ServiceApi {
  private readonly services: Resource;

  constructor(
    rest: RestClient,
    readonly namespace: string,
  ) {
    this.services = new Resource(rest, 'services', namespace);
  }

  async get(name: string, options: CallOptions): Promise<ServiceAddress | undefined> {
    const wire = await this.services.get(name, options);
    return wire === undefined ? undefined : toServiceAddress(wire);
  }
}

export class RestSecretApi implements SecretApi {
  private readonly secrets: Resource;

  constructor(
    rest: RestClient,
    readonly namespace: string,
  ) {
    this.secrets = new Resource(rest, 'secrets', namespace);
  }

  async value(name: string, key: string, options: CallOptions): Promise<string | undefined> {
    const wire = await this.secrets.get(name, options);
    return wire === undefined ? undefined : secretValue(wire, key);
  }

  async keys(name: string, options: CallOptions): Promise<readonly string[] | undefined> {
    const wire = await this.secrets.get(name, options);
    return wire === undefined ? undefined : secretKeys(wire);
  }

  /** Messages name the secret, never its data. */
  async create(manifest: SecretManifest, options: CallOptions): Promise<void> {
    await this.secrets.create(manifest.metadata.name, manifest, options);
  }
}
