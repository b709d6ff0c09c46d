// THE configuration table: every [session.k8s] key of city.toml, its GC_K8S_* variable, default
// and meaning. Env wins over TOML. README's configuration section is generated from this list
// (`gc-k8s config table`), so documentation and behaviour cannot drift.

import {
  DEFAULT_CREDENTIAL_ENV,
  DEFAULT_POD_SETTINGS,
  WORKSPACE_ACCESS_MODES,
  WORKSPACE_MODES,
  type PodSettings,
} from '../session/settings.js';
import { quote } from '../errors.js';
import { parseProfiles, PROFILE_KEYS } from './profiles.js';
import { parseSecretEnv, parseSecretFiles } from './secret-refs.js';
import { DEFAULT_SESSION_OPTIONS, type SessionOptions } from '../session/options.js';
import {
  checkLabel,
  parseBool,
  parseDnsLabel,
  parseDnsSubdomain,
  parseDuration,
  parseEnum,
  parseInteger,
  parseJsonOf,
  parseList,
  parseQuantity,
  parseStringMap,
} from './parse.js';

export interface MutableConfig {
  pod: { -readonly [K in keyof PodSettings]: PodSettings[K] };
  session: { -readonly [K in keyof SessionOptions]: SessionOptions[K] };
  context: string;
  customTypes: string[];
  beadsDirectReads: boolean;
  beadsFastWrites: boolean;
  eventsMaxAgeMs: number;
  eventsMaxCount: number;
}

export const DEFAULT_CUSTOM_TYPES = 'molecule,convoy,message,event,gate,merge-request,agent,role,rig,session,spec,convergence';

export interface ConfigEntry {
  readonly key: string;
  readonly env: readonly string[];
  readonly default: string;
  readonly doc: string;
  apply(config: MutableConfig, raw: string): void;
}

/** A quantity, or `none` ('': the field is left out, for the namespace's LimitRange to fill). */
const quantityOrNone = (v: string): string => (v.trim().toLowerCase() === 'none' ? '' : parseQuantity(v));

const str = (set: (c: MutableConfig, v: string) => void) => (c: MutableConfig, raw: string) => {
  set(c, raw);
};

