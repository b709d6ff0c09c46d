// The Events about one object (involvedObject kind and name), oldest first: what explains why a
// pod does not start or a claim does not bind.

import type { CallOptions } from '../kube/ports.js';
import type { ClusterEvent } from '../kube/types.js';
import { toClusterEvent } from './convert.js';
import type { Resource } from './resource.js';

export async function eventsOf(events: Resource, kind: string, name: string, what: string, options: CallOptions): Promise<ClusterEvent[]> {
  const wire = await events.all(
    { fieldSelector: `involvedObject.name=${name},involvedObject.kind=${kind}` },
    { ...options, what: `listing events of ${what}` },
  );
  // Stable sort: events with the same timestamp keep the server's order.
  return wire.map(toClusterEvent).sort((a, b) => timeOf(a.lastSeen) - timeOf(b.lastSeen));
}

function timeOf(rfc3339: string): number {
  const t = Date.parse(rfc3339);
  return Number.isNaN(t) ? 0 : t;
}
