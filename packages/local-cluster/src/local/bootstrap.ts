// The API objects a fresh cluster needs, as src/config/ builds them: RBAC of our components, the
// default StorageClass, the kube-dns Service backed by CoreDNS on the node and metrics-server's
// APIService. POSTed in that order; an object that exists already counts as created (up is idempotent).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubeDns, storageClasses } from '../config/cluster-objects.js';
import { metricsServerObjects } from '../config/monitoring.js';
import { componentRbac } from '../config/rbac.js';
import type { ApiObject } from '../config/api-object.js';
import { netPlan } from '../host.js';
import type { KubeClient } from '../kube/client.js';
import type { Layout } from './layout.js';
import { monitoringPorts, type LocalState } from './state.js';

export async function bootstrapObjects(api: Pick<KubeClient, 'ensure'>, state: LocalState, l: Layout): Promise<void> {
  for (const o of [...componentRbac(), ...storageClasses(), ...kubeDns(netPlan(state.slot)), ...monitoringObjects(state, l)])
    await api.ensure(o.path, o.body);
}

/** metrics-server's Service, EndpointSlice and APIService (none while the state has no port for it). */
export function monitoringObjects(state: LocalState, l: Layout): ApiObject[] {
  const port = monitoringPorts(state.ports)?.metricsServer;
  if (port === undefined) return [];
  const caBundle = readFileSync(join(l.pki, 'ca.crt')).toString('base64');
  return metricsServerObjects({ ip: netPlan(state.slot).hostIp, port, caBundle });
}

/** The part of a Node the readiness wait reads. */
export interface NodeObj {
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}
