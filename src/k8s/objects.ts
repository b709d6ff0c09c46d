// ObjectApi (src/kube/ports.ts) over the REST client: the kinds `gc-k8s install` and `deploy` apply, reached
// by apiVersion and kind through one table, with server-side apply. A kind not in the table is
// refused before any request (install checks its manifests against kindInfo first).

import { GcK8sError } from '../errors.js';
import type { CallOptions, ObjectApi } from '../kube/ports.js';
import type { KubeObject, ObjectRef } from '../kube/types.js';
import { Resource } from './resource.js';
import type { RestClient } from './rest.js';
import { arr, isObject, obj, str } from './wire.js';

export interface KindInfo {
  readonly plural: string;
  readonly namespaced: boolean;
}

const KINDS: Readonly<Record<string, KindInfo>> = {
  'v1/Namespace': { plural: 'namespaces', namespaced: false },
  'v1/ServiceAccount': { plural: 'serviceaccounts', namespaced: true },
  'v1/ResourceQuota': { plural: 'resourcequotas', namespaced: true },
  'v1/LimitRange': { plural: 'limitranges', namespaced: true },
  'rbac.authorization.k8s.io/v1/Role': { plural: 'roles', namespaced: true },
  'rbac.authorization.k8s.io/v1/RoleBinding': { plural: 'rolebindings', namespaced: true },
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy': { plural: 'validatingadmissionpolicies', namespaced: false },
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding': { plural: 'validatingadmissionpolicybindings', namespaced: false },
  'scheduling.k8s.io/v1/PriorityClass': { plural: 'priorityclasses', namespaced: false },
  'networking.k8s.io/v1/NetworkPolicy': { plural: 'networkpolicies', namespaced: true },
  'policy/v1/PodDisruptionBudget': { plural: 'poddisruptionbudgets', namespaced: true },
  // `gc-k8s deploy`: the in-cluster Deployment, its pods (rollout progress), the leader Lease
  'apps/v1/Deployment': { plural: 'deployments', namespaced: true },
  'v1/Pod': { plural: 'pods', namespaced: true },
  'coordination.k8s.io/v1/Lease': { plural: 'leases', namespaced: true },
};

/** Where a kind lives, or undefined for one this API does not reach. */
export function kindInfo(apiVersion: string, kind: string): KindInfo | undefined {
  return KINDS[`${apiVersion}/${kind}`];
}

/** The wire object, checked to be one (apiVersion, kind, metadata.name). */
function toKubeObject(wire: unknown, what: string): KubeObject {
  const o = obj(wire);
  if (str(o.apiVersion) === undefined || str(o.kind) === undefined || str(obj(o.metadata).name) === undefined) {
    throw new GcK8sError('K8S_UNAVAILABLE', `${what}: the answer is not a Kubernetes object`);
  }
  return o as KubeObject;
}

export class RestObjectApi implements ObjectApi {
  constructor(private readonly rest: RestClient) {}

  private resource(ref: { apiVersion: string; kind: string; namespace?: string }): Resource {
    const info = kindInfo(ref.apiVersion, ref.kind);
    if (info === undefined) throw new GcK8sError('BAD_REQUEST', `kind ${ref.apiVersion}/${ref.kind} is not one gc-k8s applies`);
    if (info.namespaced && (ref.namespace ?? '') === '') {
      throw new GcK8sError('BAD_REQUEST', `a ${ref.kind} needs a namespace`);
    }
    return new Resource(
      this.rest,
      info.plural,
      info.namespaced ? ref.namespace : undefined,
      ref.apiVersion === 'v1' ? undefined : ref.apiVersion,
      ref.kind.toLowerCase(),
    );
  }

  async get(ref: ObjectRef, options: CallOptions): Promise<KubeObject | undefined> {
    const resource = this.resource(ref);
    const wire = await resource.get(ref.name, options);
    return wire === undefined ? undefined : toKubeObject(wire, `getting ${resource.describe(ref.name)}`);
  }

  async apply(
    manifest: KubeObject,
    options: CallOptions & { fieldManager: string; force?: boolean; dryRun?: boolean },
  ): Promise<KubeObject> {
    const ref = {
      apiVersion: manifest.apiVersion,
      kind: manifest.kind,
      name: manifest.metadata.name,
      ...(manifest.metadata.namespace === undefined ? {} : { namespace: manifest.metadata.namespace }),
    };
    const resource = this.resource(ref);
    return toKubeObject(await resource.apply(ref.name, manifest, options), `applying ${resource.describe(ref.name)}`);
  }

  async delete(ref: ObjectRef, options: CallOptions): Promise<boolean> {
    return this.resource(ref).delete(ref.name, options);
  }

  async list(
    kind: { apiVersion: string; kind: string; namespace?: string },
    labelSelector: string,
    options: CallOptions,
  ): Promise<KubeObject[]> {
    const resource = this.resource(kind);
    const items = await resource.all({ labelSelector }, options);
    // a list's items carry no apiVersion and kind: give them theirs
    return arr(items)
      .filter(isObject)
      .map((item) => toKubeObject({ ...item, apiVersion: kind.apiVersion, kind: kind.kind }, `listing ${resource.plural}`));
  }
}