export const CONFIG_TABLE: readonly ConfigEntry[] = [
  {
    key: 'namespace',
    env: ['GC_K8S_NAMESPACE'],
    default: 'gc',
    doc: 'Namespace of agent pods, events and the beads runner.',
    apply: (c, v) => {
      c.pod.namespace = parseDnsLabel(v) || 'gc';
    },
  },
  {
    key: 'image',
    env: ['GC_K8S_IMAGE'],
    default: '(required for start)',
    doc: 'Agent container image.',
    apply: str((c, v) => {
      c.pod.image = v.trim();
    }),
  },
  {
    key: 'context',
    env: ['GC_K8S_CONTEXT'],
    default: '(current context)',
    doc: 'kubeconfig context; ignored in-cluster.',
    apply: str((c, v) => {
      c.context = v.trim();
    }),
  },
  {
    key: 'cpu_request',
    env: ['GC_K8S_CPU_REQUEST'],
    default: '500m',
    doc: 'Agent CPU request; `none` leaves it to the namespace (a LimitRange default).',
    apply: (c, v) => {
      c.pod.cpuRequest = quantityOrNone(v);
    },
  },
  {
    key: 'mem_request',
    env: ['GC_K8S_MEM_REQUEST'],
    default: '1Gi',
    doc: 'Agent memory request; `none` leaves it to the namespace (a LimitRange default).',
    apply: (c, v) => {
      c.pod.memRequest = quantityOrNone(v);
    },
  },
  {
    key: 'cpu_limit',
    env: ['GC_K8S_CPU_LIMIT'],
    default: '2',
    doc: 'Agent CPU limit; `none` for no limit (requests still apply).',
    apply: (c, v) => {
      c.pod.cpuLimit = quantityOrNone(v);
    },
  },
  {
    key: 'mem_limit',
    env: ['GC_K8S_MEM_LIMIT'],
    default: '4Gi',
    doc: 'Agent memory limit; `none` leaves it to the namespace (a LimitRange default).',
    apply: (c, v) => {
      c.pod.memLimit = quantityOrNone(v);
    },
  },
  {
    key: 'prebaked',
    env: ['GC_K8S_PREBAKED'],
    default: 'false',
    doc: 'Image already contains the workspace (gc build-image): no staging.',
    apply: (c, v) => {
      c.pod.prebaked = parseBool(v);
    },
  },
  {
    key: 'service_account',
    env: ['GC_K8S_SERVICE_ACCOUNT'],
    default: '(namespace default)',
    doc: 'Service account of agent pods (its token is never mounted).',
    apply: (c, v) => {
      c.pod.serviceAccount = parseDnsLabel(v);
    },
  },
  {
    key: 'service_account_map',
    env: ['GC_K8S_SERVICE_ACCOUNT_MAP_JSON'],
    default: '{}',
    doc: 'JSON object: agent (alias, name, or the last segment of its name; `*` for any) → service account; unmatched agents get `service_account`.',
    apply: (c, v) => {
      c.pod.serviceAccountMap = parseStringMap(v, (_, sa) => parseDnsLabel(sa));
    },
  },
  {
    key: 'agent_env',
    env: ['GC_K8S_AGENT_ENV_JSON'],
    default: '{}',
    doc: "JSON object of env for every agent pod, under the session's own env (which wins); names matching `credential_env` still become references to the session's Secret, never values in the pod spec.",
    apply: (c, v) => {
      c.pod.agentEnv = parseStringMap(v, (name) => {
        if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) throw new Error(`not an env name: ${JSON.stringify(name.slice(0, 64))}`);
      });
    },
  },
  {
    key: 'node_selector',
    env: ['GC_K8S_NODE_SELECTOR'],
    default: '{}',
    doc: 'JSON object: nodeSelector of agent pods.',
    apply: (c, v) => {
      c.pod.nodeSelector = parseStringMap(v);
    },
  },
  {
    key: 'tolerations',
    env: ['GC_K8S_TOLERATIONS'],
    default: '(none)',
    doc: 'JSON array: tolerations of agent pods.',
    apply: (c, v) => {
      c.pod.tolerations = parseJsonOf('array', v) as Record<string, unknown>[] | undefined;
    },
  },
  {
    key: 'affinity',
    env: ['GC_K8S_AFFINITY'],
    default: '(none)',
    doc: 'JSON object: affinity of agent pods.',
    apply: (c, v) => {
      c.pod.affinity = parseJsonOf('object', v) as Record<string, unknown> | undefined;
    },
  },
  {
    key: 'priority_class_name',
    env: ['GC_K8S_PRIORITY_CLASS_NAME'],
    default: '(none)',
    doc: 'PriorityClass of agent pods.',
    apply: (c, v) => {
      c.pod.priorityClassName = parseDnsSubdomain(v.trim());
    },
  },
  {
    key: 'workspace_pvc',
    env: ['GC_K8S_WORKSPACE_PVC'],
    default: '(none: an emptyDir per pod)',
    doc: 'PersistentVolumeClaim mounted at `/workspace` in every agent pod instead of an emptyDir; staging and `gc init` are skipped (the claim holds the workspace).',
    apply: (c, v) => {
      c.pod.workspacePvc = parseDnsSubdomain(v.trim());
    },
  },
  {
    key: 'workspace',
    env: ['GC_K8S_WORKSPACE'],
    default: 'ephemeral',
    doc: "Where `/workspace` lives. `ephemeral`: the pod's own emptyDir (gone with the pod). `claim`: a PersistentVolumeClaim per session (`ws-<pod name>`, from the `workspace_size`/`_storage_class`/`_access_mode`/`_labels` template), created by the first start, kept by stop, mounted again by the next start of that session. `shared`: the subdirectory `sessions/<pod name>` of the existing claim `workspace_claim`. Staging writes into a claim once; see the README's workspaces section.",
    apply: (c, v) => {
      c.pod.workspace = parseEnum(WORKSPACE_MODES)(v.trim());
    },
  },
  {
    key: 'workspace_size',
    env: ['GC_K8S_WORKSPACE_SIZE'],
    default: '10Gi',
    doc: 'Storage each session claim asks for (`workspace = "claim"`).',
    apply: (c, v) => {
      const size = parseQuantity(v.trim());
      if (!/^[+]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.test(size) || Number.parseFloat(size) <= 0)
        throw new Error(`expected a storage size like 10Gi or 500Mi; got ${JSON.stringify(v.slice(0, 64))}`);
      c.pod.workspaceSize = size;
    },
  },
  {
    key: 'workspace_storage_class',
    env: ['GC_K8S_WORKSPACE_STORAGE_CLASS'],
    default: "(the cluster's default)",
    doc: 'StorageClass of session claims.',
    apply: (c, v) => {
      c.pod.workspaceStorageClass = parseDnsSubdomain(v.trim());
    },
  },
  {
    key: 'workspace_access_mode',
    env: ['GC_K8S_WORKSPACE_ACCESS_MODE'],
    default: 'ReadWriteOnce',
    doc: 'Access mode of session claims: ReadWriteOnce, ReadWriteOncePod or ReadWriteMany.',
    apply: (c, v) => {
      c.pod.workspaceAccessMode = parseEnum(WORKSPACE_ACCESS_MODES)(v.trim());
    },
  },
  {
    key: 'workspace_labels',
    env: ['GC_K8S_WORKSPACE_LABELS'],
    default: '{}',
    doc: "Extra labels of session claims (JSON object), e.g. for backup selection; gc-k8s's own labels win.",
    apply: (c, v) => {
      c.pod.workspaceLabels = parseStringMap(v, checkLabel);
    },
  },
  {
    key: 'workspace_reclaim',
    env: ['GC_K8S_WORKSPACE_RECLAIM'],
    default: 'keep',
    doc: "What stop does with a session's claim: `keep` it for the next start (gc's sleep and wake), or `delete` it.",
    apply: (c, v) => {
      c.pod.workspaceReclaim = parseEnum(['keep', 'delete'] as const)(v.trim());
    },
  },
  {
    key: 'workspace_claim',
    env: ['GC_K8S_WORKSPACE_CLAIM'],
    default: '(none)',
    doc: 'The existing claim `workspace = "shared"` mounts (ReadWriteMany, or every session on one node); each session sees only its own subdirectory.',
    apply: (c, v) => {
      c.pod.workspaceClaim = parseDnsSubdomain(v.trim());
    },
  },
  {
    key: 'workspace_root',
    env: ['GC_K8S_WORKSPACE_ROOT'],
    default: '/workspace',
    doc: "Where the workspace is mounted in agent pods. Only `/workspace` (the 1.x provider's default) for now: gc's path remapping assumes it.",
    apply: (_, v) => {
      if (v.trim().replace(/\/+$/, '') !== '/workspace')
        throw new Error(`only /workspace is supported; got ${JSON.stringify(v.slice(0, 64))}`);
    },
  },
  {
    key: 'image_pull_policy',
    env: ['GC_K8S_IMAGE_PULL_POLICY'],
    default: 'IfNotPresent',
    doc: 'Always, IfNotPresent or Never.',
    apply: (c, v) => {
      c.pod.imagePullPolicy = parseEnum(['Always', 'IfNotPresent', 'Never'] as const)(v);
    },
  },
  {
    key: 'image_pull_secret',
    env: ['GC_K8S_IMAGE_PULL_SECRET'],
    default: '',
    doc: 'Secret used to pull agent and runner images.',
    apply: (c, v) => {
      c.pod.imagePullSecret = parseDnsLabel(v);
    },
  },
  {
    key: 'pod_security',
    env: ['GC_K8S_POD_SECURITY'],
    default: 'restricted',
    doc: 'restricted (non-root, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp), baseline, or none.',
    apply: (c, v) => {
      c.pod.podSecurity = parseEnum(['restricted', 'baseline', 'none'] as const)(v);
    },
  },
  {
    key: 'run_as_user',
    env: ['GC_K8S_RUN_AS_USER'],
    default: '1000',
    doc: 'UID of agent containers under restricted security (gcagent in our image).',
    apply: (c, v) => {
      c.pod.runAsUser = parseInteger(v, 1, 2 ** 31 - 1);
    },
  },
  {
    key: 'run_as_group',
    env: ['GC_K8S_RUN_AS_GROUP'],
    default: '1000',
    doc: 'GID and fsGroup of agent containers under restricted security.',
    apply: (c, v) => {
      c.pod.runAsGroup = parseInteger(v, 1, 2 ** 31 - 1);
    },
  },
  {
    key: 'termination_grace',
    env: ['GC_K8S_TERMINATION_GRACE'],
    default: '5s',
    doc: 'Grace period when stopping a session.',
    apply: (c, v) => {
      c.pod.terminationGracePeriodSeconds = Math.ceil(parseDuration(v) / 1000);
    },
  },
  {
    key: 'dolt_host',
    env: ['GC_K8S_DOLT_HOST'],
    default: 'dolt.gc.svc.cluster.local',
    doc: "In-cluster Dolt host used when the controller's Dolt is on loopback.",
    apply: str((c, v) => {
      c.pod.doltHost = v.trim();
    }),
  },
  {
    key: 'dolt_port',
    env: ['GC_K8S_DOLT_PORT'],
    default: '3307',
    doc: 'In-cluster Dolt port.',
    apply: (c, v) => {
      c.pod.doltPort = String(parseInteger(v, 1, 65535));
    },
  },
  {
    key: 'dolt_secret',
    env: ['GC_K8S_DOLT_SECRET'],
    default: 'gc-dolt-credentials',
    doc: 'Secret (key `password`) that Dolt passwords are read from; never copied into pod specs.',
    apply: (c, v) => {
      c.pod.doltSecret = parseDnsLabel(v);
    },
  },
  {
    key: 'start_timeout',
    env: ['GC_K8S_START_TIMEOUT'],
    default: '110s',
    doc: 'Deadline of start (gc kills exec providers at 120 s).',
    apply: (c, v) => {
      c.session.startTimeoutMs = parseDuration(v);
    },
  },
  {
    key: 'op_timeout',
    env: ['GC_K8S_OP_TIMEOUT'],
    default: '25s',
    doc: 'Deadline of every other op (gc kills exec providers at 30 s).',
    apply: (c, v) => {
      c.session.opTimeoutMs = parseDuration(v);
    },
  },
  {
    key: 'stop_timeout',
    env: ['GC_K8S_STOP_TIMEOUT'],
    default: '25s',
    doc: 'How long stop waits for a pod to be gone.',
    apply: (c, v) => {
      c.session.stopTimeoutMs = parseDuration(v);
    },
  },
  {
    key: 'startup_grace',
    env: ['GC_K8S_STARTUP_GRACE'],
    default: '240s',
    doc: 'A younger pod of another provider without tmux counts as initializing, not stale.',
    apply: (c, v) => {
      c.session.startupGraceMs = parseDuration(v);
    },
  },
  {
    key: 'nudge_enter_delay',
    env: ['GC_K8S_NUDGE_ENTER_DELAY'],
    default: '150ms',
    doc: 'Pause between pasting a nudge and pressing Enter (TUIs swallow an early Enter).',
    apply: (c, v) => {
      c.session.nudgeEnterDelayMs = parseDuration(v);
    },
  },
  {
    key: 'capacity_wait',
    env: ['GC_K8S_CAPACITY_WAIT'],
    default: '15s',
    doc: 'A session pod the scheduler has no room for (CPU, memory, pod count) this long fails start with exit 75 ("retry later"), and is removed.',
    apply: (c, v) => {
      c.session.capacityWaitMs = parseDuration(v);
    },
  },
  {
    key: 'settle',
    env: ['GC_K8S_SETTLE'],
    default: '200ms',
    doc: 'After tmux is up, how long start watches for the agent dying at once.',
    apply: (c, v) => {
      c.session.settleMs = parseDuration(v);
    },
  },
  {
    key: 'warm_pool',
    env: ['GC_K8S_WARM_POOL'],
    default: '0',
    doc: 'Warm pods kept per city (0 to 50): started with tmux idle and no agent, so a start claims one (relabels it, stages, launches the agent through tmux) instead of waiting for a new pod; the pool refills in the background. A session whose pod would differ from a warm pod — its own workspace claim, credentials, another service account, a profile, one_shot — starts cold; `gc-k8s sessions` says which and why. A city with `workload = "job"` keeps no pool.',
    apply: (c, v) => {
      c.pod.warmPool = parseInteger(v, 0, 50);
    },
  },
  {
    key: 'secret_env',
    env: ['GC_K8S_SECRET_ENV_JSON'],
    default: '{}',
    doc: "JSON object: env name → `secret/key` of an existing Secret, read by the agent container by reference (never a value in the pod spec); wins over the session's own variable of that name. The admission policy must list the Secret (`variables.secrets`).",
    apply: (c, v) => {
      c.pod.secretEnv = parseSecretEnv(v);
    },
  },
  {
    key: 'secret_files',
    env: ['GC_K8S_SECRET_FILES_JSON'],
    default: '{}',
    doc: 'JSON object: absolute path in the agent container → `secret` (every key, as files in that directory) or `secret/key` (that key, as that file), mounted read-only. The admission policy must list the Secret (`variables.secretVolumes`).',
    apply: (c, v) => {
      c.pod.secretFiles = parseSecretFiles(v);
    },
  },
  {
    key: 'profiles',
    env: ['GC_K8S_PROFILES_JSON'],
    default: '{}',
    doc: `Named profiles (\`[session.k8s.profiles.<name>]\` tables, or a JSON object of them), each setting any of: ${Object.keys(
      PROFILE_KEYS,
    )
      .map((k) => `\`${k}\``)
      .join(
        ', ',
      )}. A session gets the profile profile_map gives its agent, on top of these settings (agent_env and secret_env add to the city's).`,
    apply: (c, v) => {
      c.pod.profiles = parseProfiles(v, CONFIG_TABLE);
    },
  },
  {
    key: 'profile_map',
    env: ['GC_K8S_PROFILE_MAP_JSON'],
    default: '{}',
    doc: "JSON object: agent → profile name. Keys are an agent's alias (`GC_ALIAS`), its name (`GC_AGENT`) or the last segment of that name, or a pattern with `*` (`*-reviewer`; `*` alone for every other agent). An exact key wins over a pattern; patterns are tried in order. Unmatched agents get the settings above.",
    apply: (c, v) => {
      c.pod.profileMap = parseStringMap(v, (pattern, profile) => {
        if (pattern === '') throw new Error('an empty agent pattern');
        parseDnsLabel(profile);
      });
    },
  },
  {
    key: 'workload',
    env: ['GC_K8S_WORKLOAD'],
    default: 'pod',
    doc: 'What a session runs as: `pod`, or `job` (a batch/v1 Job around the same tmux-in-pod: backoffLimit 0, job_ttl, job_deadline; stop deletes the Job and its pod). A gc 1.x start with `lifecycle = "one_shot"` always runs as a Job.',
    apply: (c, v) => {
      c.pod.workload = parseEnum(['pod', 'job'] as const)(v.trim());
    },
  },
  {
    key: 'job_ttl',
    env: ['GC_K8S_JOB_TTL'],
    default: '1h',
    doc: "How long a finished Job (and its pod, which keeps the session's last screen and exit status for peek and `gc-k8s sessions`) stays before Kubernetes deletes it (ttlSecondsAfterFinished); `none` keeps it until stop.",
    apply: (c, v) => {
      c.pod.jobTtlSeconds = v.trim() === 'none' ? undefined : Math.ceil(parseDuration(v) / 1000);
    },
  },
  {
    key: 'job_deadline',
    env: ['GC_K8S_JOB_DEADLINE'],
    default: 'none',
    doc: 'The longest a Job session may run before Kubernetes ends it (activeDeadlineSeconds; the session then reports DeadlineExceeded); `none` for no limit.',
    apply: (c, v) => {
      if (v.trim() === 'none') {
        c.pod.jobDeadlineSeconds = undefined;
        return;
      }
      const seconds = Math.ceil(parseDuration(v) / 1000);
      if (seconds < 1) throw new Error(`expected a duration of at least 1s, or none; got ${quote(v.trim())}`);
      c.pod.jobDeadlineSeconds = seconds;
    },
  },
  {
    key: 'warm_settle',
    env: ['GC_K8S_WARM_SETTLE'],
    default: '20ms',
    doc: 'The settle of a start from a warm pod: its tmux, shell and image are already up and proven, so only the agent itself can die at once; the entrypoint still reports a later death as the end of the session.',
    apply: (c, v) => {
      c.session.warmSettleMs = parseDuration(v);
    },
  },
  {
    key: 'credential_env',
    env: ['GC_K8S_CREDENTIAL_ENV'],
    default: DEFAULT_CREDENTIAL_ENV,
    doc: 'Names (globs, case-insensitive) of start env variables that are credentials: they reach the agent from a Secret of the session (owned by its pod, deleted with it), never as values in the pod spec.',
    apply: (c, v) => {
      c.pod.credentialEnv = parseList(v);
    },
  },
  {
    key: 'history_limit',
    env: ['GC_K8S_HISTORY_LIMIT'],
    default: '20000',
    doc: "Lines of scrollback tmux keeps per session (what `peek 0` returns; tmux's own default is 2000).",
    apply: (c, v) => {
      c.pod.historyLimit = parseInteger(v, 100, 1_000_000);
    },
  },
  {
    key: 'max_stage_mib',
    env: ['GC_K8S_MAX_STAGE_MIB'],
    default: '512',
    doc: 'Refuse to stage more than this many MiB into a pod.',
    apply: (c, v) => {
      c.session.maxStageBytes = parseInteger(v, 1, 1 << 20) * 1024 * 1024;
    },
  },
  {
    key: 'custom_types',
    env: ['GC_K8S_CUSTOM_TYPES', 'GC_BEADS_CUSTOM_TYPES'],
    default: DEFAULT_CUSTOM_TYPES,
    doc: 'Custom bead types registered with bd.',
    apply: (c, v) => {
      c.customTypes = parseList(v);
    },
  },
  {
    key: 'beads_direct_reads',
    env: ['GC_K8S_BEADS_DIRECT_READS'],
    default: 'true',
    doc: 'Answer bead reads (get, list, ready, children, list-by-label, dep-list) from Dolt directly when the daemon can reach it; false sends every op through bd in the runner.',
    apply: (c, v) => {
      c.beadsDirectReads = parseBool(v);
    },
  },
  {
    key: 'beads_fast_writes',
    env: ['GC_K8S_BEADS_FAST_WRITES'],
    default: 'true',
    doc: "Answer create, update, set-metadata and close inside the runner's long-lived gc-bd-serve (beads' own storage code, no bd process per call) where the agent image has it; false runs bd for every op.",
    apply: (c, v) => {
      c.beadsFastWrites = parseBool(v);
    },
  },
  {
    key: 'events_max_age',
    env: ['GC_K8S_EVENTS_MAX_AGE'],
    default: '0 (off)',
    doc: 'Prune events older than this (e.g. 168h).',
    apply: (c, v) => {
      c.eventsMaxAgeMs = parseDuration(v);
    },
  },
  {
    key: 'events_max_count',
    env: ['GC_K8S_EVENTS_MAX_COUNT'],
    default: '0 (off)',
    doc: 'Keep at most this many events.',
    apply: (c, v) => {
      c.eventsMaxCount = parseInteger(v, 0, 10_000_000);
    },
  },
];

export function defaultConfig(): MutableConfig {
  return {
    pod: { ...DEFAULT_POD_SETTINGS },
    session: { ...DEFAULT_SESSION_OPTIONS },
    context: '',
    customTypes: parseList(DEFAULT_CUSTOM_TYPES),
    beadsDirectReads: true,
    beadsFastWrites: true,
    eventsMaxAgeMs: 0,
    eventsMaxCount: 0,
  };
}
