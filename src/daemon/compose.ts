// `gc-k8s serve`'s object graph, built in one place: the runtimes (cluster clients and per-namespace
// state), the city resolution, the op handlers of the four providers, the router, the socket and
// the sweeper, and leader election when GC_K8S_LEADER_LEASE names a Lease. Shutdown runs
// top-down: stop accepting, let in-flight ops finish (up to the drain timeout), cancel the rest
// and let them roll back, release the Lease, close what uses the clients, then the clients, then
// flush the log.

import { hostname } from 'node:os';
import type { Server } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { ConfigCache } from '../config/cache.js';
import type { Logger } from '../log/logger.js';
import { serveMetrics, type ListenAddress } from '../metrics/http.js';
import { DaemonMetrics } from '../metrics/metrics.js';
import { ABANDONED_START_AGE_MS } from '../session/sweep.js';
import type { LeaseApi } from '../kube/ports.js';
import { CityRegistry, cityRegistryPath } from './cities.js';
import { InFlight } from './drain.js';
import { holderText, LeaderElector } from './leader.js';
import { adminHandlers } from './handlers/admin.js';
import { BEADS_HANDLERS } from './handlers/beads.js';
import { EVENTS_HANDLERS } from './handlers/events.js';
import { SESSION_HANDLERS } from './handlers/session.js';
import { resolveCity, sessionCitiesIn } from './resolve-city.js';
import { metricSources } from './metric-sources.js';
import { timedRequests } from './op-metrics.js';
import { readinessOf } from './readiness.js';
import { createRouter } from './router.js';
import { Runtimes, type ClusterClient, type ClusterClientFactory, type ConfigWatch } from './runtimes.js';
import { listen } from './server.js';
import { startSweeper } from './sweeper.js';

export interface DaemonOptions {
  readonly socket: string;
  readonly log: Logger;
  readonly version: string;
  readonly clusterClient: ClusterClientFactory;
  /** where the known cities are kept (default: beside the socket; '' = memory only) */
  readonly citiesFile?: string;
  /** notices a replaced kubeconfig (a new cluster) so clients reconnect */
  readonly configWatch?: ConfigWatch;
  /** the socket is in our own state directory: make it 0700 whoever created it */
  readonly privateSocketDir?: boolean;
  /** pods of starts nobody finished are removed once this old (default 5 min; 0 = no sweep) */
  readonly abandonedStartAgeMs?: number;
  /** serve /metrics, /healthz and /readyz here (GC_K8S_METRICS_ADDR); undefined: no listener */
  readonly metricsAddr?: ListenAddress;
  /** label per-session series with the session's name (GC_K8S_METRICS_SESSION_LABELS): small cities only */
  readonly metricsSessionLabels?: boolean;
  /** leader election on this Lease (GC_K8S_LEADER_LEASE); undefined: this daemon always acts */
  readonly leader?: { readonly lease: string; readonly namespace: string };
  /** on shutdown, in-flight ops get this long before they are cancelled (default 20 s) */
  readonly drainTimeoutMs?: number;
}

/** after the drain timeout, cancelled ops get this long to roll back before the clients close */
const ROLLBACK_MS = 10_000;

export interface RunningDaemon {
  readonly server: Server;
  /** resolves when the daemon has fully stopped */
  readonly closed: Promise<void>;
  shutdown(reason: string): void;
}

