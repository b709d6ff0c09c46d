// Everything the daemon keeps for one (kubeconfig context, namespace): the namespace client with
// its watch caches, the exec-channel runner, the per-session locks, and — made on first use — the
// event store (with its retention timer), the beads service with its Dolt access, and the session
// providers of the cities that use this namespace. Closed top-down: what uses the client first.

import { DoltAccess } from '../beads/dolt/access.js';
import { BeadsService } from '../beads/service.js';
import type { Config } from '../config/load.js';
import {
  createEventStore,
  EVENT_CACHE_SELECTOR,
  isRetentionEnabled,
  type EventStore,
  type EventStoreStats,
  type RetentionPolicy,
} from '../events/index.js';
import { ChannelRunner, type RunnerStats } from '../exec/runner.js';
import type { NamespaceClient } from '../kube/ports.js';
import type { ServiceAddress } from '../kube/types.js';
import type { Logger } from '../log/logger.js';
import { SessionProvider, type SessionDeps } from '../session/provider.js';
import { warmKey } from '../session/warm.js';
import { DeathLog, type Death } from '../session/deaths.js';
import type { RawJson } from '../events/event-json.js';
import { WarmPool, type WarmPoolStatus } from '../session/warm-pool.js';
import { systemClock } from '../util/clock.js';
import { KeyedMutex } from '../util/keyed-mutex.js';

/** Beads ops by where they were answered: Dolt directly, gc-bd-serve or bd in the runner, and direct reads that fell back. */
export interface BeadsPaths {
  dolt: number;
  'bd-serve': number;
  bd: number;
  fallback: number;
}

/** What the daemon's metrics read of a runtime at scrape time. */
export interface RuntimeStats {
  readonly context: string;
  readonly namespace: string;
  readonly exec: RunnerStats;
  /** undefined until the namespace's event store is first used */
  readonly events: EventStoreStats | undefined;
  readonly beads: Readonly<BeadsPaths>;
  /** undefined until a beads op first needs Dolt */
  readonly dolt: { readonly pools: number; readonly down: number } | undefined;
}

const PRUNE_INTERVAL_MS = 10 * 60_000;
/** warm pools kept refilling at once (settings churn must not grow them without bound) */
const MAX_POOLS = 16;

export interface RuntimeDeps {
  readonly context: string;
  readonly client: NamespaceClient;
  readonly log: Logger;
  /** another namespace's Service of the same cluster (a store's Dolt may live elsewhere) */
  serviceAddress(namespace: string, name: string, signal: AbortSignal): Promise<ServiceAddress | undefined>;
}

export class NamespaceRuntime {
  readonly namespace: string;
  readonly runner: ChannelRunner;
  /** serializes ops on one session across every request and city of the namespace */
  readonly locks = new KeyedMutex();
  private store: EventStore | undefined;
  private retention: RetentionPolicy = { maxAgeMs: 0, maxCount: 0 };
  private pruneTimer: NodeJS.Timeout | undefined;
  private beadsParts: { service: BeadsService; dolt: DoltAccess; paths: BeadsPaths } | undefined;
  private readonly beadsPaths: BeadsPaths = { dolt: 0, 'bd-serve': 0, bd: 0, fallback: 0 };
  /** the Dolt Secret of the latest request's city (read when a password is needed, not frozen) */
  private doltSecret = '';
  private readonly providers = new Map<string, SessionProvider>();
  /** warm pools by key (their pods' shape): stopped refilling, their pods stay for the next daemon */
  private readonly pools = new Map<string, WarmPool>();

  /** why sessions went away (OOMKilled, preempted…), from the pods' watch */
  readonly deaths: DeathLog;
  /** deaths seen before the event store was first used, recorded once it is (bounded) */
  private unrecorded: Death[] = [];

  constructor(private readonly deps: RuntimeDeps) {
    this.namespace = deps.client.namespace;
    this.runner = new ChannelRunner(deps.client.exec, deps.client.agentPods, deps.log, undefined, () => systemClock.now());
    this.deaths = new DeathLog(deps.client.agentPods);
    this.deaths.onDeath((death) => {
      this.deps.log.info({ namespace: this.namespace, session: death.session, pod: death.pod, reason: death.reason }, death.message);
      if (this.store === undefined) {
        if (this.unrecorded.length < 100) this.unrecorded.push(death);
      } else this.recordDeath(this.store, death);
    });
  }

  /** session.died (or session.ended for a one_shot task), once per pod: its uid is the record id. */
  private recordDeath(store: EventStore, death: Death): void {
    const type = death.ended ? 'session.ended' : 'session.died';
    const payload = JSON.stringify({
      pod: death.pod,
      reason: death.reason,
      ...(death.exitCode === undefined ? {} : { exitCode: death.exitCode }),
    });
    store
      .record(
        { type, actor: 'gc-k8s', subject: death.session, message: death.message, payload: payload as RawJson },
        AbortSignal.timeout(30_000),
        { recordId: `${type}/${death.uid}` },
      )
      .catch((err: unknown) => {
        this.deps.log.warn({ err, session: death.session }, `could not record ${type}`);
      });
  }

  get context(): string {
    return this.deps.context;
  }

