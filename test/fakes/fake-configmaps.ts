// An in-memory ConfigMap "API server" for unit tests. It behaves like the real one where the
// event store depends on it: resourceVersion CAS on replace (CONFLICT), ALREADY_EXISTS on create,
// NOT_FOUND on replace of a missing object, delete preconditions, label selectors (=, ==, !=, in,
// notin, exists), list pagination, label-value validation (INVALID) and the 1 MiB object limit.
// Every call yields to the event loop before and after it applies, so concurrent callers
// interleave. Watch caches (MemoryCache) are fed asynchronously and in order, like a real watch,
// so they lag behind the API. Faults can be injected per call, before or after the change.

import type { ConfigMap, ConfigMapManifest } from '../../src/kube/types.js';
import type { CacheEvent, CallOptions, ConfigMapApi } from '../../src/kube/ports.js';
import { GcK8sError } from '../../src/errors.js';
import { abortError } from '../../src/util/abort.js';
import { MemoryCache } from './memory-cache.js';

export type FakeOp = 'get' | 'create' | 'replace' | 'delete' | 'list';

export interface FakeCall {
  readonly op: FakeOp;
  readonly name?: string;
  readonly manifest?: ConfigMapManifest;
}

/** Returns an error to throw for this call, or undefined to let it through. */
export type Fault = (call: FakeCall) => GcK8sError | undefined;

interface Feed {
  readonly matches: (labels: Readonly<Record<string, string>>) => boolean;
  readonly cache: MemoryCache<ConfigMap>;
  readonly queue: CacheEvent<ConfigMap>[];
  scheduled: boolean;
}

const MAX_OBJECT_BYTES = 1024 * 1024;
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

export class FakeConfigMapServer {
  private readonly objects = new Map<string, ConfigMap>();
  private readonly feeds = new Set<Feed>();
  private readonly faults: { fault: Fault; phase: 'before' | 'after' }[] = [];
  private revision = 0;
  private uids = 0;
  readonly calls: Record<FakeOp, number> = { get: 0, create: 0, replace: 0, delete: 0, list: 0 };
  /** errors thrown to callers, by code (natural and injected) */
  readonly errors: Record<string, number> = {};
  /** successful replaces per object name (e.g. counter CAS writes) */
  readonly replaces = new Map<string, number>();

  constructor(private readonly options: { namespace?: string; now?: () => number } = {}) {}

  /** A ConfigMapApi client of this server. */
  api(): ConfigMapApi {
    return {
      get: (name, o) => this.call({ op: 'get', name }, o, () => this.objects.get(name)),
      create: (manifest, o) => this.call({ op: 'create', name: manifest.metadata.name, manifest }, o, () => this.create(manifest)),
      replace: (manifest, o) => this.call({ op: 'replace', name: manifest.metadata.name, manifest }, o, () => this.replace(manifest)),
      delete: (name, o) => this.call({ op: 'delete', name }, o, () => this.delete(name, o.resourceVersion)),
      list: (selector, o) => this.call({ op: 'list' }, o, () => this.list(selector, o.limit, o.continueToken)),
    };
  }

  /** A watch cache over `selector`, synced with the current objects, then fed asynchronously. */
  cache(selector: string): MemoryCache<ConfigMap> {
    const cache = new MemoryCache<ConfigMap>();
    const matches = parseSelector(selector);
    for (const cm of this.sorted()) if (matches(cm.labels)) cache.put(cm);
    this.feeds.add({ matches, cache, queue: [], scheduled: false });
    return cache;
  }

  /** Adds a fault; returns a function removing it. */
  inject(fault: Fault, phase: 'before' | 'after' = 'before'): () => void {
    const entry = { fault, phase };
    this.faults.push(entry);
    return () => {
      this.faults.splice(this.faults.indexOf(entry), 1);
    };
  }

  /** Writes directly, like `kubectl` by hand (no faults, no CAS); notifies the watches. */
  put(manifest: ConfigMapManifest): ConfigMap {
    return this.store(manifest, this.objects.get(manifest.metadata.name));
  }

  /** Deletes directly, like `kubectl delete` by hand. */
  remove(name: string): void {
    this.delete(name, undefined);
  }

  object(name: string): ConfigMap | undefined {
    return this.objects.get(name);
  }

  names(): string[] {
    return this.sorted().map((cm) => cm.name);
  }

  /**
   * Simulates a watch restart: the cache is brought to the current state with synthetic events
   * for every object (MODIFIED for the ones it had, ADDED/DELETED for the difference).
   */
  relist(cache: MemoryCache<ConfigMap>): void {
    const feed = [...this.feeds].find((f) => f.cache === cache);
    if (feed === undefined) throw new Error('not a cache of this server');
    const current = this.sorted().filter((cm) => feed.matches(cm.labels));
    for (const old of cache.list()) if (!current.some((cm) => cm.name === old.name)) cache.remove(old.name);
    for (const cm of current) cache.put(cm);
  }

  /** Resolves once every watch has delivered everything queued so far. */
  async settled(): Promise<void> {
    while ([...this.feeds].some((f) => f.queue.length > 0)) await tick();
  }

  private async call<T>(call: FakeCall, options: CallOptions, apply: () => T): Promise<T> {
    this.calls[call.op]++;
    await tick();
    try {
      if (options.signal.aborted) throw abortError(options.signal, `${call.op} configmap`);
      this.fail(call, 'before');
      const result = apply();
      await tick();
      this.fail(call, 'after');
      return structuredClone(result);
    } catch (err) {
      const code = err instanceof GcK8sError ? err.code : 'OTHER';
      this.errors[code] = (this.errors[code] ?? 0) + 1;
      throw err;
    }
  }

