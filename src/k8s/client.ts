// The composition of the adapters: one transport (pool + agent) and one rate limiter per
// cluster, namespace clients cached by name, caches created lazily and closed with the client.

import type { Logger } from 'pino';
import type { ConfigMap, Pod } from '../kube/types.js';
import type {
  CallOptions,
  ClaimApi,
  JobApi,
  LeaseApi,
  ConfigMapApi,
  NamespaceClient,
  ObjectApi,
  ObjectCache,
  PodApi,
  PodExec,
  SecretApi,
  ServiceApi,
} from '../kube/ports.js';
import { withTimeout } from '../util/abort.js';
import { RestClaimApi } from './claim-api.js';
import { RestJobApi } from './job-api.js';
import { RestLeaseApi } from './lease-api.js';
import { RestConfigMapApi } from './configmap-api.js';
import { toConfigMap, toPod } from './convert.js';
import { WebSocketExec, type ExecOptions } from './exec.js';
import { resolveConnection, type ConnectionOptions } from './kube-config.js';
import { canI, ensureNamespace, namespaceExists, namespaceLabels, serverVersion, type ServerVersion } from './namespaces.js';
import { RestObjectApi } from './objects.js';
import { RestPodApi } from './pod-api.js';
import { Reflector, type ReflectorTimings } from './reflector.js';
import { RestClient } from './rest.js';
import { Semaphore } from '../util/semaphore.js';
import { RestSecretApi, RestServiceApi } from './service-secret-api.js';
import type { RequestStats } from './stats.js';
import { Transport } from './transport.js';

export const AGENT_POD_SELECTOR = 'app=gc-agent';

export interface KubeClientOptions extends Omit<ConnectionOptions, 'onWarning'> {
  readonly log: Logger;
  /** client-side rate limit (default DEFAULT_RATE; qps <= 0 disables) */
  readonly qps?: number;
  readonly burst?: number;
  /** REST pool size (default 64) */
  readonly maxConnections?: number;
  readonly exec?: ExecOptions;
  readonly reflector?: ReflectorTimings;
  /** bounds loading the config and obtaining the first credentials (default 30 s) */
  readonly signal?: AbortSignal;
}

export interface KubeClient {
  /** the API server URL */
  readonly server: string;
  /** which context / service account is in use, for logs and errors */
  readonly description: string;
  /** the namespace of the kubeconfig context or service account, if any */
  readonly defaultNamespace: string | undefined;
  /** cached per namespace until that client (or this one) is closed */
  forNamespace(namespace: string): NamespaceClient;
  /** objects of the kinds `gc-k8s install` applies, in any namespace */
  readonly objects: ObjectApi;
  serverVersion(signal: AbortSignal): Promise<ServerVersion>;
  namespaceExists(name: string, options: CallOptions): Promise<boolean>;
  /** the namespace's labels, undefined when it does not exist */
  namespaceLabels(name: string, options: CallOptions): Promise<Record<string, string> | undefined>;
  /** a SelfSubjectAccessReview: may the client's identity do this? */
  canI(namespace: string, verb: string, resource: string, subresource: string, options: CallOptions): Promise<boolean>;
  /** true when this call created the namespace */
  ensureNamespace(name: string, options: CallOptions & { labels?: Record<string, string> }): Promise<boolean>;
  /** request counters since creation (snapshot; diff two for "requests per op") */
  stats(): RequestStats;
  /** closes caches, then every pooled connection and agent */
  close(): Promise<void>;
}

export async function createKubeClient(options: KubeClientOptions): Promise<KubeClient> {
  const log = options.log;
  const connection = await resolveConnection(
    {
      ...options,
      onWarning: (message, err) => {
        log.warn({ err }, message);
      },
    },
    withTimeout(options.signal, 30_000),
  );
  const transport = new Transport(connection, options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections });
  const rest = new RestClient(transport, {
    ...(options.qps === undefined ? {} : { qps: options.qps }),
    ...(options.burst === undefined ? {} : { burst: options.burst }),
  });
  log.info({ server: connection.server.origin, source: connection.description }, 'kubernetes client ready');
  return new DefaultKubeClient(rest, transport, options);
}

class DefaultKubeClient implements KubeClient {
  private readonly namespaces = new Map<string, KubeNamespaceClient>();
  private readonly execSlots: Semaphore;
  readonly objects: ObjectApi;

