// `gc-k8s serve`'s object graph, built in one place: the runtimes (cluster clients and per-namespace
// state), the city resolution, the op handlers of the four providers, the router, the socket and
// the sweeper. Shutdown runs top-down: stop accepting, cancel in-flight work, close what uses the
// clients, then the clients, then flush the log.

import type { Server } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { ConfigCache } from '../config/cache.js';
import type { Logger } from '../log/logger.js';
import { serveMetrics, type ListenAddress } from '../metrics/http.js';
import { DaemonMetrics } from '../metrics/metrics.js';
import { ABANDONED_START_AGE_MS } from '../session/sweep.js';
import { CityRegistry, cityRegistryPath } from './cities.js';
import { adminHandlers } from './handlers/admin.js';
import { BEADS_HANDLERS } from './handlers/beads.js';
import { EVENTS_HANDLERS } from './handlers/events.js';
import { SESSION_HANDLERS } from './handlers/session.js';
import { resolveCity, sessionCitiesIn } from './resolve-city.js';
import { metricSources } from './metric-sources.js';
import { timedRequests } from './op-metrics.js';
import { readinessOf } from './readiness.js';
import { createRouter } from './router.js';
import { Runtimes, type ClusterClientFactory, type ConfigWatch } from './runtimes.js';
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
}

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
  const readiness = readinessOf(() => socket.server, runtimes);
  const router = createRouter({
    log,
    runtimes,
    resolve: (request, signal) => resolveCity(request, { configs, registry, sessionCities }, signal),
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
  const handler = metrics === undefined ? router : timedRequests(router, metrics);
  let server: Server;
  try {
    server = await listen(options.socket, handler, log, lifetime.signal, { privateDir: options.privateSocketDir === true });
  } catch (err) {
    metricsServer?.close();
    throw err;
  }
  socket.server = server;
  const maxAgeMs = options.abandonedStartAgeMs ?? ABANDONED_START_AGE_MS;
  const sweeper = maxAgeMs > 0 ? startSweeper({ runtimes, registry, log, maxAgeMs, lifetime: lifetime.signal }) : undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let shuttingDown = false;

  const shutdown = (reason: string): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ reason }, 'daemon shutting down');
    server.close();
    metricsServer?.close();
    clearInterval(sweeper);
    lifetime.abort(new Error(`daemon shutting down: ${reason}`));
    void runtimes.close().finally(() => {
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
