// JobApi (src/kube/ports.ts) over the REST client: the batch/v1 Jobs one-shot sessions run as, and
// the events that say why a Job made no pod (quota, admission).

import type { ClusterEvent, Job, JobManifest } from '../kube/types.js';
import type { CallOptions, JobApi } from '../kube/ports.js';
import { toJob } from './convert.js';
import { eventsOf } from './events-of.js';
import { Resource } from './resource.js';
import type { RestClient } from './rest.js';

export class RestJobApi implements JobApi {
  private readonly jobs: Resource;
  private readonly events_: Resource;

  constructor(
    rest: RestClient,
    readonly namespace: string,
  ) {
    this.jobs = new Resource(rest, 'jobs', namespace, 'batch/v1');
    this.events_ = new Resource(rest, 'events', namespace);
  }

  async get(name: string, options: CallOptions): Promise<Job | undefined> {
    const wire = await this.jobs.get(name, options);
    return wire === undefined ? undefined : toJob(wire);
  }

  async create(manifest: JobManifest, options: CallOptions): Promise<Job> {
    return toJob(await this.jobs.create(manifest.metadata.name, manifest, options));
  }

  delete(name: string, options: CallOptions & { uid?: string }): Promise<boolean> {
    // its pod goes with it (the garbage collector follows the pod's ownerReference)
    return this.jobs.delete(name, { ...options, propagationPolicy: 'Background' });
  }

  events(name: string, options: CallOptions): Promise<ClusterEvent[]> {
    return eventsOf(this.events_, 'Job', name, this.jobs.describe(name), options);
  }
}
