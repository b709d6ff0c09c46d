// An in-memory ObjectApi for unit tests, with enough of server-side apply to tell install's
// behaviour apart: field ownership per manager at the leaf level (lists are atomic), CONFLICT when a
// manifest sets a leaf another manager owns to another value (unless force), removal of leaves a
// manager stops applying and owns alone, dryRun answering without writing, and a resourceVersion
// that moves only when the object changes. Every call is recorded.

import { GcK8sError } from '../../src/errors.js';
import type { CallOptions, ObjectApi } from '../../src/kube/ports.js';
import type { KubeObject, ObjectRef } from '../../src/kube/types.js';

type Json = Record<string, unknown>;
const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export interface ObjectCall {
  readonly op: 'get' | 'apply' | 'delete' | 'list';
  readonly key: string;
  readonly dryRun?: boolean;
}

interface Stored {
  object: Json;
  /** leaf path (JSON of its steps) → the managers that own it */
  owners: Map<string, Set<string>>;
}

/** Leaf paths and values: scalars and lists; identity fields are no one's. */
function leaves(value: unknown, path: string[] = []): [string[], unknown][] {
  if (isJson(value)) return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  const id = path.join('.');
  return id === 'apiVersion' || id === 'kind' || id === 'metadata.name' || id === 'metadata.namespace' ? [] : [[path, value]];
}

function setPath(object: Json, path: readonly string[], value: unknown): void {
  let at = object;
  for (const step of path.slice(0, -1)) {
    if (!isJson(at[step])) at[step] = {};
    at = at[step] as Json;
  }
  at[path.at(-1)!] = clone(value);
}

function getPath(object: Json, path: readonly string[]): unknown {
  let at: unknown = object;
  for (const step of path) at = isJson(at) ? at[step] : undefined;
  return at;
}

function removePath(object: Json, path: readonly string[]): void {
  const parent = getPath(object, path.slice(0, -1));
  if (isJson(parent)) Reflect.deleteProperty(parent, path.at(-1)!);
  // empty maps left behind go too (as the server drops a field set that became empty)
  if (path.length > 1 && isJson(parent) && Object.keys(parent).length === 0) removePath(object, path.slice(0, -1));
}

const keyOf = (r: { kind: string; name: string; namespace?: string }): string => `${r.kind}/${r.namespace ?? ''}/${r.name}`;

export class FakeObjectServer implements ObjectApi {
  readonly calls: ObjectCall[] = [];
  private readonly store = new Map<string, Stored>();
  private revision = 0;

  /** An object someone else made (its fields owned by `manager`). */
  seed(object: KubeObject, manager = 'kubectl'): void {
    const stored: Stored = { object: clone(object), owners: new Map() };
    for (const [path] of leaves(object)) stored.owners.set(JSON.stringify(path), new Set([manager]));
    this.stamp(stored.object, true);
    this.store.set(keyOf(this.ref(object)), stored);
  }

  peek(ref: { kind: string; name: string; namespace?: string }): KubeObject | undefined {
    const stored = this.store.get(keyOf(ref));
    return stored === undefined ? undefined : (clone(stored.object) as KubeObject);
  }

  /** writes: applies that were not dry runs, and deletes */
  writes(): ObjectCall[] {
    return this.calls.filter((c) => (c.op === 'apply' && c.dryRun !== true) || c.op === 'delete');
  }

  private ref(o: KubeObject): ObjectRef {
    return {
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.metadata.name,
      ...(o.metadata.namespace === undefined ? {} : { namespace: o.metadata.namespace }),
    };
  }

  private stamp(object: Json, created: boolean): void {
    const metadata = object['metadata'] as Json;
    metadata['resourceVersion'] = String(++this.revision);
    if (created) {
      metadata['uid'] = `uid-${this.revision}`;
      metadata['creationTimestamp'] = '2026-01-01T00:00:00Z';
    }
  }

