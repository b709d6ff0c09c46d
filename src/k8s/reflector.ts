// A list+watch cache that never gives up (the failure class client-node's informer has: it stops
// on the first non-410 error, and 1.4.0 has no client timeout at all). Loop: paginated LIST →
// WATCH from its resourceVersion with bookmarks and a server timeout → on a clean end re-watch,
// on 410 relist (reconciling old vs new with synthetic events), on anything else — including
// silence longer than the inactivity timer — restart with capped, jittered backoff.
//
// Freshness is judged by the connection's own progress, never by the age of the last event: an
// idle watch sees a bookmark only about once a minute. `fresh()` answers at once while the watch
// is connected and has made progress within `verifyAfterMs`; otherwise it verifies the cache with
// one LIST (single-flight), repairs it when it differs (and restarts the watch from the list), and
// only fails when the API cannot be reached at all.

import type { Logger } from 'pino';
import type { CacheEvent, CacheStatus, CallOptions, ObjectCache } from '../kube/ports.js';
import { describeError, GcK8sError, hasCode, toGcK8sError } from '../errors.js';
import { sleep, withTimeout } from '../util/abort.js';
import { Backoff } from '../util/backoff.js';
import { parseStatus, statusError, transportError } from './errors.js';
import { LineSplitter, parseWatchLine, type RawWatchEvent } from './ndjson.js';
import { ObjectStore } from './object-store.js';
import { Resource } from './resource.js';
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
  /** a watch silent for longer than this is verified by a LIST before the cache is trusted (default 20 s) */
  readonly verifyAfterMs?: number;
  /** a watch that ended cleanly counts as connected for this long while it reconnects (default 2 s) */
  readonly reconnectGraceMs?: number;
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
  /** the error of the current outage; cleared as soon as a watch or list succeeds again */
  private lastError: string | undefined;
  /** the most recent failure, kept for diagnostics after recovery */
  private lastFailure: { message: string; at: number } | undefined;
  /** a watch response is open and streaming */
  private connected = false;
  /** when the watch last proved progress: connected, or delivered bytes (events, bookmarks) */
  private lastProgressAt: number | undefined;
  /** when the current watch ended (cleanly or not); undefined while connected */
  private disconnectedAt: number | undefined;
  private verifying: Promise<void> | undefined;
  private verifications = 0;
  /** aborts the current watch so that the loop re-watches from a resourceVersion a verify set */
  private currentWatch: AbortController | undefined;
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

  /**
   * Resolves once the cache may be trusted as of now: at once while the watch is connected and
   * made progress recently; otherwise after a LIST confirmed (or repaired) the contents.
   */
  async fresh(options: CallOptions): Promise<void> {
    if (this.lifetime.signal.aborted) throw new GcK8sError('ABORTED', `${this.what}: cache closed`);
    if (this.isFresh()) return;
    await raceSignal(this.verify(), options.signal, `${this.what}: verifying the cache`);
  }

  /**
   * Waits in memory; while the watch makes no progress the cache is verified every
   * verifyAfterMs, so a stalled watch cannot make a waiter miss what it waits for.
   */
  waitFor(name: string, predicate: (object: T | undefined) => boolean, options: CallOptions): Promise<T | undefined> {
    const every = this.verifyAfterMs();
    const timer = setInterval(() => {
      if (!this.isFresh()) this.verify().catch(() => undefined); // logged by verify; the waiter's deadline bounds it
    }, every);
    timer.unref();
    const waiting = this.store.waitFor(name, predicate, options, this.synced(options));
    return waiting.finally(() => {
      clearInterval(timer);
    });
  }

  subscribe(listener: (event: CacheEvent<T>) => void): () => void {
    return this.store.subscribe(listener);
  }

  status(): CacheStatus {
    return {
      synced: this.isSynced,
      connected: this.connected,
      fresh: this.isFresh(),
      restarts: this.restarts,
      verifications: this.verifications,
      ...(this.lastSyncAt === undefined ? {} : { lastSyncAt: this.lastSyncAt }),
      ...(this.lastEventAt === undefined ? {} : { lastEventAt: this.lastEventAt }),
      ...(this.lastProgressAt === undefined ? {} : { lastProgressAt: this.lastProgressAt }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...(this.lastFailure === undefined ? {} : { lastFailure: this.lastFailure.message, lastFailureAt: this.lastFailure.at }),
    };
  }

  private verifyAfterMs(): number {
    return this.options.verifyAfterMs ?? 20_000;
  }

  /** Connected (or reconnecting within the grace) and progress seen within verifyAfterMs. */
  private isFresh(): boolean {
    if (!this.isSynced || this.lastProgressAt === undefined) return false;
    const now = this.now();
    if (now - this.lastProgressAt >= this.verifyAfterMs()) return false;
    if (this.connected) return true;
    return this.disconnectedAt !== undefined && now - this.disconnectedAt < (this.options.reconnectGraceMs ?? 2_000);
  }

  /**
   * One LIST at a time compares the server's objects with the cache. Equal: the watch is merely
   * quiet, and that counts as progress. Different (or never synced): the list replaces the
   * contents, with events for the difference, and the watch restarts from the list's version.
   */
  private verify(): Promise<void> {
    this.verifying ??= (async () => {
      try {
        const { objects, resourceVersion } = await this.listAll(this.lifetime.signal);
        if (this.isClosed()) return;
        this.verifications++;
        // a list taken while the watch runs can be behind it: that is progress, not a miss
        if (this.isSynced && this.store.covers(objects, resourceVersion)) {
          this.lastProgressAt = this.now();
          return;
        }
        this.options.log.warn(
          { resource: this.options.resource, synced: this.isSynced, connected: this.connected },
          `${this.what}: the cache missed changes; repaired from a fresh list`,
        );
        this.adopt(objects, resourceVersion);
        this.lastProgressAt = this.now();
        this.currentWatch?.abort(new GcK8sError('ABORTED', `${this.what}: restarting from a verified list`));
      } catch (err) {
        const error = toGcK8sError(err, 'K8S_UNAVAILABLE');
        this.options.log.warn({ err: error, resource: this.options.resource }, `${this.what}: cannot verify the cache`);
        throw new GcK8sError(
          error.code === 'ABORTED' ? 'ABORTED' : 'K8S_UNAVAILABLE',
          `${this.what}: the watch is not making progress${this.lastError === undefined ? '' : ` (${this.lastError})`} and a list failed: ${describeError(error)}`,
          { cause: error },
        );
      } finally {
        this.verifying = undefined;
      }
    })();
    return this.verifying;
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
        if (hasCode(error, 'ABORTED') && !this.isClosed() && this.resourceVersion !== undefined) {
          continue; // a verify repaired the cache and asked for a watch from its list
        }
        this.restarts++;
        this.lastError = describeError(error);
        this.lastFailure = { message: this.lastError, at: this.now() };
        const delayMs = this.backoff.next();
        this.options.log.warn({ err: error, resource: this.options.resource, delayMs }, `${this.what}: restarting`);
        await sleep(delayMs, signal).catch(() => undefined);
      }
    }
  }

  private async relist(lifetime: AbortSignal): Promise<void> {
    const { objects, resourceVersion } = await this.listAll(lifetime);
    if (lifetime.aborted) return;
    this.adopt(objects, resourceVersion);
  }

  private async listAll(lifetime: AbortSignal): Promise<{ objects: Map<string, T>; resourceVersion: string }> {
    const { rest, namespace, resource, labelSelector, convert } = this.options;
    const api = new Resource(rest, resource, namespace);
    const objects = new Map<string, T>();
    let continueToken: string | undefined;
    let resourceVersion: string;
    do {
      const page = await api.page(
        { labelSelector: labelSelector === '' ? undefined : labelSelector, limit: this.options.pageSize ?? 500, continue: continueToken },
        { signal: withTimeout(lifetime, this.options.listTimeoutMs ?? 60_000), what: `listing ${resource} in ${namespace}` },
      );
      for (const item of page.items) {
        const object = convert(item);
        objects.set(object.name, object);
      }
      continueToken = page.continueToken;
      resourceVersion = page.resourceVersion;
    } while (continueToken !== undefined);
    return { objects, resourceVersion };
  }

  private adopt(objects: ReadonlyMap<string, T>, resourceVersion: string): void {
    this.store.replace(objects, resourceVersion);
    this.resourceVersion = resourceVersion;
    this.lastSyncAt = this.now();
    this.lastError = undefined;
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
    this.currentWatch = idle;
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
        path: new Resource(rest, resource, namespace).path(),
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
      // The server accepted a watch from our resourceVersion: from here it streams every change.
      this.connected = true;
      this.disconnectedAt = undefined;
      this.lastProgressAt = this.now();
      this.lastError = undefined;
      const lines = new LineSplitter(this.options.maxLineBytes ?? 16 * 1024 * 1024);
      for await (const chunk of body as AsyncIterable<Buffer>) {
        arm();
        this.lastProgressAt = this.now();
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
      if (this.connected) this.disconnectedAt = this.now();
      this.connected = false;
      if (this.currentWatch === idle) this.currentWatch = undefined;
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
    this.store.applyWatched(event.type, object);
    if (object.resourceVersion !== '') this.resourceVersion = object.resourceVersion;
  }
}
