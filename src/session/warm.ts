// Pure builders for warm pods (`warm_pool` in [session.k8s]): the pod a pool keeps ready for a
// city, the key that says which sessions may take it, why a session may not (then it starts
// cold), the labels and annotations a claim writes, and the argv of the claim's commands.
//
// A warm pod is a session pod without a session: the same image, resources, volumes, service
// account, security and scheduling as a pod started for one of the city's sessions, with no
// session env and no agent. Pod env and volumes are fixed when a pod is made, so what is
// per-session reaches the agent through the claim instead: plain variables as the tmux server's
// environment and the session's tmux env (`-e`), exactly as a started pod's container env and
// entrypoint give them; credentials never (a session with credentials starts cold: they reach a
// pod only by reference to a Secret made for that pod). A warm pod is used by one session only,
// and deleted with it: nothing of one session reaches another.

import type { Pod, PodManifest } from '../kube/types.js';
import { shortHash } from '../util/hash.js';
import { ANNOTATION_COMPAT } from './compat.js';
import { ENTRY_ENV, ENTRYPOINT_VERSION, WARM_LAUNCH_SCRIPT } from './entrypoint.js';
import { buildPodEnv } from './env.js';
import {
  ANNOTATION_CITY,
  ANNOTATION_ENTRYPOINT,
  buildAgentSession,
  credentialsSecretName,
  MANAGED_BY,
  serviceAccountFor,
  type AgentSession,
  type StartMode,
} from './manifest.js';
import { controllerCityPath, podWorkDir, rewriteCityPath } from './paths.js';
import { parseStartRequest, type StartRequest } from './request.js';
import type { PodSettings } from './settings.js';

/** "idle" in the pool, "claimed" once a start took it */
export const LABEL_WARM = 'gc-k8s.io/warm';
/** the pool (warmKey) a warm pod was made for */
export const LABEL_POOL = 'gc-k8s.io/pool';
export const WARM_IDLE = 'idle';
export const WARM_CLAIMED = 'claimed';

const INTERNAL = new Set<string>(Object.values(ENTRY_ENV));

/** The city's warm pod; `key` names its pool (a digest of its spec, so any setting that shapes it is in it). */
export function buildWarmPod(settings: PodSettings, cityDir: string, suffix: string): { pod: PodManifest; key: string } {
  const req: StartRequest = { ...parseStartRequest(''), env: cityDir === '' ? {} : { GC_CITY_PATH: cityDir } };

  const base = buildAgentSession('warm', req, settings).pod;
  const container = base.spec.containers[0];
  if (container === undefined) throw new Error('buildWarmPod: no container');
  // container-wide: the platform's env and the Secret references every session may have; the
  // session's own values come with the claim
  const env = [
    ...(container.env ?? []).filter((e) => !INTERNAL.has(e.name) && (e.valueFrom !== undefined || e.name in settings.agentEnv)),
    ...['GC_DOLT_PASSWORD', 'BEADS_DOLT_PASSWORD'].map((name) => ({
      name,
      valueFrom: { secretKeyRef: { name: settings.doltSecret, key: 'password', optional: true } },
    })),
    { name: ENTRY_ENV.warm, value: '1' },
    { name: ENTRY_ENV.historyLimit, value: String(settings.historyLimit) },
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const spec = { ...base.spec, containers: [{ ...container, env, workingDir: '/workspace' }] };
  const key = shortHash(JSON.stringify(spec), 12);
  const pod: PodManifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `gc-warm-${key.slice(0, 8)}-${suffix}`,
      namespace: settings.namespace,
      labels: {
        app: 'gc-agent',
        [LABEL_WARM]: WARM_IDLE,
        [LABEL_POOL]: key,
        'app.kubernetes.io/managed-by': MANAGED_BY,
        'app.kubernetes.io/component': 'agent-session',
        'app.kubernetes.io/part-of': 'gas-city',
      },
      annotations: {
        [ANNOTATION_ENTRYPOINT]: ENTRYPOINT_VERSION,
        ...(cityDir === '' ? {} : { [ANNOTATION_CITY]: cityDir }),
        [ANNOTATION_COMPAT]: base.metadata.annotations?.[ANNOTATION_COMPAT] ?? '',
      },
    },
    spec,
  };
  return { pod, key };
}

