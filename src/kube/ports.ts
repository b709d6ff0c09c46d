// The narrow interfaces the core talks to Kubernetes through. Adapters live in src/k8s/ (real
// cluster) and test/fakes/ (unit tests). Every call takes an AbortSignal: nothing is unbounded.
// Errors are GcK8sError with Kubernetes failures mapped to NOT_FOUND, CONFLICT, ALREADY_EXISTS,
// GONE, FORBIDDEN, QUOTA_EXCEEDED, INVALID, THROTTLED, K8S_UNAVAILABLE, TIMEOUT, ABORTED.

import type {
  Claim,
  ClaimManifest,
  ClusterEvent,
  ConfigMap,
  ConfigMapManifest,
  Job,
  JobManifest,
  KubeObject,
  Lease,
  LeaseRecord,
  ObjectRef,
  Pod,
  PodManifest,
  PodUsage,
  SecretManifest,
  ServiceAddress,
} from './types.js';

export interface CallOptions {
  readonly signal: AbortSignal;
}

/** Pods of one namespace. */
export interface PodApi {
  /** dryRun: admission (quota, Pod Security, policies) answers without creating anything */
  create(manifest: PodManifest, options: CallOptions & { dryRun?: boolean }): Promise<Pod>;
  /** undefined when the pod does not exist */
  get(name: string, options: CallOptions): Promise<Pod | undefined>;
  list(labelSelector: string, options: CallOptions): Promise<Pod[]>;
  /**
   * Starts deletion. Returns false when the pod was already gone (404 is success).
   * `uid` makes it a precondition so a newer pod with the same name is never deleted.
   */
  delete(name: string, options: CallOptions & { gracePeriodSeconds?: number; uid?: string }): Promise<boolean>;
  /** Events whose involvedObject is this pod, oldest first. */
  events(podName: string, options: CallOptions): Promise<ClusterEvent[]>;
  /** What the selected pods use now (metrics.k8s.io); undefined when the cluster serves no metrics API. */
  usage(labelSelector: string, options: CallOptions): Promise<PodUsage[] | undefined>;
  /**
   * Sets (string) or removes (null) annotations of the pod with this uid; NOT_FOUND when it is gone,
   * CONFLICT when the name now belongs to another pod.
   */
  annotate(name: string, uid: string, annotations: Readonly<Record<string, string | null>>, options: CallOptions): Promise<Pod>;
  /**
   * Relabels and annotates the pod only if it is still at `resourceVersion` (CONFLICT otherwise):
   * how one start, and only one, takes a warm pod. null removes a key.
   */
  claim(
    name: string,
    resourceVersion: string,
    change: { labels: Readonly<Record<string, string | null>>; annotations: Readonly<Record<string, string | null>> },
    options: CallOptions,
  ): Promise<Pod>;
  /** Removes the pod's scheduling gates (the only change Kubernetes allows to them), so it is scheduled. */
  ungate(name: string, uid: string, options: CallOptions): Promise<void>;
}

