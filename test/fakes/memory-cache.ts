// In-memory ObjectCache for unit tests: the test (or a fake API) pushes changes with put/remove.

import type { CacheEvent, CacheStatus, CallOptions, ObjectCache } from '../../src/kube/ports.js';
import { abortError } from '../../src/util/abort.js';

export class MemoryCache<T extends { name: string }> implements ObjectCache<T> {
  private readonly objects = new Map<string, T>();
  private readonly listeners = new Set<(event: CacheEvent<T>) => void>();
  private readonly waiters = new Set<() => void>();
  isSynced = true;

  synced(_options: CallOptions): Promise<void> {
    return Promise.resolve();
  }

  /** what fresh() answers: resolves, or rejects with this (an unreachable API) */
  freshError: Error | undefined;

  fresh(_options: CallOptions): Promise<void> {
    return this.freshError === undefined ? Promise.resolve() : Promise.reject(this.freshError);
  }

  get(name: string): T | undefined {
    return this.objects.get(name);
  }

  list(): T[] {
    return [...this.objects.values()];
  }

  put(object: T): void {
    const type = this.objects.has(object.name) ? 'MODIFIED' : 'ADDED';
    this.objects.set(object.name, object);
    this.emit({ type, object });
  }

  remove(name: string): void {
    const object = this.objects.get(name);
    if (object === undefined) return;
    this.objects.delete(name);
    this.emit({ type: 'DELETED', object });
  }

  private emit(event: CacheEvent<T>): void {
    for (const listener of this.listeners) listener(event);
    for (const waiter of [...this.waiters]) waiter();
  }

  waitFor(name: string, predicate: (object: T | undefined) => boolean, options: CallOptions): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const current = this.objects.get(name);
        if (!predicate(current)) return false;
        cleanup();
        resolve(current);
        return true;
      };
      const onAbort = (): void => {
        cleanup();
        reject(abortError(options.signal, `waiting for ${name}`));
      };
      const cleanup = (): void => {
        this.waiters.delete(waiter);
        options.signal.removeEventListener('abort', onAbort);
      };
      const waiter = (): void => {
        check();
      };
      if (options.signal.aborted) {
        onAbort();
        return;
      }
      if (check()) return;
      this.waiters.add(waiter);
      options.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  subscribe(listener: (event: CacheEvent<T>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): CacheStatus {
    return { synced: this.isSynced, restarts: 0 };
  }

  close(): void {
    this.listeners.clear();
  }
}
