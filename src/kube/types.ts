// Our own view of the Kubernetes objects the core reads and writes. The k8s adapters convert
// to and from the wire; nothing in the core depends on @kubernetes/client-node's model classes.

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface ContainerStateSummary {
  readonly name: string;
  readonly ready: boolean;
  readonly restartCount: number;
  readonly state: 'waiting' | 'running' | 'terminated' | 'unknown';
  /** waiting/terminated reason, e.g. ErrImagePull, CrashLoopBackOff, OOMKilled */
  readonly reason?: string;
  readonly message?: string;
  readonly exitCode?: number;
}

/** What a pod uses now, from the metrics API (metrics-server): per container, over its last window. */
export interface PodUsage {
  readonly name: string;
  readonly containers: readonly { readonly name: string; readonly cpuCores: number; readonly memoryBytes: number }[];
}

export interface PodCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

/** What every object read from the cluster has. */
export interface StoredObject {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** RFC 3339 */
  readonly creationTimestamp: string;
}

/** A pod as the core sees it (from the cache or an API response). */
export interface Pod extends StoredObject {
  /** Set once deletion started: such a pod never counts as running. */
  readonly deletionTimestamp?: string;
  readonly phase: PodPhase;
  /** why the pod as a whole ended (status.reason: Evicted, DeadlineExceeded…) */
  readonly reason?: string;
  readonly podIP?: string;
  readonly nodeName?: string;
  readonly conditions: readonly PodCondition[];
  readonly initContainers: readonly ContainerStateSummary[];
  readonly containers: readonly ContainerStateSummary[];
  /** names of the scheduling gates still holding the pod back */
  readonly schedulingGates?: readonly string[];
  /** the PersistentVolumeClaims its volumes mount */
  readonly claims?: readonly string[];
  /** the object that controls it (a one-shot session's Job), from its controller ownerReference */
  readonly controller?: { readonly kind: string; readonly name: string; readonly uid: string };
}

/** A batch/v1 Job as the core sees it (a session that runs as one). */
export interface Job extends StoredObject {
  readonly deletionTimestamp?: string;
  /** Complete or Failed once it ended (its condition), absent while it runs */
  readonly finished?: 'Complete' | 'Failed';
  /** why it failed (BackoffLimitExceeded, DeadlineExceeded…) */
  readonly failedReason?: string;
}

/** A PersistentVolumeClaim as the core sees it (a session's workspace). */
export interface Claim extends StoredObject {
  readonly deletionTimestamp?: string;
  readonly phase: 'Pending' | 'Bound' | 'Lost' | 'Unknown';
  /** what was asked for (spec.resources.requests.storage) and what the bound volume has */
  readonly requested: string;
  readonly capacity?: string;
  readonly storageClassName?: string;
  readonly volumeName?: string;
  /** the node a WaitForFirstConsumer claim was provisioned for (volume.kubernetes.io/selected-node) */
  readonly selectedNode?: string;
}

export interface ConfigMap extends StoredObject {
  readonly data: Readonly<Record<string, string>>;
}

/** A Kubernetes Event (core/v1) about an object, used to explain why a pod is stuck. */
export interface ClusterEvent {
  readonly type: string; // Normal | Warning
  readonly reason: string;
  readonly message: string;
  readonly count: number;
  /** RFC 3339; the newest of lastTimestamp / eventTime / creationTimestamp */
  readonly lastSeen: string;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  ownerReferences?: OwnerReference[];
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}

export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export interface Probe {
  tcpSocket?: { port: number | string };
  exec?: { command: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  failureThreshold?: number;
  timeoutSeconds?: number;
}

export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  stdin?: boolean;
  tty?: boolean;
  resources?: ResourceRequirements;
  volumeMounts?: VolumeMount[];
  securityContext?: SecurityContext;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}

export interface Volume {
  name: string;
  emptyDir?: { sizeLimit?: string; medium?: string };
  secret?: { secretName: string; optional?: boolean; items?: { key: string; path: string }[] };
  persistentVolumeClaim?: { claimName: string };
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: {
    runAsUser?: number;
    runAsGroup?: number;
    runAsNonRoot?: boolean;
    fsGroup?: number;
    seccompProfile?: { type: string };
  };
  imagePullSecrets?: { name: string }[];
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: readonly Readonly<Record<string, unknown>>[];
  affinity?: Readonly<Record<string, unknown>>;
  priorityClassName?: string;
  enableServiceLinks?: boolean;
  /** the pod is not scheduled until every gate is removed (GA since Kubernetes 1.30) */
  schedulingGates?: { name: string }[];
}

export interface PodManifest {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: ObjectMeta;
  spec: PodSpec;
}

export interface JobManifest {
  apiVersion: 'batch/v1';
  kind: 'Job';
  metadata: ObjectMeta;
  spec: {
    backoffLimit: number;
    ttlSecondsAfterFinished?: number;
    activeDeadlineSeconds?: number;
    template: { metadata: Pick<ObjectMeta, 'labels' | 'annotations'>; spec: PodSpec };
  };
}

export interface SecretManifest {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: ObjectMeta;
  type: 'Opaque';
  immutable?: boolean;
  /** base64 values */
  data: Record<string, string>;
}

export interface ClaimManifest {
  apiVersion: 'v1';
  kind: 'PersistentVolumeClaim';
  metadata: ObjectMeta;
  spec: {
    accessModes: string[];
    resources: { requests: { storage: string } };
    storageClassName?: string;
    volumeMode: 'Filesystem';
  };
}

export interface ConfigMapManifest {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data: Record<string, string>;
}

/** What the daemon needs of a Service to reach it directly: its ClusterIP and ports. */
export interface ServiceAddress {
  readonly name: string;
  readonly namespace: string;
  /** '' or 'None' for headless Services */
  readonly clusterIP: string;
  readonly ports: readonly { readonly name: string; readonly port: number }[];
}

/** An object of any kind as the wire has it: what `gc-k8s install` applies and reads back. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: KubeObjectMeta;
  readonly [field: string]: unknown;
}

export interface KubeObjectMeta {
  readonly name: string;
  /** for a namespaced kind */
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

/** What names one object on the server. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** for a namespaced kind */
  readonly namespace?: string;
}

/** A coordination.k8s.io/v1 Lease, as leader election reads it (times in ms since the epoch). */
export interface Lease {
  readonly name: string;
  /** '' when nobody holds it (released) */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTimeMs: number | undefined;
  readonly renewTimeMs: number | undefined;
  readonly leaseTransitions: number;
  /** the optimistic-concurrency token an update must carry */
  readonly resourceVersion: string;
}

/** What leader election writes into a Lease. */
export type LeaseRecord = Omit<Lease, 'resourceVersion'>;
