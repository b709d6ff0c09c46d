// The daemon's object graph below the router: one cluster client per kubeconfig context (created
// on first use, kept warm) and one NamespaceRuntime per (context, namespace). When the
// kubeconfig's content changes (a local cluster rebuilt: new CA, new endpoint) every runtime and
// client is dropped and the next request connects afresh, instead of failing TLS against a
// cluster that is gone. Shutdown is top-down: runtimes (which use the clients) before clients.

import type { RequestStats } from '../k8s/stats.js';
import type { NamespaceClient } from '../kube/ports.js';
import type { Logger } from '../log/logger.js';
import { NamespaceRuntime } from './runtime.js';

/** The slice of the k8s adapter the daemon needs (src/k8s implements it; tests fake it). */
export interface ClusterClient {
  forNamespace(namespace: string): NamespaceClient;
  /** the namespace of the kubeconfig context or service account, if any */
  readonly defaultNamespace?: string | undefined;
  /** request counters, for `gc-k8s stats`, the daemon's metrics and benchmarks */
  stats?(): RequestStats;
  close(): Promise<void>;
}

export type ClusterClientFactory = (context: string, signal: AbortSignal) => Promise<ClusterClient>;

/** Tells when the cluster configuration changed: a cheap stat per call, a read when it moved. */
export interface ConfigWatch {
  /** an identity of the configuration's current content */
  current(): string;
}

const key = (context: string, namespace: string): string => `${context}\u0000${namespace}`;

export class Runtimes {
  private readonly clients = new Map<string, Promise<ClusterClient>>();
  private readonly runtimes = new Map<string, NamespaceRuntime>();
  private configIdentity: string | undefined;

  constructor(
    private readonly factory: ClusterClientFactory,
    private readonly log: Logger,
    private readonly configWatch?: ConfigWatch,
  ) {}

  /** The runtime of a namespace, created on first use. */
  async get(context: string, namespace: string, signal: AbortSignal): Promise<NamespaceRuntime> {
    this.checkConfig();
    const k = key(context, namespace);
    const existing = this.runtimes.get(k);
    if (existing !== undefined) return existing;
    const client = await this.client(context, signal);
    // a concurrent request may have made it meanwhile
    const raced = this.runtimes.get(k);
    if (raced !== undefined) return raced;
    const runtime = new NamespaceRuntime({
      context,
      client: client.forNamespace(namespace),
      log: this.log,
      serviceAddress: async (ns, name, s) => (await this.client(context, s)).forNamespace(ns).services.get(name, { signal: s }),
    });
    this.runtimes.set(k, runtime);
    return runtime;
  }

  /** The runtimes made so far (for housekeeping that walks the namespaces in use). */
  inUse(): NamespaceRuntime[] {
    return [...this.runtimes.values()];
  }

  /** Request counters of every connected context (contexts still connecting are left out). */
  async stats(): Promise<Record<string, RequestStats>> {
    const raw = await this.requestStats();
    return Object.fromEntries(Object.entries(raw).map(([context, st]) => [context === '' ? '(current)' : context, st]));
  }

  /** The same, keyed by context as requests name it ('' = the kubeconfig's current one). */
  async requestStats(): Promise<Record<string, RequestStats>> {
    const out: Record<string, RequestStats> = {};
    for (const [context, client] of this.clients) {
      const c = await client.catch(() => undefined);
      if (c?.stats !== undefined) out[context] = c.stats();
    }
    return out;
  }

  async close(): Promise<void> {
    // both taken now: a request arriving meanwhile gets new ones, which this must not close
    const runtimes = [...this.runtimes.values()];
    const clients = [...this.clients.values()];
    this.runtimes.clear();
    this.clients.clear();
    await Promise.allSettled(runtimes.map((r) => r.close()));
    await Promise.allSettled(clients.map(async (c) => (await c).close()));
  }

  private client(context: string, signal: AbortSignal): Promise<ClusterClient> {
    let client = this.clients.get(context);
    if (client === undefined) {
      client = this.factory(context, signal);
      this.clients.set(context, client);
      // A failed connection is not cached: the next request tries again.
      client.catch((err: unknown) => {
        this.log.warn({ err, context }, 'cannot create kubernetes client');
        this.clients.delete(context);
      });
    }
    return client;
  }

  /** Drops every runtime and client when the kubeconfig now describes another cluster. */
  private checkConfig(): void {
    if (this.configWatch === undefined) return;
    const identity = this.configWatch.current();
    if (this.configIdentity === undefined || identity === this.configIdentity) {
      this.configIdentity = identity;
      return;
    }
    this.configIdentity = identity;
    if (this.clients.size === 0) return;
    this.log.warn('the kubeconfig changed (a new cluster, endpoint or credentials): reconnecting');
    void this.close().catch((err: unknown) => {
      this.log.debug({ err }, 'closing what the replaced kubeconfig connected to');
    });
  }
}