  constructor(
    private readonly rest: RestClient,
    private readonly transport: Transport,
    private readonly options: KubeClientOptions,
  ) {
    this.execSlots = new Semaphore(options.exec?.maxConcurrent ?? 32);
    this.objects = new RestObjectApi(rest);
  }

  get server(): string {
    return this.transport.server.href;
  }

  get description(): string {
    return this.transport.connection.description;
  }

  get defaultNamespace(): string | undefined {
    return this.transport.connection.namespace;
  }

  forNamespace(namespace: string): NamespaceClient {
    let client = this.namespaces.get(namespace);
    if (client === undefined) {
      client = new KubeNamespaceClient(namespace, this.rest, this.execSlots, this.options, () => {
        this.namespaces.delete(namespace);
      });
      this.namespaces.set(namespace, client);
    }
    return client;
  }

  serverVersion(signal: AbortSignal): Promise<ServerVersion> {
    return serverVersion(this.rest, signal);
  }

  namespaceExists(name: string, options: CallOptions): Promise<boolean> {
    return namespaceExists(this.rest, name, options);
  }

  ensureNamespace(name: string, options: CallOptions & { labels?: Record<string, string> }): Promise<boolean> {
    return ensureNamespace(this.rest, name, options);
  }

  namespaceLabels(name: string, options: CallOptions): Promise<Record<string, string> | undefined> {
    return namespaceLabels(this.rest, name, options);
  }

  canI(namespace: string, verb: string, resource: string, subresource: string, options: CallOptions): Promise<boolean> {
    return canI(this.rest, namespace, verb, resource, subresource, options);
  }

  stats(): RequestStats {
    return this.rest.stats();
  }

  async close(): Promise<void> {
    for (const client of [...this.namespaces.values()]) client.close();
    await this.transport.close();
  }
}

class KubeNamespaceClient implements NamespaceClient {
  readonly pods: PodApi;
  readonly configMaps: ConfigMapApi;
  readonly services: ServiceApi;
  readonly secrets: SecretApi;
  readonly claims: ClaimApi;
  readonly jobs: JobApi;
  readonly leases: LeaseApi;
  readonly exec: PodExec;
  private podCache: Reflector<Pod> | undefined;
  private readonly configMapCaches = new Map<string, Reflector<ConfigMap>>();

  constructor(
    readonly namespace: string,
    private readonly rest: RestClient,
    execSlots: Semaphore,
    private readonly options: KubeClientOptions,
    private readonly onClose: () => void,
  ) {
    this.pods = new RestPodApi(rest, namespace);
    this.configMaps = new RestConfigMapApi(rest, namespace);
    this.services = new RestServiceApi(rest, namespace);
    this.secrets = new RestSecretApi(rest, namespace);
    this.claims = new RestClaimApi(rest, namespace);
    this.jobs = new RestJobApi(rest, namespace);
    this.leases = new RestLeaseApi(rest, namespace);
    this.exec = new WebSocketExec(rest, namespace, execSlots, options.exec);
  }

  get agentPods(): ObjectCache<Pod> {
    this.podCache ??= this.reflector('pods', AGENT_POD_SELECTOR, toPod);
    return this.podCache;
  }

  configMapCache(labelSelector: string): ObjectCache<ConfigMap> {
    let cache = this.configMapCaches.get(labelSelector);
    if (cache === undefined) {
      cache = this.reflector('configmaps', labelSelector, toConfigMap);
      this.configMapCaches.set(labelSelector, cache);
    }
    return cache;
  }

  close(): void {
    this.podCache?.close();
    this.podCache = undefined;
    for (const cache of this.configMapCaches.values()) cache.close();
    this.configMapCaches.clear();
    this.onClose();
  }

  private reflector<T extends { name: string; resourceVersion: string }>(
    resource: string,
    labelSelector: string,
    convert: (wire: unknown) => T,
  ): Reflector<T> {
    return new Reflector<T>({
      ...this.options.reflector,
      rest: this.rest,
      namespace: this.namespace,
      resource,
      labelSelector,
      convert,
      log: this.options.log.child({ component: 'reflector', namespace: this.namespace, resource, labelSelector }),
    });
  }
}
