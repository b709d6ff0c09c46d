// The resolved settings that shape an agent pod. Built by the config loader from city.toml
// [session.k8s] and GC_K8S_* variables; the pod builders only read this.

export type PodSecurityLevel = 'restricted' | 'baseline' | 'none';

/** Where a session's /workspace lives: the pod's own emptyDir, a claim of its own, or a subPath of one shared claim. */
export type WorkspaceMode = 'ephemeral' | 'claim' | 'shared';
export const WORKSPACE_MODES: readonly WorkspaceMode[] = ['ephemeral', 'claim', 'shared'];
export type WorkspaceAccessMode = 'ReadWriteOnce' | 'ReadWriteOncePod' | 'ReadWriteMany';
export const WORKSPACE_ACCESS_MODES: readonly WorkspaceAccessMode[] = ['ReadWriteOnce', 'ReadWriteOncePod', 'ReadWriteMany'];

export interface PodSettings {
  readonly namespace: string;
  /** empty means "not configured": start fails with a clear message */
  readonly image: string;
  readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  readonly imagePullSecret: string;
  readonly serviceAccount: string;
  readonly cpuRequest: string;
  readonly memRequest: string;
  /** '' = no CPU limit (GC_K8S_CPU_LIMIT=none) */
  readonly cpuLimit: string;
  readonly memLimit: string;
  readonly prebaked: boolean;
  readonly podSecurity: PodSecurityLevel;
  readonly runAsUser: number;
  readonly runAsGroup: number;
  readonly terminationGracePeriodSeconds: number;
  /** managed in-cluster Dolt alias used when the controller's Dolt host is loopback */
  readonly doltHost: string;
  readonly doltPort: string;
  /** Secret holding Dolt credentials (key `password`), referenced instead of plaintext env */
  readonly doltSecret: string;
  /** lines of scrollback tmux keeps for peek (its own default, 2000, is short for agents) */
  readonly historyLimit: number;
  /** env names (globs) that are credentials: projected from the session's Secret, never as values */
  readonly credentialEnv: readonly string[];
  /** agent (alias, name or its last path segment; "*" for any) → service account */
  readonly serviceAccountMap: Readonly<Record<string, string>>;
  /** non-secret env for every agent pod; the session's own env wins */
  readonly agentEnv: Readonly<Record<string, string>>;
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly tolerations: readonly Readonly<Record<string, unknown>>[] | undefined;
  readonly affinity: Readonly<Record<string, unknown>> | undefined;
  readonly priorityClassName: string;
  /** a PVC mounted as the workspace instead of an emptyDir (staging and gc init are skipped) */
  readonly workspacePvc: string;
  readonly workspace: WorkspaceMode;
  /** claim mode: the template of each session's claim */
  readonly workspaceSize: string;
  /** '' = the cluster's default StorageClass */
  readonly workspaceStorageClass: string;
  readonly workspaceAccessMode: WorkspaceAccessMode;
  readonly workspaceLabels: Readonly<Record<string, string>>;
  /** claim mode: what stop does with the claim */
  readonly workspaceReclaim: 'keep' | 'delete';
  /** shared mode: the existing claim whose sessions/<pod> subdirectory each session gets */
  readonly workspaceClaim: string;
  /** warm pods kept ready for this city's starts */
  readonly warmPool: number;
  /** what a session runs as: a bare pod, or a batch/v1 Job around it (one_shot starts always run as a Job) */
  readonly workload: 'pod' | 'job';
  /** a finished Job (and its pod, with the last screen and exit status) is deleted this long after it ended; undefined: kept until stop */
  readonly jobTtlSeconds: number | undefined;
  /** a Job running longer than this is ended by Kubernetes (DeadlineExceeded); undefined: no limit */
  readonly jobDeadlineSeconds: number | undefined;
  /** env of agent containers read from existing Secrets (never a value in the pod spec): name → secret and key */
  readonly secretEnv: Readonly<Record<string, SecretKeyRef>>;
  /** files (a whole Secret as a directory, or one key as a file) mounted read-only at absolute paths */
  readonly secretFiles: readonly SecretFile[];
  /** named sets of overrides (resources, image, scheduling, identity, env, secrets, workspace template) */
  readonly profiles: Readonly<Record<string, ProfileOverrides>>;
  /** agent (alias, name, last name segment, or a * pattern) → profile name; the first exact match, then the first pattern */
  readonly profileMap: Readonly<Record<string, string>>;
  /** the profile these settings were resolved with for a start ('' = none: the city's defaults) */
  readonly profileName: string;
}

export interface SecretKeyRef {
  readonly secret: string;
  readonly key: string;
}

export interface SecretFile {
  readonly mountPath: string;
  readonly secret: string;
  /** one key, mounted as the file mountPath; absent: every key, as files in the directory mountPath */
  readonly key?: string;
}

/** What a profile may set: the per-role part of the pod settings. */
export const PROFILE_FIELDS = [
  'image',
  'imagePullPolicy',
  'cpuRequest',
  'memRequest',
  'cpuLimit',
  'memLimit',
  'priorityClassName',
  'nodeSelector',
  'tolerations',
  'affinity',
  'serviceAccount',
  'agentEnv',
  'secretEnv',
  'secretFiles',
  'workspaceSize',
  'workspaceStorageClass',
] as const satisfies readonly (keyof PodSettings)[];

export type ProfileOverrides = Partial<Pick<PodSettings, (typeof PROFILE_FIELDS)[number]>>;

export const DEFAULT_CREDENTIAL_ENV =
  '*_API_KEY,*_APIKEY,*_TOKEN,*_SECRET,*_SECRET_*,*PASSWORD*,*_PASSWD,*_CREDENTIALS,*_PRIVATE_KEY,*_ACCESS_KEY';

export const DEFAULT_POD_SETTINGS: PodSettings = {
  namespace: 'gc',
  image: '',
  imagePullPolicy: 'IfNotPresent',
  imagePullSecret: '',
  serviceAccount: '',
  cpuRequest: '500m',
  memRequest: '1Gi',
  cpuLimit: '2',
  memLimit: '4Gi',
  prebaked: false,
  podSecurity: 'restricted',
  runAsUser: 1000,
  runAsGroup: 1000,
  terminationGracePeriodSeconds: 5,
  doltHost: 'dolt.gc.svc.cluster.local',
  doltPort: '3307',
  doltSecret: 'gc-dolt-credentials',
  historyLimit: 20_000,
  credentialEnv: DEFAULT_CREDENTIAL_ENV.split(','),
  serviceAccountMap: {},
  agentEnv: {},
  nodeSelector: {},
  tolerations: undefined,
  affinity: undefined,
  priorityClassName: '',
  workspacePvc: '',
  workspace: 'ephemeral',
  workspaceSize: '10Gi',
  workspaceStorageClass: '',
  workspaceAccessMode: 'ReadWriteOnce',
  workspaceLabels: {},
  workspaceReclaim: 'keep',
  workspaceClaim: '',
  warmPool: 0,
  workload: 'pod',
  jobTtlSeconds: 3600,
  jobDeadlineSeconds: undefined,
  secretEnv: {},
  secretFiles: [],
  profiles: {},
  profileMap: {},
  profileName: '',
};