  private fail(call: FakeCall, phase: 'before' | 'after'): void {
    for (const f of [...this.faults]) {
      if (f.phase !== phase) continue;
      const err = f.fault(call);
      if (err !== undefined) throw err;
    }
  }

  private create(manifest: ConfigMapManifest): ConfigMap {
    const name = manifest.metadata.name;
    if (this.objects.has(name)) throw new GcK8sError('ALREADY_EXISTS', `creating configmap ${name}: configmaps "${name}" already exists`);
    return this.store(manifest, undefined);
  }

  private replace(manifest: ConfigMapManifest): ConfigMap {
    const name = manifest.metadata.name;
    const current = this.objects.get(name);
    if (current === undefined) throw new GcK8sError('NOT_FOUND', `replacing configmap ${name}: not found`);
    const rv = manifest.metadata.resourceVersion;
    if (rv !== undefined && rv !== current.resourceVersion) {
      throw new GcK8sError(
        'CONFLICT',
        `replacing configmap ${name}: the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    this.replaces.set(name, (this.replaces.get(name) ?? 0) + 1);
    return this.store(manifest, current);
  }

  private delete(name: string, resourceVersion: string | undefined): boolean {
    const current = this.objects.get(name);
    if (current === undefined) return false;
    if (resourceVersion !== undefined && resourceVersion !== current.resourceVersion) {
      throw new GcK8sError('CONFLICT', `deleting configmap ${name}: precondition failed: resourceVersion`);
    }
    this.objects.delete(name);
    this.publish(current, undefined);
    return true;
  }

  private list(
    selector: string,
    limit?: number,
    continueToken?: string,
  ): { items: ConfigMap[]; resourceVersion: string; continueToken?: string } {
    const matches = parseSelector(selector);
    const all = this.sorted().filter((cm) => matches(cm.labels) && (continueToken === undefined || cm.name > continueToken));
    const items = limit === undefined ? all : all.slice(0, limit);
    const more = items.length < all.length;
    return { items, resourceVersion: String(this.revision), ...(more ? { continueToken: (items.at(-1) as ConfigMap).name } : {}) };
  }

  private store(manifest: ConfigMapManifest, current: ConfigMap | undefined): ConfigMap {
    const name = manifest.metadata.name;
    for (const [key, value] of Object.entries(manifest.metadata.labels ?? {})) {
      if (!LABEL_VALUE.test(value))
        throw new GcK8sError('INVALID', `configmap ${name}: invalid label value ${key}=${JSON.stringify(value)}`);
    }
    const object: ConfigMap = {
      name,
      namespace: this.options.namespace ?? 'test',
      uid: current?.uid ?? `uid-${++this.uids}`,
      resourceVersion: String(++this.revision),
      labels: { ...manifest.metadata.labels },
      annotations: { ...manifest.metadata.annotations },
      creationTimestamp:
        current?.creationTimestamp ??
        new Date(Math.floor((this.options.now?.() ?? Date.now()) / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      data: { ...manifest.data },
    };
    if (Buffer.byteLength(JSON.stringify(object)) > MAX_OBJECT_BYTES)
      throw new GcK8sError('INVALID', `configmap ${name}: Too long: must have at most 1048576 bytes`);
    this.objects.set(name, object);
    this.publish(current, object);
    return object;
  }

  private publish(before: ConfigMap | undefined, after: ConfigMap | undefined): void {
    for (const feed of this.feeds) {
      const was = before !== undefined && feed.matches(before.labels);
      const is = after !== undefined && feed.matches(after.labels);
      if (is) feed.queue.push({ type: was ? 'MODIFIED' : 'ADDED', object: structuredClone(after) });
      else if (was) feed.queue.push({ type: 'DELETED', object: structuredClone(before) });
      else continue;
      this.schedule(feed);
    }
  }

  private schedule(feed: Feed): void {
    if (feed.scheduled) return;
    feed.scheduled = true;
    setImmediate(() => {
      feed.scheduled = false;
      for (const event of feed.queue.splice(0)) {
        if (event.type === 'DELETED') feed.cache.remove(event.object.name);
        else feed.cache.put(event.object);
      }
    });
  }

  private sorted(): ConfigMap[] {
    return [...this.objects.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Label selector matcher for the subset of syntax Kubernetes supports that we use. */
export function parseSelector(selector: string): (labels: Readonly<Record<string, string>>) => boolean {
  const terms = selector
    .split(/,(?![^(]*\))/)
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const tests = terms.map((term): ((labels: Readonly<Record<string, string>>) => boolean) => {
    let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m !== null) {
      const [, key, op, list] = m as unknown as [string, string, string, string];
      const values = list.split(',').map((v) => v.trim());
      return (labels) => (op === 'in') === (labels[key] !== undefined && values.includes(labels[key]));
    }
    m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(term);
    if (m !== null) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      return (labels) => (op === '!=') !== (labels[key] === value);
    }
    m = /^(!?)([\w./-]+)$/.exec(term);
    if (m !== null) {
      const [, not, key] = m as unknown as [string, string, string];
      return (labels) => (not === '!') !== (labels[key] !== undefined);
    }
    throw new Error(`unsupported label selector term ${JSON.stringify(term)}`);
  });
  return (labels) => tests.every((t) => t(labels));
}
