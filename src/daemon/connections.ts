// One Kubernetes client per kubeconfig context, created on first use and kept warm; namespace
// clients (with their watch caches) come from it. When the kubeconfig's content changes (a local
// cluster was torn down and built again: new CA, new endpoint), every client is dropped and the
// next request connects afresh, instead of failing TLS against a cluster that is gone.

import type { NamespaceClient } from '../kube/ports.js';
import type { Logger } from '../log/logger.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { ChannelRunner, DirectRunner, type CommandRunner } from '../exec/runner.js';
import type { Connections } from './context.js';

/** The slice of the k8s adapter the daemon needs (src/k8s implements it; tests fake it). */
export interface ClusterClient {
  forNamespace(namespace: string): NamespaceClient;
  /** request counters, for `gc-k8s stats` and benchmarks */
  stats?(): unknown;
  close(): Promise<void>;
}

export type ClusterClientFactory = (context: string, signal: AbortSignal) => Promise<ClusterClient>;

/** Tells when the cluster configuration changed: a cheap stat per call, a read when it moved. */
export interface ConfigWatch {
  /** an identity of the configuration's current content */
  current(): string;
}

export class DaemonConnections implements Connections {
  private readonly clients = new Map<string, Promise<ClusterClient>>();
  private readonly lockTables = new Map<string, KeyedMutex>();
  private readonly runners = new Map<string, CommandRunner>();
  private configIdentity: string | undefined;
  /** every (context, namespace) a request used, for housekeeping that walks them */
  private readonly used = new Map<string, { context: string; namespace: string }>();
  private clientGeneration = 0;

  constructor(
    private readonly factory: ClusterClientFactory,
    private readonly log: Logger,
    /** persistent exec channels (default); off = one exec per command, as upstream */
    private readonly useChannels = true,
    private readonly configWatch?: ConfigWatch,
  ) {}

  /** Drops every client when the kubeconfig now describes another cluster (or other credentials). */
  private checkConfig(): void {
    if (this.configWatch === undefined) return;
    const identity = this.configWatch.current();
    if (this.configIdentity === undefined) {
      this.configIdentity = identity;
      return;
    }
    if (identity === this.configIdentity) return;
    this.configIdentity = identity;
    if (this.clients.size === 0) return;
    this.log.warn('the kubeconfig changed (a new cluster, endpoint or credentials): reconnecting');
    this.clientGeneration++;
    const old = [...this.clients.values()];
    for (const r of this.runners.values()) r.close();
    this.runners.clear();
    this.clients.clear();
    for (const c of old) {
      c.then((client) => client.close()).catch((err: unknown) => {
        this.log.debug({ err }, 'closing a client of the replaced kubeconfig');
      });
    }
  }

  private client(context: string, signal: AbortSignal): Promise<ClusterClient> {
    this.checkConfig();
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

  generation(): number {
    this.checkConfig();
    return this.clientGeneration;
  }

  async namespace(context: string, namespace: string, signal: AbortSignal): Promise<NamespaceClient> {
    const client = (await this.client(context, signal)).forNamespace(namespace);
    this.used.set(`${context}\u0000${namespace}`, { context, namespace });
    return client;
  }

  /** The namespaces requests have used so far. */
  namespacesInUse(): { context: string; namespace: string }[] {
    return [...this.used.values()];
  }

  async runner(context: string, namespace: string, signal: AbortSignal): Promise<CommandRunner> {
    const key = `${context}\u0000${namespace}`;
    let runner = this.runners.get(key);
    if (runner === undefined) {
      const client = await this.namespace(context, namespace, signal);
      runner = this.useChannels ? new ChannelRunner(client.exec, client.agentPods, this.log) : new DirectRunner(client.exec);
      this.runners.set(key, runner);
    }
    return runner;
  }

  locks(context: string, namespace: string): KeyedMutex {
    const key = `${context}\u0000${namespace}`;
    let locks = this.lockTables.get(key);
    if (locks === undefined) {
      locks = new KeyedMutex();
      this.lockTables.set(key, locks);
    }
    return locks;
  }

  /** Request counters of every connected context (contexts still connecting are left out). */
  async stats(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [context, client] of this.clients) {
      const c = await client.catch(() => undefined);
      if (c?.stats !== undefined) out[context === '' ? '(current)' : context] = c.stats();
    }
    return out;
  }

  async close(): Promise<void> {
    for (const r of this.runners.values()) r.close();
    this.runners.clear();
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(all.map(async (c) => (await c).close()));
  }
}
