// ClaimApi (src/kube/ports.ts) over the REST client: the PersistentVolumeClaims that hold session
// workspaces, and the events that say why one does not bind.

import type { Claim, ClaimManifest, ClusterEvent } from '../kube/types.js';
import type { CallOptions, ClaimApi } from '../kube/ports.js';
import { toClaim } from './convert.js';
import { eventsOf } from './events-of.js';
import { Resource } from './resource.js';
import type { RestClient } from './rest.js';

export class RestClaimApi implements ClaimApi {
  private readonly claims: Resource;
  private readonly events_: Resource;

  constructor(
    rest: RestClient,
    readonly namespace: string,
  ) {
    this.claims = new Resource(rest, 'persistentvolumeclaims', namespace);
    this.events_ = new Resource(rest, 'events', namespace);
  }

  async get(name: string, options: CallOptions): Promise<Claim | undefined> {
    const wire = await this.claims.get(name, options);
    return wire === undefined ? undefined : toClaim(wire);
  }

  async list(labelSelector: string, options: CallOptions): Promise<Claim[]> {
    return (await this.claims.all({ labelSelector: labelSelector === '' ? undefined : labelSelector }, options)).map(toClaim);
  }

  async create(manifest: ClaimManifest, options: CallOptions): Promise<Claim> {
    return toClaim(await this.claims.create(manifest.metadata.name, manifest, options));
  }

  delete(name: string, options: CallOptions & { uid?: string; resourceVersion?: string }): Promise<boolean> {
    return this.claims.delete(name, options);
  }

  async annotate(name: string, annotations: Readonly<Record<string, string | null>>, options: CallOptions): Promise<Claim> {
    return toClaim(await this.claims.patch(name, { metadata: { annotations } }, 'annotating', options));
  }

  events(name: string, options: CallOptions): Promise<ClusterEvent[]> {
    return eventsOf(this.events_, 'PersistentVolumeClaim', name, this.claims.describe(name), options);
  }
}