/** The pool key of a city's warm pods. */
export function warmKey(settings: PodSettings, cityDir: string): string {
  return buildWarmPod(settings, cityDir, 'x').key;
}

export function isWarmIdle(pod: Pod): boolean {
  return pod.labels[LABEL_WARM] === WARM_IDLE;
}

/** Why this start cannot take a warm pod of `settings`'s pool (then it starts cold), or undefined. */
export function warmIneligibility(req: StartRequest, settings: PodSettings, session: AgentSession, mode: StartMode): string | undefined {
  if (settings.warmPool === 0) return 'no warm pool (warm_pool = 0)';
  if (mode !== 'start') return 'provision makes its own box';
  if (req.lifecycle === 'one_shot') return 'a one_shot task (it runs as a Job)';
  if (settings.workload === 'job') return 'it runs as a Job (workload = "job")';
  if (settings.profileName !== '') return `its profile "${settings.profileName}" makes another pod than the pool's`;
  if (settings.workspace !== 'ephemeral')
    return `its workspace is a claim of its own (workspace = "${settings.workspace}"; a pod's volumes are fixed when it is made)`;
  if (session.credentials !== undefined) return 'it carries credentials (they reach a pod only from a Secret made for that pod)';
  if (serviceAccountFor(settings, req.env) !== settings.serviceAccount) return 'its service account is not the pool’s';
  return undefined;
}

/** What a claim runs in the warm pod: pre_start commands, then the launch; every value an argv element. */
export interface WarmLaunch {
  readonly preStart: readonly (readonly string[])[];
  readonly launch: readonly string[];
  readonly workDir: string;
}

/** `settleMs`: settle inside the launch (one exec less), or undefined to settle later (after session_setup). */
export function warmLaunch(req: StartRequest, settings: PodSettings, podName: string, settleMs?: number): WarmLaunch {
  const city = controllerCityPath(req.env);
  const workDir = podWorkDir(req.workDir, city);
  const { env, sessionEnvKeys } = buildPodEnv({ ...settings.agentEnv, ...req.env }, req.workDir, settings, credentialsSecretName(podName));
  const plain = env.filter((e) => e.value !== undefined).map((e) => `${e.name}=${e.value ?? ''}`);
  const referenced = new Set(env.filter((e) => e.valueFrom !== undefined).map((e) => e.name));
  // container-wide references this session's pod would not have
  const drop = ['GC_DOLT_PASSWORD', 'BEADS_DOLT_PASSWORD', 'GITHUB_TOKEN'].filter((n) => !referenced.has(n));
  const values = new Map(env.map((e) => [e.name, e.value]));
  const tmuxEnv = sessionEnvKeys.flatMap((k) => ['-e', `${k}=${values.get(k) ?? ''}`]);
  const unset = drop.flatMap((n) => ['-u', n]);
  const command = rewriteCityPath(req.command === '' ? '/bin/bash' : req.command, city);
  // env(1) sets the session's variables for what follows, as a started pod's container env would
  const inSession = (argv: readonly string[]): string[] => ['env', ...unset, '--', ...plain, ...argv];
  return {
    workDir,
    preStart: req.preStart.map((cmd) =>
      inSession(['sh', '-c', 'mkdir -p -- "$1" && cd -- "$1" && exec sh -c "$2"', 'sh', workDir, rewriteCityPath(cmd, city)]),
    ),
    launch: inSession([
      'sh',
      '-c',
      WARM_LAUNCH_SCRIPT,
      'sh',
      command,
      String(settings.historyLimit),
      workDir,
      drop.join(' '),
      settleMs === undefined ? '-' : (settleMs / 1000).toFixed(3),
      ...tmuxEnv,
    ]),
  };
}

/** The labels and annotations that make a warm pod the session's pod (from the pod start would have made). */
export function claimChange(session: PodManifest): { labels: Record<string, string | null>; annotations: Record<string, string | null> } {
  // the warm pod's own summary stays: it describes the pod as it is
  const annotations = Object.fromEntries(Object.entries(session.metadata.annotations ?? {}).filter(([k]) => k !== ANNOTATION_COMPAT));
  return { labels: { ...(session.metadata.labels ?? {}), [LABEL_WARM]: WARM_CLAIMED }, annotations };
}