/** ConfigMaps of one namespace. */
export interface ConfigMapApi {
  get(name: string, options: CallOptions): Promise<ConfigMap | undefined>;
  /** Throws ALREADY_EXISTS when the name is taken. */
  create(manifest: ConfigMapManifest, options: CallOptions): Promise<ConfigMap>;
  /** Optimistic replace: manifest.metadata.resourceVersion must be set; throws CONFLICT when stale. */
  replace(manifest: ConfigMapManifest, options: CallOptions): Promise<ConfigMap>;
  /** Returns false when already gone. */
  delete(name: string, options: CallOptions & { resourceVersion?: string }): Promise<boolean>;
  list(
    labelSelector: string,
    options: CallOptions & { limit?: number; continueToken?: string },
  ): Promise<{ items: ConfigMap[]; resourceVersion: string; continueToken?: string }>;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface CacheEvent<T> {
  readonly type: WatchEventType;
  readonly object: T;
}

export interface CacheStatus {
  /** true once the first list has been loaded (and after every successful relist) */
  readonly synced: boolean;
  /** a watch connection is open and streaming */
  readonly connected?: boolean;
  /** the cache may be trusted without a verifying list (see ObjectCache.fresh) */
  readonly fresh?: boolean;
  /** ms epoch of the last successful list */
  readonly lastSyncAt?: number;
  /** ms epoch of the last watch event or bookmark */
  readonly lastEventAt?: number;
  /** ms epoch of the last proof the watch is alive: connected, or bytes received */
  readonly lastProgressAt?: number;
  /** how often the watch was restarted (drops, 410, errors) */
  readonly restarts: number;
  /** how often a LIST verified the cache because the watch had gone quiet */
  readonly verifications?: number;
  /** the error of the current outage; absent once the watch or a list succeeded again */
  readonly lastError?: string;
  /** the most recent failure, kept after recovery for diagnostics */
  readonly lastFailure?: string;
  readonly lastFailureAt?: number;
}

/**
 * A list+watch cache of one kind of object in one namespace, filtered by a label selector.
 * It survives dropped watches, 410 Gone and any other error by relisting with backoff.
 */
export interface ObjectCache<T extends { name: string }> {
  /** Resolves once the first list has been loaded; rejects on signal. */
  synced(options: CallOptions): Promise<void>;
  /**
   * Resolves once the contents can be trusted as of now: at once while the watch is connected and
   * making progress, else after a LIST verified or repaired them. Rejects only when the API cannot
   * be reached (or on signal).
   */
  fresh(options: CallOptions): Promise<void>;
  get(name: string): T | undefined;
  list(): T[];
  /**
   * Resolves with the current object (or undefined when absent) as soon as `predicate` holds,
   * checking now and after every change to that name.
   */
  waitFor(name: string, predicate: (object: T | undefined) => boolean, options: CallOptions): Promise<T | undefined>;
  /** Called for every change, in order; after a relist, synthetic events reconcile the difference. */
  subscribe(listener: (event: CacheEvent<T>) => void): () => void;
  status(): CacheStatus;
  close(): void;
}

export interface ExecRequest {
  readonly pod: string;
  readonly container: string;
  /** argv, never a shell string built from data */
  readonly command: readonly string[];
  /** stdin content; the stream is half-closed after it (v5) */
  readonly stdin?: Uint8Array | AsyncIterable<Uint8Array>;
  /** stdout+stderr beyond this fail the call with OUTPUT_TOO_LARGE (default 16 MiB) */
  readonly maxOutputBytes?: number;
  /**
   * Streams output as it arrives instead of buffering it, for long-lived channels (the beads
   * runner). The result's stdout/stderr are then empty and maxOutputBytes does not apply.
   */
  readonly onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
  /**
   * A persistent channel (one per pod or store), not a call: it is not counted against the exec
   * concurrency limit, which it would otherwise hold for its whole life (33 sessions would then
   * starve every other exec).
   */
  readonly longLived?: boolean;
  readonly signal: AbortSignal;
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

/** Runs a command in a container and reports how it ended. A non-zero exit is a result, not an error. */
export interface PodExec {
  exec(request: ExecRequest): Promise<ExecResult>;
}

/** Everything the core needs for one namespace. */
/** Reads of Services and Secrets by name (no list, no watch: least privilege). */
export interface ServiceApi {
  get(name: string, options: CallOptions): Promise<ServiceAddress | undefined>;
}

export interface SecretApi {
  /** The decoded value of one key; undefined when the Secret or the key does not exist. */
  value(name: string, key: string, options: CallOptions): Promise<string | undefined>;
  /** The names of a Secret's keys (never its values); undefined when it does not exist. */
  keys(name: string, options: CallOptions): Promise<readonly string[] | undefined>;
  /** Throws ALREADY_EXISTS when the name is taken. */
  create(manifest: SecretManifest, options: CallOptions): Promise<void>;
}

/** PersistentVolumeClaims of one namespace (session workspaces). */
export interface ClaimApi {
  /** undefined when the claim does not exist */
  get(name: string, options: CallOptions): Promise<Claim | undefined>;
  list(labelSelector: string, options: CallOptions): Promise<Claim[]>;
  /** Throws ALREADY_EXISTS when the name is taken. */
  create(manifest: ClaimManifest, options: CallOptions): Promise<Claim>;
  /**
   * False when it was already gone. `uid` and `resourceVersion` are preconditions (never a newer
   * claim of that name; never one a start touched since it was read): CONFLICT when they fail.
   */
  delete(name: string, options: CallOptions & { uid?: string; resourceVersion?: string }): Promise<boolean>;
  /** Sets (string) or removes (null) annotations. */
  annotate(name: string, annotations: Readonly<Record<string, string | null>>, options: CallOptions): Promise<Claim>;
  /** Events about this claim (why it does not bind), oldest first. */
  events(name: string, options: CallOptions): Promise<ClusterEvent[]>;
}

/** coordination.k8s.io/v1 Leases of one namespace: leader election's record. */
export interface LeaseApi {
  /** undefined when the Lease does not exist */
  get(name: string, options: CallOptions): Promise<Lease | undefined>;
  /** Throws ALREADY_EXISTS when someone made it first. */
  create(record: LeaseRecord, options: CallOptions): Promise<Lease>;
  /** Replaces it if still at `resourceVersion`; throws CONFLICT when someone wrote it meanwhile. */
  update(record: LeaseRecord, resourceVersion: string, options: CallOptions): Promise<Lease>;
}

/** batch/v1 Jobs of one namespace (sessions that run as one: one_shot, workload = "job"). */
export interface JobApi {
  /** undefined when the Job does not exist */
  get(name: string, options: CallOptions): Promise<Job | undefined>;
  /** Throws ALREADY_EXISTS when the name is taken. */
  create(manifest: JobManifest, options: CallOptions): Promise<Job>;
  /** Deletes it and (in the background) its pod; false when it was already gone; `uid` is a precondition. */
  delete(name: string, options: CallOptions & { uid?: string }): Promise<boolean>;
  /** Events about this Job (why it made no pod), oldest first. */
  events(name: string, options: CallOptions): Promise<ClusterEvent[]>;
}

/**
 * Objects of the kinds `gc-k8s install` applies (the table in src/k8s/objects.ts), of any
 * namespace, named by apiVersion, kind and name. Objects come back as the wire has them.
 */
export interface ObjectApi {
  /** undefined when it does not exist */
  get(ref: ObjectRef, options: CallOptions): Promise<KubeObject | undefined>;
  /**
   * Server-side apply as `fieldManager`: the object as it is afterwards (with `dryRun`, as it would
   * be; nothing is written). CONFLICT when another manager owns a field the manifest sets to another
   * value, unless `force`.
   */
  apply(manifest: KubeObject, options: CallOptions & { fieldManager: string; force?: boolean; dryRun?: boolean }): Promise<KubeObject>;
  /** False when it was already gone. */
  delete(ref: ObjectRef, options: CallOptions): Promise<boolean>;
  /** The objects of a kind (in `namespace` for a namespaced one) with these labels. */
  list(kind: { apiVersion: string; kind: string; namespace?: string }, labelSelector: string, options: CallOptions): Promise<KubeObject[]>;
}

export interface NamespaceClient {
  readonly namespace: string;
  readonly pods: PodApi;
  readonly configMaps: ConfigMapApi;
  readonly services: ServiceApi;
  readonly secrets: SecretApi;
  readonly claims: ClaimApi;
  readonly jobs: JobApi;
  readonly leases: LeaseApi;
  readonly exec: PodExec;
  /** cache of pods labelled app=gc-agent */
  readonly agentPods: ObjectCache<Pod>;
  /** caches are created on first use and closed with the client */
  configMapCache(labelSelector: string): ObjectCache<ConfigMap>;
  close(): void;
}

export interface Clock {
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}
