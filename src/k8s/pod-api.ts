// PodApi (src/kube/ports.ts) over the REST client.

import { hasCode } from '../errors.js';
import type { ClusterEvent, Pod, PodManifest, PodUsage } from '../kube/types.js';
import type { CallOptions, PodApi } from '../kube/ports.js';
import { toPod } from './convert.js';
import { eventsOf } from './events-of.js';
import { quantityValue } from './quantity.js';
import { Resource } from './resource.js';
import type { RestClient } from './rest.js';

export class RestPodApi implements PodApi {
  private readonly pods: Resource;
  private readonly events_: Resource;
  private readonly metrics: Resource;

  constructor(
    rest: RestClient,
    readonly namespace: string,
  ) {
    this.pods = new Resource(rest, 'pods', namespace);
    this.events_ = new Resource(rest, 'events', namespace);
    this.metrics = new Resource(rest, 'pods', namespace, 'metrics.k8s.io/v1beta1', 'pod metrics');
  }

  async create(manifest: PodManifest, options: CallOptions & { dryRun?: boolean }): Promise<Pod> {
    return toPod(await this.pods.create(manifest.metadata.name, manifest, options));
  }

  async annotate(name: string, uid: string, annotations: Readonly<Record<string, string | null>>, options: CallOptions): Promise<Pod> {
    // the uid precondition: a newer pod that took the name is never changed
    return toPod(await this.pods.patch(name, { metadata: { uid, annotations } }, 'annotating', options));
  }

  async claim(
    name: string,
    resourceVersion: string,
    change: { labels: Readonly<Record<string, string | null>>; annotations: Readonly<Record<string, string | null>> },
    options: CallOptions,
  ): Promise<Pod> {
    // a merge patch carrying metadata.resourceVersion is applied only at that version (409 otherwise)
    return toPod(await this.pods.patch(name, { metadata: { resourceVersion, ...change } }, 'claiming', options));
  }

  async ungate(name: string, uid: string, options: CallOptions): Promise<void> {
    await this.pods.patch(name, { metadata: { uid }, spec: { schedulingGates: null } }, 'releasing for scheduling', options);
  }

  async get(name: string, options: CallOptions): Promise<Pod | undefined> {
    const wire = await this.pods.get(name, options);
    return wire === undefined ? undefined : toPod(wire);
  }

  async list(labelSelector: string, options: CallOptions): Promise<Pod[]> {
    return (await this.pods.all({ labelSelector: labelSelector === '' ? undefined : labelSelector }, options)).map(toPod);
  }

  /** The uid precondition makes the server refuse (409) if the name now belongs to a newer pod. */
  delete(name: string, options: CallOptions & { gracePeriodSeconds?: number; uid?: string }): Promise<boolean> {
    return this.pods.delete(name, options);
  }

  events(podName: string, options: CallOptions): Promise<ClusterEvent[]> {
    return eventsOf(this.events_, 'Pod', podName, this.pods.describe(podName), options);
  }

  async usage(labelSelector: string, options: CallOptions): Promise<PodUsage[] | undefined> {
    try {
      const page = await this.metrics.page({ labelSelector }, { ...options, what: `reading pod metrics in ${this.namespace}` });
      return page.items.map(toUsage);
    } catch (err) {
      if (hasCode(err, 'NOT_FOUND')) return undefined; // no metrics.k8s.io (no metrics-server)
      throw err;
    }
  }
}

interface WirePodMetrics {
  metadata?: { name?: string };
  containers?: { name?: string; usage?: { cpu?: string; memory?: string } }[];
}

function toUsage(wire: unknown): PodUsage {
  const w = wire as WirePodMetrics;
  return {
    name: w.metadata?.name ?? '',
    containers: (w.containers ?? []).map((c) => ({
      name: c.name ?? '',
      cpuCores: quantityValue(c.usage?.cpu ?? ''),
      memoryBytes: quantityValue(c.usage?.memory ?? ''),
    })),
  };
}
