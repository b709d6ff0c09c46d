// A list+watch cache that never gives up (the failure class client-node's informer has: it stops
// on the first non-410 error, and 1.4.0 has no client timeout at all). Loop: paginated LIST →
// WATCH from its resourceVersion with bookmarks and a server timeout → on a clean end re-watch,
// on 410 relist (reconciling old vs new with synthetic events), on anything else — including
// silence longer than the inactivity timer — restart with capped, jittered backoff.

import type { Logger } from 'pino';
import type { CacheEvent, CacheStatus, CallOptions, ObjectCache } from '../core/ports.js';
import { describeError, GcK8sError, hasCode, toGcK8sError } from '../errors.js';
import { sleep, withTimeout } from '../util/abort.js';
import { Backoff } from '../util/backoff.js';
import { listMeta } from './convert.js';
import { parseStatus, statusError, transportError } from './errors.js';
import { LineSplitter, parseWatchLine, type RawWatchEvent } from './ndjson.js';
import { ObjectStore } from './object-store.js';
import { namespacedPath } from './paths.js';
import type { RestClient } from './rest.js';
import { raceSignal } from './signal.js';
import { obj, str } from './wire.js';

export interface ReflectorTimings {
  /** LIST page size (default 500) */
  readonly pageSize?: number;
  /** deadline for one LIST page (default 60 s) */
  readonly listTimeoutMs?: number;
  /** server-side watch timeout, picked uniformly in [min, max] seconds (default 240–300) */
  readonly watchTimeoutSeconds?: readonly [number, number];
  /** restart a watch that delivered nothing (not even a bookmark) for this long (default 105 s) */
  readonly inactivityMs?: number;
  /** restart backoff (default 200 ms doubling to 30 s, full jitter) */
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** safety-net full relist interval; 0 disables (default 30 min) */
  readonly relistIntervalMs?: number;
  /** longest accepted watch line (default 16 MiB) */
  readonly maxLineBytes?: number;
}

export interface ReflectorOptions<T> extends ReflectorTimings {
  readonly rest: RestClient;
  readonly namespace: string;
  /** plural core/v1 resource, e.g. "pods" */
  readonly resource: string;
  readonly labelSelector: string;
  readonly convert: (wire: unknown) => T;
  readonly log: Logger;
  readonly random?: () => number;
  readonly now?: () => number;
}

export class Reflector<T extends { name: string; resourceVersion: string }> implements ObjectCache<T> {
  private readonly store: ObjectStore<T>;
  private readonly lifetime = new AbortController();
  private readonly backoff: Backoff;
  private readonly now: () => number;
  private readonly what: string;
  private resourceVersion: string | undefined;
  private isSynced = false;
  private lastSyncAt: number | undefined;
  private lastEventAt: number | undefined;
  private restarts = 0;
  private lastError: string | undefined;
  private readonly firstSync: Promise<void>;
  private markSynced!: () => void;

  constructor(private readonly options: ReflectorOptions<T>) {
    this.now = options.now ?? Date.now;
    this.what = `watching ${options.resource} in ${options.namespace}${options.labelSelector === '' ? '' : ` (${options.labelSelector})`}`;
    this.backoff = new Backoff({
      initialMs: options.backoffInitialMs ?? 200,
      maxMs: options.backoffMaxMs ?? 30_000,
      ...(options.random === undefined ? {} : { random: options.random }),
    });
    this.store = new ObjectStore<T>((err) => {
      options.log.error({ err, resource: options.resource }, 'cache listener threw');
    });
    this.firstSync = new Promise((resolve) => {
      this.markSynced = resolve;
    });
    void this.run();
  }

  synced(options: CallOptions): Promise<void> {
    const what = `${this.what}: waiting for the first list`;
    if (this.lifetime.signal.aborted) return Promise.reject(new GcK8sError('ABORTED', `${this.what}: cache closed`));
    // Once synced, answer without attaching anything: waitFor calls this on every use.
    if (this.lastSyncAt !== undefined) return Promise.resolve();
    return raceSignal(this.firstSync, AbortSignal.any([options.signal, this.lifetime.signal]), what);
  }

  get(name: string): T | undefined {
    return this.store.get(name);
  }

  list(): T[] {
    return this.store.list();
  }

  waitFor(name: string, predicate: (object: T | undefined) => boolean, options: CallOptions): Promise<T | undefined> {
    return this.store.waitFor(name, predicate, options, this.synced(options));
  }

  subscribe(listener: (event: CacheEvent<T>) => void): () => void {
    return this.store.subscribe(listener);
  }

