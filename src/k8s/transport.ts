// The per-cluster connection state: ONE keep-alive undici Pool for REST and watches, and ONE
// https.Agent for WebSocket upgrades (an upgraded socket cannot be pooled, but a shared Agent
// keeps its TLS session cache, so every exec after the first resumes instead of a full
// handshake). Both are rebuilt only when the TLS material (CA, client cert) actually changes.

import http from 'node:http';
import https from 'node:https';
import { Pool } from 'undici';
import { GcK8sError } from '../errors.js';
import type { ClusterConnection } from './kube-config.js';
import type { AuthMaterial, Headers } from './credentials.js';

export interface TransportOptions {
  /** cap on parallel connections in the REST pool (watches hold one each) */
  readonly maxConnections?: number;
  /** how long an idle keep-alive connection is kept when the server gives no hint */
  readonly keepAliveTimeoutMs?: number;
}

export interface TransportSession {
  readonly pool: Pool;
  readonly agent: http.Agent;
  readonly headers: Headers;
}

export class Transport {
  readonly server: URL;
  /** a server URL may carry a path prefix (Rancher, some proxies): every API path goes under it */
  readonly basePath: string;
  private current: { tlsKey: string; pool: Pool; agent: http.Agent } | undefined;
  private readonly retired = new Set<Pool>();
  /** upgraded (exec) sockets: they left the agent, so close() must end them itself */
  private readonly upgraded = new Set<{ terminate(): void }>();
  private closed = false;

  constructor(
    readonly connection: ClusterConnection,
    private readonly options: TransportOptions = {},
  ) {
    this.server = connection.server;
    this.basePath = connection.server.pathname.replace(/\/+$/, '');
  }

  isClosed(): boolean {
    return this.closed;
  }

  get secure(): boolean {
    return this.server.protocol === 'https:';
  }

  /** The pool, agent and headers to use now; `what` names the caller's operation for errors. */
  async session(signal: AbortSignal, what: string): Promise<TransportSession> {
    if (this.closed) throw new GcK8sError('ABORTED', `${what}: the Kubernetes client is closed`);
    const material = await this.connection.credentials.get(signal);
    // close() may have run while credentials were being fetched.
    if (this.isClosed()) throw new GcK8sError('ABORTED', `${what}: the Kubernetes client is closed`);
    if (this.current?.tlsKey !== material.tlsKey) this.rotate(material);
    const current = this.current as NonNullable<typeof this.current>;
    return { pool: current.pool, agent: current.agent, headers: material.headers };
  }

  private rotate(material: AuthMaterial): void {
    const previous = this.current;
    if (previous !== undefined) {
      // In-flight requests (long watches included) finish on the old pool; new ones use the new.
      const old = previous.pool;
      this.retired.add(old);
      void old
        .close()
        .catch(() => undefined)
        .finally(() => this.retired.delete(old));
      previous.agent.destroy();
    }
    const tls = this.secure ? material.tls : undefined;
    const pool = new Pool(this.server.origin, {
      connections: this.options.maxConnections ?? 64,
      keepAliveTimeout: this.options.keepAliveTimeoutMs ?? 60_000,
      keepAliveMaxTimeout: 10 * 60_000,
      // Per-request deadlines come from the caller's signal; watches run their own inactivity timer.
      headersTimeout: 0,
      bodyTimeout: 0,
      ...(tls === undefined ? {} : { connect: { ...tls } }),
    });
    const agent =
      tls === undefined ? new http.Agent({ keepAlive: true }) : new https.Agent({ keepAlive: true, maxCachedSessions: 128, ...tls });
    this.current = { tlsKey: material.tlsKey, pool, agent };
  }

  /** Registers an upgraded socket until `release` is called (on its close). */
  track(socket: { terminate(): void }): () => void {
    this.upgraded.add(socket);
    return () => this.upgraded.delete(socket);
  }

  /** Destroys every pool, agent and exec socket: in-flight calls fail, open sockets close. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const socket of this.upgraded) socket.terminate();
    this.upgraded.clear();
    const pools = [...this.retired, ...(this.current === undefined ? [] : [this.current.pool])];
    this.current?.agent.destroy();
    this.current = undefined;
    await Promise.all(pools.map((pool) => pool.destroy().catch(() => undefined)));
  }
}
