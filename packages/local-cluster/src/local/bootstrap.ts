// The API objects a fresh cluster needs, as src/config/ builds them: RBAC of our components, the
// default StorageClass and the kube-dns Service backed by CoreDNS on the node. POSTed in that
// order; an object that exists already counts as created (up is idempotent).

import { kubeDns, storageClasses } from '../config/cluster-objects.js';
import { componentRbac } from '../config/rbac.js';
import { netPlan } from '../host.js';
import type { KubeClient } from '../kube/client.js';
import type { LocalState } from './state.js';

export async function bootstrapObjects(api: Pick<KubeClient, 'ensure'>, state: LocalState): Promise<void> {
  for (const o of [...componentRbac(), ...storageClasses(), ...kubeDns(netPlan(state.slot))]) await api.ensure(o.path, o.body);
}

/** The part of a Node the readiness wait reads. */
export interface NodeObj {
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}
