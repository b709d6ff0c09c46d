// LeaseApi (src/kube/ports.ts) over the REST client: the coordination.k8s.io/v1 Lease leader
// election keeps. Updates are full replaces carrying the resourceVersion read, so two daemons
// writing at once cannot both win (the loser gets CONFLICT).

import type { CallOptions, LeaseApi } from '../kube/ports.js';
import type { Lease, LeaseRecord } from '../kube/types.js';
import { Resource } from './resource.js';
import type { RestClient } from './rest.js';
import { num, obj, str } from './wire.js';

/** A MicroTime as the API server writes and expects it: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function parseTime(value: unknown): number | undefined {
  const text = str(value);
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

export function toLease(wire: unknown): Lease {
  const o = obj(wire);
  const meta = obj(o['metadata']);
  const spec = obj(o['spec']);
  return {
    name: str(meta['name']) ?? '',
    holderIdentity: str(spec['holderIdentity']) ?? '',
    leaseDurationSeconds: num(spec['leaseDurationSeconds']) ?? 0,
    acquireTimeMs: parseTime(spec['acquireTime']),
    renewTimeMs: parseTime(spec['renewTime']),
    leaseTransitions: num(spec['leaseTransitions']) ?? 0,
    resourceVersion: str(meta['resourceVersion']) ?? '',
  };
}

function toWire(record: LeaseRecord, resourceVersion?: string): { metadata: object; [k: string]: unknown } {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: record.name,
      labels: { 'app.kubernetes.io/name': 'gc-k8s', 'app.kubernetes.io/part-of': 'gas-city' },
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    },
    spec: {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      leaseTransitions: record.leaseTransitions,
      ...(record.acquireTimeMs === undefined ? {} : { acquireTime: microTime(record.acquireTimeMs) }),
      ...(record.renewTimeMs === undefined ? {} : { renewTime: microTime(record.renewTimeMs) }),
    },
  };
}

export class RestLeaseApi implements LeaseApi {
  private readonly leases: Resource;

  constructor(rest: RestClient, namespace: string) {
    this.leases = new Resource(rest, 'leases', namespace, 'coordination.k8s.io/v1');
  }

  async get(name: string, options: CallOptions): Promise<Lease | undefined> {
    const wire = await this.leases.get(name, options);
    return wire === undefined ? undefined : toLease(wire);
  }

  async create(record: LeaseRecord, options: CallOptions): Promise<Lease> {
    return toLease(await this.leases.create(record.name, toWire(record), options));
  }

  async update(record: LeaseRecord, resourceVersion: string, options: CallOptions): Promise<Lease> {
    return toLease(await this.leases.replace(record.name, toWire(record, resourceVersion), options));
  }
}