export async function runDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { log } = options;
  const lifetime = new AbortController();
  const runtimes = new Runtimes(options.clusterClient, log, options.configWatch);
  const configs = new ConfigCache();
  const registry = new CityRegistry(options.citiesFile ?? cityRegistryPath(options.socket), log);
  const sessionCities = sessionCitiesIn(async (context, namespace, signal) => {
    const pods = (await runtimes.get(context, namespace, signal)).client.agentPods;
    await pods.fresh({ signal });
    return pods.list();
  });
  const socket: { server?: Server } = {};
  let draining = false;
  const election = options.leader === undefined ? undefined : leaderElector(options, options.leader, lifetime.signal);
  const elector = election?.elector;
  const readiness = readinessOf(
    () => socket.server,
    runtimes,
    () => [
      ...(draining ? ['draining: the daemon is shutting down'] : []),
      ...(elector === undefined || elector.leading
        ? []
        : [`leader: not the leader of lease ${options.leader?.lease ?? ''} (held by ${holderText(elector.status())})`]),
    ],
  );
  const router = createRouter({
    log,
    runtimes,
    resolve: (request, signal) => resolveCity(request, { configs, registry, sessionCities }, signal),
    ...(elector === undefined ? {} : { leader: elector }),
    handlers: {
      session: SESSION_HANDLERS,
      events: EVENTS_HANDLERS,
      beads: BEADS_HANDLERS,
      admin: adminHandlers({
        startedAt: Date.now(),
        version: options.version,
        pid: process.pid,
        runtimes,
        readiness,
        shutdown: () => {
          shutdown('shutdown request');
        },
      }),
    },
  });
  const metrics =
    options.metricsAddr === undefined
      ? undefined
      : new DaemonMetrics(metricSources(runtimes, readiness), { sessionLabels: options.metricsSessionLabels === true });
  // first, so that an address in use stops the daemon before it takes the socket
  const metricsServer: HttpServer | undefined =
    metrics === undefined || options.metricsAddr === undefined ? undefined : await serveMetrics(options.metricsAddr, metrics, readiness);
  const inFlight = new InFlight();
  const handler = inFlight.track(metrics === undefined ? router : timedRequests(router, metrics));
  let server: Server;
  try {
    server = await listen(options.socket, handler, log, lifetime.signal, { privateDir: options.privateSocketDir === true });
  } catch (err) {
    metricsServer?.close();
    throw err;
  }
  socket.server = server;
  const maxAgeMs = options.abandonedStartAgeMs ?? ABANDONED_START_AGE_MS;
  const acting = (): boolean => !draining && (elector === undefined || elector.leading);
  // an in-cluster daemon (leader election on) sweeps its own namespace from the start: a restarted
  // pod has lost the cities file beside its socket, not the cluster's pods
  const always =
    options.leader === undefined || options.leader.namespace === '' ? [] : [{ context: '', namespace: options.leader.namespace }];
  const sweeper = maxAgeMs > 0 ? startSweeper({ runtimes, registry, log, maxAgeMs, lifetime: lifetime.signal, acting, always }) : undefined;
  if (elector !== undefined) {
    // a daemon that stops leading drops what acts on its own (warm pools, pruning) once its
    // cancelled ops have rolled back; a new term starts from the cluster (watch caches)
    elector.onChange((leading) => {
      if (leading || draining) return;
      void inFlight.idle(ROLLBACK_MS).then(() => runtimes.close());
    });
    elector.start();
  }
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let shuttingDown = false;

  const shutdown = (reason: string): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    draining = true;
    const drainMs = options.drainTimeoutMs ?? 20_000;
    log.info({ reason, inFlight: inFlight.size, drainMs }, 'daemon shutting down: no new ops, draining those in flight');
    server.close();
    clearInterval(sweeper);
    inFlight.drain();
    void (async () => {
      const drained = await inFlight.idle(drainMs);
      if (!drained) log.warn({ inFlight: inFlight.size }, 'drain timeout: cancelling the ops still in flight');
      lifetime.abort(new Error(`daemon shutting down: ${reason}`));
      // cancelled starts remove what they made, through clients still open
      if (!drained && !(await inFlight.idle(ROLLBACK_MS))) log.warn({ inFlight: inFlight.size }, 'ops still running after cancel');
      await elector?.release();
      await election?.close();
      metricsServer?.close();
      await runtimes.close();
    })().finally(() => {
      log.info('daemon stopped');
      log.flush();
      resolveClosed();
    });
  };

  log.info(
    {
      socket: options.socket,
      version: options.version,
      ...(options.metricsAddr === undefined ? {} : { metrics: `${options.metricsAddr.host}:${options.metricsAddr.port}` }),
    },
    'daemon listening',
  );
  return { server, closed, shutdown };
}

/**
 * The elector on a Lease reached through a client of its own (made on first use, retried when it
 * fails), and how to close that client once the Lease is released.
 */
function leaderElector(
  options: DaemonOptions,
  leader: { lease: string; namespace: string },
  lifetime: AbortSignal,
): { elector: LeaderElector; close: () => Promise<void> } {
  let client: Promise<ClusterClient> | undefined;
  const leases = async (): Promise<LeaseApi> => {
    client ??= options.clusterClient('', lifetime);
    client.catch(() => (client = undefined));
    const c = await client;
    return c.forNamespace(leader.namespace || (c.defaultNamespace ?? 'default')).leases;
  };
  const close = async (): Promise<void> => {
    const c = await client?.catch(() => undefined);
    await c?.close();
  };
  const elector = new LeaderElector({
    api: {
      get: async (name, o) => (await leases()).get(name, o),
      create: async (record, o) => (await leases()).create(record, o),
      update: async (record, rv, o) => (await leases()).update(record, rv, o),
    },
    name: leader.lease,
    identity: `${hostname()}_${process.pid}`,
    log: options.log.child({ component: 'leader' }),
  });
  return { elector, close };
}