  get client(): NamespaceClient {
    return this.deps.client;
  }

  /**
   * The session provider for this city's settings (one per distinct settings, kept). It outlives
   * the request that made it, so it logs as the namespace's session component, not as that
   * request (whose op and arguments would be wrong for every later call).
   */
  session(config: Config): SessionProvider {
    const key = `${config.cityDir}\u0000${config.fingerprint}\u0000${JSON.stringify(config.session)}`;
    let provider = this.providers.get(key);
    if (provider === undefined) {
      if (this.providers.size > 64) this.providers.clear(); // settings churn: never grow without bound
      const deps = {
        client: this.deps.client,
        settings: config.pod,
        options: config.session,
        clock: systemClock,
        log: this.deps.log.child({
          component: 'session',
          namespace: this.namespace,
          ...(config.cityDir === '' ? {} : { city: config.cityDir }),
        }),
        locks: this.locks,
        runner: this.runner,
        origin: { cityDir: config.cityDir, fingerprint: config.fingerprint },
        deaths: this.deaths,
      };
      // a city whose sessions all run as Jobs could never claim a warm pod: it keeps none
      const warm = config.pod.warmPool > 0 && config.pod.workload !== 'job' ? this.warmPool(deps) : undefined;
      provider = new SessionProvider(warm === undefined ? deps : { ...deps, warm });
      this.providers.set(key, provider);
    }
    return provider;
  }

  /** The namespace's event store; retention follows the latest request's city settings. */
  events(config: Config): EventStore {
    this.retention = { maxAgeMs: config.eventsMaxAgeMs, maxCount: config.eventsMaxCount };
    if (this.store === undefined) {
      const log = this.deps.log.child({ component: 'events', namespace: this.namespace });
      const store = createEventStore({
        configMaps: this.deps.client.configMaps,
        cache: this.deps.client.configMapCache(EVENT_CACHE_SELECTOR),
        clock: systemClock,
        log,
        namespace: this.namespace,
      });
      this.store = store;
      for (const death of this.unrecorded.splice(0)) this.recordDeath(store, death);
      this.pruneTimer = setInterval(() => {
        if (!isRetentionEnabled(this.retention)) return;
        store.prune(this.retention, AbortSignal.timeout(PRUNE_INTERVAL_MS / 2)).then(
          (r) => {
            if (r.deleted > 0 || r.failed > 0) log.info({ ...r }, 'pruned events');
          },
          (err: unknown) => {
            log.warn({ err }, 'pruning events failed');
          },
        );
      }, PRUNE_INTERVAL_MS);
      this.pruneTimer.unref();
    }
    return this.store;
  }

  /** The beads service and the daemon's own route to the stores' Dolt. */
  beads(config: Config): { service: BeadsService; dolt: DoltAccess; paths: BeadsPaths } {
    this.doltSecret = config.pod.doltSecret;
    if (this.beadsParts === undefined) {
      const log = this.deps.log.child({ component: 'beads', namespace: this.namespace });
      const client = this.deps.client;
      const dolt = new DoltAccess({
        namespace: this.namespace,
        serviceAddress: (ns, name, signal) => this.deps.serviceAddress(ns, name, signal),
        password: async (signal) => (await client.secrets.value(this.doltSecret, 'password', { signal })) ?? '',
        log,
        now: () => systemClock.now(),
      });
      this.beadsParts = { service: new BeadsService(client, systemClock, log), dolt, paths: this.beadsPaths };
    }
    return this.beadsParts;
  }

  stats(): RuntimeStats {
    return {
      context: this.context,
      namespace: this.namespace,
      exec: this.runner.stats(),
      events: this.store?.stats(),
      beads: { ...this.beadsPaths },
      dolt: this.beadsParts?.dolt.stats(),
    };
  }

  /** Stops what uses the client (events, beads, channels); the client is its cluster's to close. */
  async close(): Promise<void> {
    clearInterval(this.pruneTimer);
    this.deaths.close();
    this.store?.close();
    if (this.beadsParts !== undefined) {
      this.beadsParts.service.close();
      await this.beadsParts.dolt.close();
    }
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
    this.providers.clear();
    this.runner.close();
  }

  /** The warm pools of this namespace's cities (daemon status, `gc-k8s sessions`). */
  warmPools(): WarmPoolStatus[] {
    return [...this.pools.values()].map((p) => p.status());
  }

  /** One pool per warm pod shape (its key), shared by every provider whose pods have that shape. */
  private warmPool(deps: SessionDeps): WarmPool {
    const key = warmKey(deps.settings, deps.origin?.cityDir ?? '');
    let pool = this.pools.get(key);
    if (pool === undefined || pool.size !== deps.settings.warmPool) {
      pool?.close();
      if (this.pools.size >= MAX_POOLS) {
        const [oldest] = this.pools.keys();
        if (oldest !== undefined) {
          this.pools.get(oldest)?.close();
          this.pools.delete(oldest);
        }
      }
      pool = new WarmPool(
        { ...deps, log: this.deps.log.child({ component: 'warm-pool', namespace: this.namespace }) },
        deps.settings.warmPool,
        (k) => this.pools.has(k),
      );
      this.pools.set(key, pool);
    }
    return pool;
  }
}