  private record(call: ObjectCall, signal: AbortSignal): void {
    if (signal.aborted) throw new GcK8sError('ABORTED', `${call.op} ${call.key}: aborted`);
    this.calls.push(call);
  }

  get(ref: ObjectRef, options: CallOptions): Promise<KubeObject | undefined> {
    this.record({ op: 'get', key: keyOf(ref) }, options.signal);
    return Promise.resolve(this.peek(ref));
  }

  apply(manifest: KubeObject, options: CallOptions & { fieldManager: string; force?: boolean; dryRun?: boolean }): Promise<KubeObject> {
    const key = keyOf(this.ref(manifest));
    this.record({ op: 'apply', key, ...(options.dryRun === true ? { dryRun: true } : {}) }, options.signal);
    const manager = options.fieldManager;
    const existing = this.store.get(key);
    const next: Stored =
      existing === undefined
        ? {
            object: {
              apiVersion: manifest.apiVersion,
              kind: manifest.kind,
              metadata: {
                ...(this.ref(manifest).namespace === undefined ? {} : { namespace: manifest.metadata.namespace }),
                name: manifest.metadata.name,
              },
            },
            owners: new Map(),
          }
        : { object: clone(existing.object), owners: new Map([...existing.owners].map(([k, v]) => [k, new Set(v)])) };
    const applied = leaves(manifest);
    const appliedKeys = new Set(applied.map(([p]) => JSON.stringify(p)));
    const conflicts = applied.filter(([path, value]) => {
      const others = [...(next.owners.get(JSON.stringify(path)) ?? [])].filter((m) => m !== manager);
      return others.length > 0 && JSON.stringify(getPath(next.object, path)) !== JSON.stringify(value);
    });
    if (conflicts.length > 0 && options.force !== true) {
      const paths = conflicts.map(([p]) => `.${p.join('.')}`).join(', ');
      return Promise.reject(new GcK8sError('CONFLICT', `applying ${key}: Apply failed with ${conflicts.length} conflict(s): ${paths}`));
    }
    // what this manager applied before and no longer does, owned by it alone, goes
    for (const [path, owners] of [...next.owners]) {
      if (owners.has(manager) && !appliedKeys.has(path)) {
        owners.delete(manager);
        if (owners.size === 0) {
          next.owners.delete(path);
          removePath(next.object, JSON.parse(path) as string[]);
        }
      }
    }
    for (const [path, value] of applied) {
      const id = JSON.stringify(path);
      const owners = next.owners.get(id) ?? new Set<string>();
      if (JSON.stringify(getPath(next.object, path)) !== JSON.stringify(value)) owners.clear(); // force, or nobody else had it
      owners.add(manager);
      next.owners.set(id, owners);
      setPath(next.object, path, value);
    }
    const changed = existing === undefined || JSON.stringify(existing.object) !== JSON.stringify(next.object);
    if (changed) this.stamp(next.object, existing === undefined);
    if (options.dryRun !== true) this.store.set(key, next);
    return Promise.resolve(clone(next.object) as KubeObject);
  }

  delete(ref: ObjectRef, options: CallOptions): Promise<boolean> {
    this.record({ op: 'delete', key: keyOf(ref) }, options.signal);
    return Promise.resolve(this.store.delete(keyOf(ref)));
  }

  list(kind: { apiVersion: string; kind: string; namespace?: string }, labelSelector: string, options: CallOptions): Promise<KubeObject[]> {
    this.record({ op: 'list', key: `${kind.kind}/${kind.namespace ?? ''}` }, options.signal);
    const [label, value] = labelSelector.split('=');
    return Promise.resolve(
      [...this.store.values()]
        .map((s) => s.object as KubeObject)
        .filter((o) => o.kind === kind.kind && (kind.namespace === undefined || o.metadata.namespace === kind.namespace))
        .filter((o) => label === undefined || o.metadata.labels?.[label] === value)
        .map((o) => clone(o)),
    );
  }
}
