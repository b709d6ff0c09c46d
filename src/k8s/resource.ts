// One core/v1 resource over the REST client: the verbs every typed API here is made of (get that
// answers undefined for a missing object, create, optimistic replace, patch, delete with
// preconditions that answers false for a missing object, and listing by pages), each with the
// request's stats labels and a message naming the object. The typed APIs (pod-api.ts,
// configmap-api.ts, …) only convert between the wire and our types.

import { hasCode } from '../errors.js';
import type { CallOptions } from '../kube/ports.js';
import { listMeta } from './convert.js';
import type { Query, RestClient } from './rest.js';

export interface DeletePreconditions {
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly gracePeriodSeconds?: number;
  /** what happens to its dependents (a Job's pods): Background deletes them after it */
  readonly propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
}

export interface Page {
  readonly items: readonly unknown[];
  readonly resourceVersion: string;
  readonly continueToken?: string;
}

export class Resource {
  /**
   * `namespace` undefined: a cluster-scoped resource (namespaces); `group` e.g. "batch/v1" (core/v1
   * without); `singular` names one in messages where the plural minus its "s" does not
   * ("priorityclass", not "priorityclasse")
   */
  constructor(
    private readonly rest: RestClient,
    readonly plural: string,
    readonly namespace?: string,
    readonly group?: string,
    private readonly singular?: string,
  ) {}

  /** "pod gc/foo", "namespace gc": how messages name an object. */
  describe(name: string): string {
    return `${this.singular ?? this.plural.slice(0, -1)} ${this.namespace === undefined ? '' : `${this.namespace}/`}${name}`;
  }

  path(name?: string, subresource?: string): string {
    const root = this.group === undefined ? '/api/v1' : `/apis/${this.group}`;
    let path =
      this.namespace === undefined ? `${root}/${this.plural}` : `${root}/namespaces/${encodeURIComponent(this.namespace)}/${this.plural}`;
    if (name !== undefined) path += `/${encodeURIComponent(name)}`;
    if (subresource !== undefined) path += `/${subresource}`;
    return path;
  }

  async get(name: string, options: CallOptions): Promise<unknown> {
    try {
      return await this.rest.json({
        method: 'GET',
        path: this.path(name),
        verb: 'get',
        resource: this.plural,
        what: `getting ${this.describe(name)}`,
        signal: options.signal,
      });
    } catch (err) {
      if (hasCode(err, 'NOT_FOUND')) return undefined;
      throw err;
    }
  }

  /** The manifest placed in this resource's namespace (the typed APIs' manifests may name none). */
  private placed(body: { metadata: object }): object {
    return this.namespace === undefined ? body : { ...body, metadata: { ...body.metadata, namespace: this.namespace } };
  }

  create(name: string, body: { metadata: object }, options: CallOptions & { dryRun?: boolean }): Promise<unknown> {
    return this.rest.json({
      method: 'POST',
      path: this.path(),
      ...(options.dryRun === true ? { query: { dryRun: 'All' } } : {}),
      body: this.placed(body),
      verb: 'create',
      resource: this.plural,
      what: `creating ${this.describe(name)}`,
      signal: options.signal,
    });
  }

  replace(name: string, body: { metadata: object }, options: CallOptions): Promise<unknown> {
    return this.rest.json({
      method: 'PUT',
      path: this.path(name),
      body: this.placed(body),
      verb: 'update',
      resource: this.plural,
      what: `replacing ${this.describe(name)}`,
      signal: options.signal,
    });
  }

  /** A JSON merge patch; `doing` names it in messages ("annotating", "releasing … for scheduling"). */
  patch(name: string, body: unknown, doing: string, options: CallOptions): Promise<unknown> {
    return this.rest.json({
      method: 'PATCH',
      path: this.path(name),
      body,
      verb: 'patch',
      resource: this.plural,
      what: `${doing} ${this.describe(name)}`,
      signal: options.signal,
    });
  }

  /**
   * A server-side apply as `fieldManager`: the server merges the manifest's fields into the object
   * (making it if missing) and records them as that manager's; `force` takes over fields another
   * manager set to other values instead of failing with CONFLICT; `dryRun` answers what the object
   * would be without writing it.
   */
  apply(
    name: string,
    body: { metadata: object },
    options: CallOptions & { fieldManager: string; force?: boolean; dryRun?: boolean },
  ): Promise<unknown> {
    return this.rest.json({
      method: 'PATCH',
      path: this.path(name),
      query: {
        fieldManager: options.fieldManager,
        ...(options.force === true ? { force: true } : {}),
        ...(options.dryRun === true ? { dryRun: 'All' } : {}),
      },
      // JSON is YAML: the apply media type takes it as it is
      body: this.placed(body),
      contentType: 'application/apply-patch+yaml',
      verb: 'apply',
      resource: this.plural,
      what: `${options.dryRun === true ? 'dry-run applying' : 'applying'} ${this.describe(name)}`,
      signal: options.signal,
    });
  }

  /** True when this call deleted it, false when it was already gone. A failed precondition throws. */
  async delete(name: string, options: CallOptions & DeletePreconditions): Promise<boolean> {
    const preconditions = {
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.resourceVersion === undefined ? {} : { resourceVersion: options.resourceVersion }),
    };
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      ...(options.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: options.gracePeriodSeconds }),
      ...(options.propagationPolicy === undefined ? {} : { propagationPolicy: options.propagationPolicy }),
      ...(Object.keys(preconditions).length === 0 ? {} : { preconditions }),
    };
    try {
      await this.rest.json({
        method: 'DELETE',
        path: this.path(name),
        body,
        verb: 'delete',
        resource: this.plural,
        what: `deleting ${this.describe(name)}`,
        signal: options.signal,
      });
      return true;
    } catch (err) {
      if (hasCode(err, 'NOT_FOUND')) return false;
      throw err;
    }
  }

  /** One page of a list. */
  async page(query: Query, options: CallOptions & { what?: string }): Promise<Page> {
    const selector = query['labelSelector'] ?? query['fieldSelector'];
    const what =
      options.what ??
      `listing ${this.plural} in ${this.namespace ?? 'the cluster'}${selector === undefined ? '' : ` (${String(selector)})`}`;
    return listMeta(
      await this.rest.json({ method: 'GET', path: this.path(), query, verb: 'list', resource: this.plural, what, signal: options.signal }),
    );
  }

  /** Every item, page by page (500 a page). */
  async all(query: Query, options: CallOptions & { what?: string }): Promise<unknown[]> {
    const items: unknown[] = [];
    let continueToken: string | undefined;
    do {
      const page = await this.page({ ...query, limit: 500, continue: continueToken }, options);
      items.push(...page.items);
      continueToken = page.continueToken;
    } while (continueToken !== undefined);
    return items;
  }
}
