// PodApi (src/kube/ports.ts) over the REST client.

import type { ClusterEvent, Pod, PodManifest } from '../kube/types.js';
import type { CallOptions, PodApi } from '../kube/ports.js';
import { hasCode } from '../errors.js';
import { listMeta, toClusterEvent, toPod } from './convert.js';
import { namespacedPath } from './paths.js';
import type { RestClient } from './rest.js';

export class RestPodApi implements PodApi {
  constructor(
    private readonly rest: RestClient,
    readonly namespace: string,
  ) {}

  async create(manifest: PodManifest, options: CallOptions & { dryRun?: boolean }): Promise<Pod> {
    const body = { ...manifest, metadata: { ...manifest.metadata, namespace: this.namespace } };
    return toPod(
      await this.rest.json({
        method: 'POST',
        path: namespacedPath(this.namespace, 'pods'),
        ...(options.dryRun === true ? { query: { dryRun: 'All' } } : {}),
        body,
        verb: 'create',
        resource: 'pods',
        what: `creating pod ${this.namespace}/${manifest.metadata.name}`,
        signal: options.signal,
      }),
    );
  }

  async annotate(name: string, uid: string, annotations: Readonly<Record<string, string | null>>, options: CallOptions): Promise<Pod> {
    return toPod(
      await this.rest.json({
        method: 'PATCH',
        path: namespacedPath(this.namespace, 'pods', name),
        // the uid precondition: a newer pod that took the name is never changed
        body: { metadata: { uid, annotations } },
        verb: 'patch',
        resource: 'pods',
        what: `annotating pod ${this.namespace}/${name}`,
        signal: options.signal,
      }),
    );
  }

  async ungate(name: string, uid: string, options: CallOptions): Promise<void> {
    await this.rest.json({
      method: 'PATCH',
      path: namespacedPath(this.namespace, 'pods', name),
      body: { metadata: { uid }, spec: { schedulingGates: null } },
      verb: 'patch',
      resource: 'pods',
      what: `releasing pod ${this.namespace}/${name} for scheduling`,
      signal: options.signal,
    });
  }

  async get(name: string, options: CallOptions): Promise<Pod | undefined> {
    try {
      return toPod(
        await this.rest.json({
          method: 'GET',
          path: namespacedPath(this.namespace, 'pods', name),
          verb: 'get',
          resource: 'pods',
          what: `getting pod ${this.namespace}/${name}`,
          signal: options.signal,
        }),
      );
    } catch (err) {
      if (hasCode(err, 'NOT_FOUND')) return undefined;
      throw err;
    }
  }

  async list(labelSelector: string, options: CallOptions): Promise<Pod[]> {
    const pods: Pod[] = [];
    let continueToken: string | undefined;
    do {
      const page = listMeta(
        await this.rest.json({
          method: 'GET',
          path: namespacedPath(this.namespace, 'pods'),
          query: { labelSelector: labelSelector === '' ? undefined : labelSelector, limit: 500, continue: continueToken },
          verb: 'list',
          resource: 'pods',
          what: `listing pods in ${this.namespace}${labelSelector === '' ? '' : ` (${labelSelector})`}`,
          signal: options.signal,
        }),
      );
      for (const item of page.items) pods.push(toPod(item));
      continueToken = page.continueToken;
    } while (continueToken !== undefined);
    return pods;
  }

  async delete(name: string, options: CallOptions & { gracePeriodSeconds?: number; uid?: string }): Promise<boolean> {
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      ...(options.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: options.gracePeriodSeconds }),
      // The precondition makes the server refuse (409) if the name now belongs to a newer pod.
      ...(options.uid === undefined ? {} : { preconditions: { uid: options.uid } }),
    };
    try {
      await this.rest.json({
        method: 'DELETE',
        path: namespacedPath(this.namespace, 'pods', name),
        body,
        verb: 'delete',
        resource: 'pods',
        what: `deleting pod ${this.namespace}/${name}`,
        signal: options.signal,
      });
      return true;
    } catch (err) {
      if (hasCode(err, 'NOT_FOUND')) return false;
      throw err;
    }
  }

  async events(podName: string, options: CallOptions): Promise<ClusterEvent[]> {
    const events: ClusterEvent[] = [];
    let continueToken: string | undefined;
    do {
      const page = listMeta(
        await this.rest.json({
          method: 'GET',
          path: namespacedPath(this.namespace, 'events'),
          query: {
            fieldSelector: `involvedObject.name=${podName},involvedObject.kind=Pod`,
            limit: 500,
            continue: continueToken,
          },
          verb: 'list',
          resource: 'events',
          what: `listing events of pod ${this.namespace}/${podName}`,
          signal: options.signal,
        }),
      );
      for (const item of page.items) events.push(toClusterEvent(item));
      continueToken = page.continueToken;
    } while (continueToken !== undefined);
    // Stable sort: events with the same timestamp keep the server's order.
    return events.sort((a, b) => timeOf(a.lastSeen) - timeOf(b.lastSeen));
  }
}

function timeOf(rfc3339: string): number {
  const t = Date.parse(rfc3339);
  return Number.isNaN(t) ? 0 : t;
}