  status(): CacheStatus {
    return {
      synced: this.isSynced,
      restarts: this.restarts,
      ...(this.lastSyncAt === undefined ? {} : { lastSyncAt: this.lastSyncAt }),
      ...(this.lastEventAt === undefined ? {} : { lastEventAt: this.lastEventAt }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  close(): void {
    if (this.lifetime.signal.aborted) return;
    this.lifetime.abort(new GcK8sError('ABORTED', `${this.what}: cache closed`));
    this.store.close(new GcK8sError('ABORTED', `${this.what}: cache closed`));
  }

  private isClosed(): boolean {
    return this.lifetime.signal.aborted;
  }

  private async run(): Promise<void> {
    const signal = this.lifetime.signal;
    const { relistIntervalMs = 30 * 60_000 } = this.options;
    while (!this.isClosed()) {
      try {
        const relistDue = relistIntervalMs > 0 && this.now() - (this.lastSyncAt ?? 0) >= relistIntervalMs;
        if (this.resourceVersion === undefined || relistDue) await this.relist(signal);
        const delivered = await this.watch(signal);
        // A watch the server ends at once, again and again, must not become a hot loop.
        if (!delivered) await sleep(this.backoff.next(), signal);
      } catch (err) {
        if (this.isClosed()) break;
        const error = toGcK8sError(err, 'K8S_UNAVAILABLE');
        if (hasCode(error, 'GONE')) {
          // Our resourceVersion is older than the server's window: the events in between are
          // lost, so only a fresh list (reconciled against the cache) is correct.
          this.resourceVersion = undefined;
          this.isSynced = false;
        }
        this.restarts++;
        this.lastError = describeError(error);
        const delayMs = this.backoff.next();
        this.options.log.warn({ err: error, resource: this.options.resource, delayMs }, `${this.what}: restarting`);
        await sleep(delayMs, signal).catch(() => undefined);
      }
    }
  }

  private async relist(lifetime: AbortSignal): Promise<void> {
    const { rest, namespace, resource, labelSelector, convert } = this.options;
    const fresh = new Map<string, T>();
    let continueToken: string | undefined;
    let resourceVersion: string;
    do {
      const page = listMeta(
        await rest.json({
          method: 'GET',
          path: namespacedPath(namespace, resource),
          query: { labelSelector: labelSelector === '' ? undefined : labelSelector, limit: this.options.pageSize ?? 500, continue: continueToken },
          verb: 'list',
          resource,
          what: `listing ${resource} in ${namespace}`,
          signal: withTimeout(lifetime, this.options.listTimeoutMs ?? 60_000),
        }),
      );
      for (const item of page.items) {
        const object = convert(item);
        fresh.set(object.name, object);
      }
      continueToken = page.continueToken;
      resourceVersion = page.resourceVersion;
    } while (continueToken !== undefined);
    if (lifetime.aborted) return;
    this.store.replace(fresh);
    this.resourceVersion = resourceVersion;
    this.lastSyncAt = this.now();
    this.isSynced = true;
    this.markSynced();
  }

  /** One watch connection; resolves true on a clean end after at least one event. */
  private async watch(lifetime: AbortSignal): Promise<boolean> {
    const { rest, namespace, resource, labelSelector } = this.options;
    const [low, high] = this.options.watchTimeoutSeconds ?? [240, 300];
    const inactivityMs = this.options.inactivityMs ?? 105_000;
    const timeoutSeconds = low + Math.floor((this.options.random ?? Math.random)() * (high - low + 1));
    const idle = new AbortController();
    const signal = AbortSignal.any([lifetime, idle.signal]);
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        idle.abort(new GcK8sError('TIMEOUT', `${this.what}: no data for ${inactivityMs} ms`));
      }, inactivityMs);
    };
    arm();
    let delivered = false;
    try {
      const body = await rest.stream({
        method: 'GET',
        path: namespacedPath(namespace, resource),
        query: {
          watch: 'true',
          labelSelector: labelSelector === '' ? undefined : labelSelector,
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: 'true',
          timeoutSeconds,
        },
        verb: 'watch',
        resource,
        what: this.what,
        signal,
      });
      const lines = new LineSplitter(this.options.maxLineBytes ?? 16 * 1024 * 1024);
      for await (const chunk of body as AsyncIterable<Buffer>) {
        arm();
        for (const line of lines.push(chunk)) {
          this.handle(parseWatchLine(line, this.what));
          delivered = true;
          this.backoff.reset();
        }
      }
      if (lines.remainder > 0) throw new GcK8sError('K8S_UNAVAILABLE', `${this.what}: stream ended inside an event`);
      return delivered;
    } catch (err) {
      throw transportError(err, this.what, signal);
    } finally {
      clearTimeout(timer);
      idle.abort(); // releases the connection if we stopped reading early
    }
  }

  private handle(event: RawWatchEvent): void {
    this.lastEventAt = this.now();
    if (event.type === 'ERROR') {
      const status = parseStatus(event.object);
      throw statusError(status.code ?? 500, event.object, this.what);
    }
    if (event.type === 'BOOKMARK') {
      // A bookmark carries only a resourceVersion: progress without changes.
      const rv = str(obj(obj(event.object).metadata).resourceVersion);
      if (rv !== undefined && rv !== '') this.resourceVersion = rv;
      return;
    }
    const object = this.options.convert(event.object);
    this.store.apply(event.type, object);
    if (object.resourceVersion !== '') this.resourceVersion = object.resourceVersion;
  }
}
