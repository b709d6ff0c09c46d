// `gc-k8s serve`: wires config, logging, Kubernetes clients and handlers, serves the socket,
// and shuts down cleanly on SIGTERM/SIGINT (stop accepting, cancel in-flight work, close
// watches and connections, flush logs).

import type { Server } from 'node:net';
import type { Logger } from '../log/logger.js';
import { listen } from './server.js';
import { createRouter } from './router.js';
import { DaemonConnections, type ClusterClientFactory, type ConfigWatch } from './connections.js';
import { checkSessionRequest, handleSession } from './session-handler.js';
import { createAdminHandler } from './admin-handler.js';
import type { Handler } from './context.js';
import { ConfigCache } from '../config/cache.js';
import { CityRegistry, cityRegistryPath } from './cities.js';
import { resolveCity, sessionCitiesIn } from './resolve-city.js';
import { startSweeper } from './sweeper.js';
import { ABANDONED_START_AGE_MS } from '../session/sweep.js';

export interface DaemonOptions {
  readonly socket: string;
  readonly log: Logger;
  readonly version: string;
  readonly clusterClient: ClusterClientFactory;
  readonly extraHandlers?: { events?: Handler; beads?: Handler };
  /** where the known cities are kept (default: beside the socket; '' = memory only) */
  readonly citiesFile?: string;
  /** notices a replaced kubeconfig (a new cluster) so clients reconnect */
  readonly configWatch?: ConfigWatch;
  /** the socket is in our own state directory: make it 0700 whoever created it */
  readonly privateSocketDir?: boolean;
  /** pods of starts nobody finished are removed once this old (default 5 min; 0 = no sweep) */
  readonly abandonedStartAgeMs?: number;
}

export interface RunningDaemon {
  readonly server: Server;
  /** resolves when the daemon has fully stopped */
  readonly closed: Promise<void>;
  shutdown(reason: string): void;
}

export async function runDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { log } = options;
  const stop = new AbortController();
  const connections = new DaemonConnections(options.clusterClient, log, true, options.configWatch);
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let shuttingDown = false;

  const shutdown = (reason: string): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ reason }, 'daemon shutting down');
    server.close();
    clearInterval(sweeper);
    stop.abort(new Error(`daemon shutting down: ${reason}`));
    void connections.close().finally(() => {
      log.info('daemon stopped');
      log.flush();
      resolveClosed();
    });
  };

  const configs = new ConfigCache();
  const registry = new CityRegistry(options.citiesFile ?? cityRegistryPath(options.socket), log);
  const sessionCities = sessionCitiesIn(async (context, namespace, signal) => {
    const client = await connections.namespace(context, namespace, signal);
    await client.agentPods.fresh({ signal });
    return client.agentPods.list();
  });
  const router = createRouter({
    log,
    connections,
    checks: { session: checkSessionRequest },
    resolve: (request, signal) => resolveCity(request, { configs, registry, sessionCities }, signal),
    handlers: {
      session: handleSession,
      admin: createAdminHandler({ startedAt: Date.now(), version: options.version, shutdown: () => { shutdown('shutdown request'); } }),
      ...(options.extraHandlers ?? {}),
    },
  });
  const server = await listen(options.socket, router, log, stop.signal, { privateDir: options.privateSocketDir === true });
  const sweeper = startSweeper({ connections, registry, log, maxAgeMs: options.abandonedStartAgeMs ?? ABANDONED_START_AGE_MS, lifetime: stop.signal });
  log.info({ socket: options.socket, version: options.version }, 'daemon listening');
  return { server, closed, shutdown };
}
