// The in-memory half of a cache: objects by name, ordered listeners, per-name waiters. Listeners
// run synchronously in event order; one that throws is logged and does not stop the others.

import type { CacheEvent, CallOptions, WatchEventType } from '../kube/ports.js';
import { GcK8sError } from '../errors.js';
import { abortError } from '../util/abort.js';
import { newerThan } from './resource-version.js';

export class ObjectStore<T extends { name: string; resourceVersion: string }> {
  private readonly objects = new Map<string, T>();
  private readonly listeners = new Set<(event: CacheEvent<T>) => void>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly closers = new Set<(err: GcK8sError) => void>();
  private closedWith: GcK8sError | undefined;

  constructor(private readonly onListenerError: (err: unknown) => void) {}

  get(name: string): T | undefined {
    return this.objects.get(name);
  }

  list(): T[] {
    return [...this.objects.values()];
  }

  apply(type: WatchEventType, object: T): void {
    if (type === 'DELETED') this.objects.delete(object.name);
    else this.objects.set(object.name, object);
    this.emit({ type, object });
  }

  /**
   * Applies a watch event unless the cache already holds a newer version of the object: a watch
   * restarted from an older version (after a verify) replays what the cache has seen, and a replay
   * must not take an object back in time, nor delete one re-created since.
   */
  applyWatched(type: WatchEventType, object: T): void {
    const cached = this.objects.get(object.name);
    if (cached !== undefined && newerThan(cached.resourceVersion, object.resourceVersion)) return;
    this.apply(type, object);
  }

  /**
   * Replaces the contents with a list taken at `listVersion`, emitting the events that turn old
   * into new. What the cache holds newer than the list (a watch running while the list was taken)
   * stays: missing from the list is then no deletion, and an older copy no update; the watch that
   * restarts from the list's version delivers whatever really happened to them.
   */
  replace(fresh: ReadonlyMap<string, T>, listVersion = ''): void {
    for (const [name, old] of [...this.objects]) {
      if (!fresh.has(name) && !newerThan(old.resourceVersion, listVersion)) this.apply('DELETED', old);
    }
    for (const [name, object] of fresh) {
      const old = this.objects.get(name);
      if (old === undefined) this.apply('ADDED', object);
      else if (outdated(old, object)) this.apply('MODIFIED', object);
    }
  }

  /**
   * Whether the cache holds everything a list taken at `listVersion` holds, at that version or
   * newer, and nothing the list lacks except what is newer than it (a live watch ahead of a list).
   */
  covers(fresh: ReadonlyMap<string, T>, listVersion: string): boolean {
    for (const [name, object] of fresh) {
      const cached = this.objects.get(name);
      if (cached === undefined) return false;
      if (outdated(cached, object)) return false;
    }
    for (const [name, cached] of this.objects) {
      if (!fresh.has(name) && !newerThan(cached.resourceVersion, listVersion)) return false;
    }
    return true;
  }

  subscribe(listener: (event: CacheEvent<T>) => void): () => void {
    // Wrapped so the same function can subscribe twice and unsubscribe independently.
    const entry = (event: CacheEvent<T>): void => {
      listener(event);
    };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  /** Resolves as soon as predicate(get(name)) holds; `ready` gates the first check (sync). */
  async waitFor(
    name: string,
    predicate: (object: T | undefined) => boolean,
    options: CallOptions,
    ready: Promise<void>,
  ): Promise<T | undefined> {
    await ready;
    return new Promise<T | undefined>((resolve, reject) => {
      const what = `waiting for ${name}`;
      if (this.closedWith !== undefined) {
        reject(this.closedWith);
        return;
      }
      const check = (): void => {
        let ok: boolean;
        try {
          ok = predicate(this.objects.get(name));
        } catch (err) {
          cleanup();
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (!ok) return;
        cleanup();
        resolve(this.objects.get(name));
      };
      const onAbort = (): void => {
        cleanup();
        reject(abortError(options.signal, what));
      };
      const onClose = (err: GcK8sError): void => {
        cleanup();
        reject(err);
      };
      const cleanup = (): void => {
        const set = this.waiters.get(name);
        set?.delete(check);
        if (set?.size === 0) this.waiters.delete(name);
        this.closers.delete(onClose);
        options.signal.removeEventListener('abort', onAbort);
      };
      if (options.signal.aborted) {
        reject(abortError(options.signal, what));
        return;
      }
      const set = this.waiters.get(name) ?? new Set<() => void>();
      this.waiters.set(name, set);
      set.add(check);
      this.closers.add(onClose);
      options.signal.addEventListener('abort', onAbort, { once: true });
      check();
    });
  }

  /** Rejects every pending waitFor and drops listeners. */
  close(err: GcK8sError): void {
    this.closedWith = err;
    for (const closer of [...this.closers]) closer(err);
    this.listeners.clear();
  }

  private emit(event: CacheEvent<T>): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
    const waiting = this.waiters.get(event.object.name);
    if (waiting !== undefined) for (const check of [...waiting]) check();
  }
}

/** Whether the cached copy differs from the listed one and is not newer: the list's is the one to hold. */
function outdated(cached: { resourceVersion: string }, listed: { resourceVersion: string }): boolean {
  return cached.resourceVersion !== listed.resourceVersion && !newerThan(cached.resourceVersion, listed.resourceVersion);
}
