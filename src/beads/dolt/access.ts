// How the daemon reaches a store's Dolt itself, for reads that need no bd process. The store's
// host is usually a Service name (dolt.<ns>.svc.cluster.local) that only cluster DNS resolves, so
// a Service-shaped name is looked up through the API and its ClusterIP is used; anything else is
// dialled as given. When Dolt cannot be reached from where the daemon runs (a remote cluster
// without routes to ClusterIPs), reads go through bd in the runner instead, and the direct route
// is retried after a back-off that doubles up to ten minutes.

import type { ServiceAddress } from '../../kube/types.js';
import { GcK8sError, hasCode, messageOf } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { Backoff } from '../../util/backoff.js';
import { doltPool, type DoltSql } from './mysql.js';
import type { StoreDatabase } from '../service.js';
import { SqlReads, type Sql } from './queries.js';

export interface DoltAccessDeps {
  /** The runner's namespace: short Service names and the password Secret live there. */
  readonly namespace: string;
  serviceAddress(namespace: string, name: string, signal: AbortSignal): Promise<ServiceAddress | undefined>;
  /** The password bd uses (the runner's Secret), '' when there is none. */
  password(signal: AbortSignal): Promise<string>;
  readonly log: Logger;
  now(): number;
  /** default: mysql2 pools */
  pool?: typeof doltPool;
}

const QUERY_TIMEOUT_MS = 5_000;
const BACKOFF_MIN_MS = 30_000;
const BACKOFF_MAX_MS = 600_000;

const LABEL = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?';
const SERVICE_NAME = new RegExp(`^(${LABEL})(?:\\.(${LABEL}))?(?:\\.svc(?:\\..+)?)?$`);

/** A Service the host names (`svc`, `svc.ns`, `svc.ns.svc[.<cluster domain>]`), if it is shaped like one. */
export function serviceOf(host: string, namespace: string): { namespace: string; name: string } | undefined {
  const h = host.trim().toLowerCase().replace(/\.$/, '');
  if (/^[\d.]+$/.test(h) || h.includes(':')) return undefined; // an IP literal
  const m = SERVICE_NAME.exec(h);
  if (m === null) return undefined;
  return { name: m[1] ?? '', namespace: m[2] ?? namespace };
}

interface Route {
  readonly sql: DoltSql;
  readonly where: string;
}

export class DoltAccess {
  private readonly routes = new Map<string, Promise<Route>>();
  private readonly down = new Map<string, { until: number; backoff: Backoff }>();
  private readonly pool: typeof doltPool;

  constructor(private readonly deps: DoltAccessDeps) {
    this.pool = deps.pool ?? doltPool;
  }

  /** Reads for the store straight from Dolt, or undefined when the daemon cannot reach it now. */
  async reads(store: StoreDatabase | undefined, signal: AbortSignal): Promise<SqlReads | undefined> {
    if (store === undefined) return undefined;
    const { host, port, user } = store.record;
    const key = `${host}\0${port}\0${user}`;
    const d = this.down.get(key);
    if (d !== undefined && this.deps.now() < d.until) return undefined;
    let route: Route;
    try {
      route = await this.route(key, host, Number(port), user, signal);
    } catch (err) {
      this.routes.delete(key);
      this.markDown(key, `${host}:${port}`, err);
      return undefined;
    }
    const sql: Sql = async (query, params = []) => {
      try {
        // A pooled connection may have died with a Dolt restart: one retry gets a fresh one.
        const rows = await route.sql.query(query, params, QUERY_TIMEOUT_MS).catch((err: unknown) => {
          if (!hasCode(err, 'DOLT_UNREACHABLE') || signal.aborted) throw err;
          return route.sql.query(query, params, QUERY_TIMEOUT_MS);
        });
        if (this.down.delete(key)) this.deps.log.info({ dolt: route.where }, 'dolt reachable from the daemon again; reads go direct');
        return rows;
      } catch (err) {
        if (hasCode(err, 'DOLT_UNREACHABLE')) this.markDown(key, route.where, err);
        // Refused credentials may mean a rotated Secret: the next route reads it again.
        if (hasCode(err, 'DOLT_UNREACHABLE') || /access denied/i.test(messageOf(err))) this.drop(key, route);
        throw err;
      }
    };
    return new SqlReads(sql, store.database);
  }

  /** Dolt servers with a connection pool, and how many of them reads now skip (unreachable, backing off). */
  stats(): { readonly pools: number; readonly down: number } {
    const now = this.deps.now();
    let down = 0;
    for (const d of this.down.values()) if (now < d.until) down++;
    return { pools: this.routes.size, down };
  }

  /** The password bd uses (the runner's Secret), for health checks from the daemon. */
  password(signal: AbortSignal): Promise<string> {
    return this.deps.password(signal);
  }

  async close(): Promise<void> {
    const routes = [...this.routes.values()];
    this.routes.clear();
    await Promise.all(
      routes.map((r) =>
        r.then(
          (x) => x.sql.close(),
          () => undefined,
        ),
      ),
    );
  }

  private route(key: string, host: string, port: number, user: string, signal: AbortSignal): Promise<Route> {
    let r = this.routes.get(key);
    if (r === undefined) {
      r = this.open(host, port, user, signal);
      this.routes.set(key, r);
    }
    return r;
  }

  /** The address the daemon dials for `host`: a Service's ClusterIP, or the host as given. */
  async address(host: string, signal: AbortSignal): Promise<string> {
    const svc = serviceOf(host, this.deps.namespace);
    if (svc === undefined) return host;
    const found = await this.deps.serviceAddress(svc.namespace, svc.name, signal);
    if (found === undefined) return host;
    if (found.clusterIP === '' || found.clusterIP === 'None')
      throw new GcK8sError('DOLT_UNREACHABLE', `service ${svc.namespace}/${svc.name} has no ClusterIP (headless)`);
    return found.clusterIP;
  }

  private async open(host: string, port: number, user: string, signal: AbortSignal): Promise<Route> {
    const address = await this.address(host, signal);
    const password = await this.deps.password(signal);
    const where = address === host ? `${host}:${port}` : `${host}:${port} (${address})`;
    return { sql: this.pool({ host: address, port, user, password }), where };
  }

  private drop(key: string, route: Route): void {
    void this.routes.get(key)?.then(
      (r) => {
        if (r !== route) return;
        this.routes.delete(key);
        void r.sql.close();
      },
      () => undefined,
    );
  }

  private markDown(key: string, where: string, err: unknown): void {
    const backoff = this.down.get(key)?.backoff ?? new Backoff({ initialMs: BACKOFF_MIN_MS, maxMs: BACKOFF_MAX_MS, jitter: false });
    const retryInMs = backoff.next();
    this.down.set(key, { until: this.deps.now() + retryInMs, backoff });
    this.deps.log.info({ dolt: where, err, retryInMs }, 'dolt not reachable from the daemon; reads go through bd in the runner');
  }
}
