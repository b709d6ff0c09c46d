// Pure builder for an agent session pod. Same labels, annotation, container name and tmux
// session as Gas City's native provider and bash script, so either can operate our pods and we
// theirs; hardened defaults (no service-account token, restricted security context, fast
// termination) on top.

import { buildPodEnv } from './env.js';
import { ENTRY_ENV, ENTRYPOINT_SCRIPT, ENTRYPOINT_VERSION, STAGED_FILE } from './entrypoint.js';
import type {
  Container,
  EnvVar,
  PodManifest,
  ResourceRequirements,
  SecretManifest,
  SecurityContext,
  Volume,
  VolumeMount,
} from '../kube/types.js';
import { podNameFor, sessionLabelValue, upstreamLabelValue } from './names.js';
import { controllerCityPath, podWorkDir, rewriteCityPath, WORKSPACE } from './paths.js';
import { ANNOTATION_COMPAT, compatAnnotation } from './compat.js';
import { restrictedPodSecurity } from './security.js';
import { workspaceVolume } from './workspace.js';
import type { PodSettings } from './settings.js';
import type { StartRequest } from './request.js';

const LABEL_APP = 'app';
export const APP_AGENT = 'gc-agent';
export const LABEL_SESSION = 'gc-session';
/** unique per session name (a digest of it), for selecting one session's pod with a label selector */
const LABEL_SESSION_ID = 'gc-k8s.io/session';
const LABEL_AGENT = 'gc-agent';
export const ANNOTATION_SESSION_NAME = 'gc-session-name';
const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'gc-k8s';
export const ANNOTATION_ENTRYPOINT = 'gc-k8s.io/entrypoint';
/** the city directory whose settings started the session: later calls with no city use it */
export const ANNOTATION_CITY = 'gc-k8s.io/city';
/** digest of the pod settings the session started with (Config.fingerprint) */
const ANNOTATION_SETTINGS = 'gc-k8s.io/settings';
/** the request id of the start that made the pod (a client retries a dropped start with it) */
export const ANNOTATION_START_RID = 'gc-k8s.io/start-rid';
/** what the start still has to do ("start", "nudge"); absent once it finished */
export const ANNOTATION_START_PENDING = 'gc-k8s.io/start-pending';
export const AGENT_CONTAINER = 'agent';
/** "one_shot": the session is a task that ends with its command; its pod is kept until stop */
export const ANNOTATION_LIFECYCLE = 'gc-k8s.io/lifecycle';
/** "provisioned": the box is up but the agent is gc's to launch (through exec); absent for a start */
export const ANNOTATION_MODE = 'gc-k8s.io/mode';
export const MODE_PROVISIONED = 'provisioned';
/** the profile the session's pod was made with (profile_map), absent for the city's defaults */
const ANNOTATION_PROFILE = 'gc-k8s.io/profile';
/** on a pod started cold although its city keeps a warm pool: why */
export const ANNOTATION_STARTED_COLD = 'gc-k8s.io/started-cold';

/** How a session's pod comes up: with its agent (start), or without (provision: gc launches it). */
export type StartMode = 'start' | 'provision';

/** Staging is needed when the start request has files for the pod and the image is not prebaked. */
export function needsStaging(req: StartRequest, settings: PodSettings): boolean {
  // a prebaked image or a workspace claim already holds the workspace
  if (settings.prebaked || settings.workspacePvc !== '') return false;
  const city = controllerCityPath(req.env);
  const stagedWorkDir = city !== '' && req.workDir !== '' && req.workDir !== city;
  return stagedWorkDir || req.overlayDir !== '' || req.packOverlayDirs.length > 0 || req.copyFiles.length > 0;
}

function containerSecurity(settings: PodSettings): SecurityContext | undefined {
  if (settings.podSecurity === 'none') return undefined;
  const base: SecurityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
  return settings.podSecurity === 'restricted' ? { ...base, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } : base;
}

/** Where a session's settings came from, recorded on its pod. */
export interface SessionOrigin {
  /** city directory, or '' when no city was found */
  readonly cityDir: string;
  readonly fingerprint: string;
}

/** Scheduling gate of a pod whose credentials Secret is not there yet (removed once it is). */
export const CREDENTIALS_GATE = 'gc-k8s.io/credentials';

/** The Secret holding a session's credentials: named after its pod, owned by it. */
export function credentialsSecretName(podName: string): string {
  return `${podName}-credentials`;
}

export interface AgentSession {
  readonly pod: PodManifest;
  /** the credentials Secret to create once the pod exists (it is gated until then), if any */
  readonly credentials?: SecretManifest;
}

/** The Secret of a session's credentials, to be created owned by its pod (pod uid). */
export function buildCredentialsSecret(
  podName: string,
  sessionName: string,
  values: Readonly<Record<string, string>>,
  owner?: { uid: string },
): SecretManifest {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(values).sort(([a], [b]) => (a < b ? -1 : 1))) data[k] = Buffer.from(v, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    immutable: true,
    metadata: {
      name: credentialsSecretName(podName),
      labels: {
        [LABEL_MANAGED_BY]: MANAGED_BY,
        [LABEL_SESSION_ID]: sessionLabelValue(sessionName),
        'app.kubernetes.io/component': 'agent-credentials',
        'app.kubernetes.io/part-of': 'gas-city',
      },
      // deleted with its pod by Kubernetes' garbage collector, whoever deletes the pod
      ...(owner === undefined
        ? {}
        : { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: podName, uid: owner.uid, blockOwnerDeletion: false }] }),
    },
    data,
  };
}

/** Requests and limits; a quantity set to `none` ('') is left out for the namespace's LimitRange to fill. */
function resourcesOf(settings: PodSettings): ResourceRequirements {
  const pick = (cpu: string, memory: string): Record<string, string> | undefined => {
    const out = { ...(cpu === '' ? {} : { cpu }), ...(memory === '' ? {} : { memory }) };
    return Object.keys(out).length === 0 ? undefined : out;
  };
  const requests = pick(settings.cpuRequest, settings.memRequest);
  const limits = pick(settings.cpuLimit, settings.memLimit);
  return { ...(requests === undefined ? {} : { requests }), ...(limits === undefined ? {} : { limits }) };
}

/** The agent's service account: the map's entry for its alias, name or last name segment, then "*", then the default. */
export function serviceAccountFor(settings: PodSettings, env: Readonly<Record<string, string>>): string {
  const map = settings.serviceAccountMap;
  const name = env['GC_AGENT'] ?? '';
  for (const key of [env['GC_ALIAS'] ?? '', name, name.split('/').pop() ?? '', '*']) {
    const sa = key === '' ? undefined : map[key];
    if (sa !== undefined) return sa;
  }
  return settings.serviceAccount;
}

export function buildAgentPod(sessionName: string, req: StartRequest, settings: PodSettings, origin?: SessionOrigin): PodManifest {
  return buildAgentSession(sessionName, req, settings, origin).pod;
}

export function buildAgentSession(
  sessionName: string,
  req: StartRequest,
  settings: PodSettings,
  origin?: SessionOrigin,
  mode: StartMode = 'start',
): AgentSession {
  const city = controllerCityPath(req.env);
  const workDir = podWorkDir(req.workDir, city);
  const podName = podNameFor(sessionName);
  // the platform's env for every agent pod, under the session's own
  const { env, sessionEnvKeys, credentials } = buildPodEnv(
    { ...settings.agentEnv, ...req.env },
    req.workDir,
    settings,
    credentialsSecretName(podName),
  );
  const gated = Object.keys(credentials).length > 0;
  const staging = needsStaging(req, settings);

  const internal: EnvVar[] = [
    { name: ENTRY_ENV.command, value: rewriteCityPath(req.command === '' ? '/bin/bash' : req.command, city) },
    { name: ENTRY_ENV.sessionEnv, value: sessionEnvKeys.join(' ') },
    { name: ENTRY_ENV.preStartCount, value: String(req.preStart.length) },
    { name: ENTRY_ENV.historyLimit, value: String(settings.historyLimit) },
    ...req.preStart.map((cmd, i) => ({ name: `${ENTRY_ENV.preStartPrefix}${i + 1}`, value: rewriteCityPath(cmd, city) })),
  ];
  if (staging) internal.push({ name: ENTRY_ENV.waitWorkspace, value: STAGED_FILE });
  if (mode === 'provision') internal.push({ name: ENTRY_ENV.provision, value: '1' });

  const volumes: Volume[] = [{ name: 'claude-config', secret: { secretName: 'claude-credentials', optional: true } }];
  const mounts: VolumeMount[] = [{ name: 'claude-config', mountPath: '/tmp/claude-secret', readOnly: true }];
  settings.secretFiles.forEach((f, i) => {
    const name = `secret-file-${i}`;
    volumes.push({ name, secret: { secretName: f.secret, ...(f.key === undefined ? {} : { items: [{ key: f.key, path: f.key }] }) } });
    mounts.push({ name, mountPath: f.mountPath, readOnly: true, ...(f.key === undefined ? {} : { subPath: f.key }) });
  });
  const kept = workspaceVolume(sessionName, settings);
  if (settings.workspacePvc !== '') {
    volumes.unshift({ name: 'ws', persistentVolumeClaim: { claimName: settings.workspacePvc } });
    mounts.unshift({ name: 'ws', mountPath: WORKSPACE });
  } else if (!settings.prebaked) {
    volumes.unshift(kept?.volume ?? { name: 'ws', emptyDir: {} });
    mounts.unshift(kept?.mount ?? { name: 'ws', mountPath: WORKSPACE });
    // Agents may still reference the controller's absolute city path (templates expand to it).
    if (city !== '' && city !== req.workDir && city !== '/' && !city.startsWith(WORKSPACE)) {
      volumes.push({ name: 'city', emptyDir: {} });
      mounts.push({ name: 'city', mountPath: city });
    }
  }

  const security = containerSecurity(settings);
  const container: Container = {
    name: AGENT_CONTAINER,
    image: settings.image,
    imagePullPolicy: settings.imagePullPolicy,
    command: ['/bin/sh', '-c', ENTRYPOINT_SCRIPT],
    workingDir: workDir,
    env: [...env, ...internal],
    stdin: true,
    tty: true,
    resources: resourcesOf(settings),
    volumeMounts: mounts,
    ...(security === undefined ? {} : { securityContext: security }),
  };

  const agent = req.env['GC_ALIAS'] || req.env['GC_AGENT'] || 'unknown';
  const serviceAccount = serviceAccountFor(settings, req.env);
  const pod: PodManifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName,
      namespace: settings.namespace,
      labels: {
        [LABEL_APP]: APP_AGENT,
        [LABEL_SESSION]: upstreamLabelValue(sessionName),
        [LABEL_SESSION_ID]: sessionLabelValue(sessionName),
        [LABEL_AGENT]: upstreamLabelValue(agent),
        [LABEL_MANAGED_BY]: MANAGED_BY,
        'app.kubernetes.io/component': 'agent-session',
        'app.kubernetes.io/part-of': 'gas-city',
      },
      annotations: {
        [ANNOTATION_SESSION_NAME]: sessionName,
        [ANNOTATION_ENTRYPOINT]: ENTRYPOINT_VERSION,
        ...(mode === 'provision' ? { [ANNOTATION_MODE]: MODE_PROVISIONED } : {}),
        ...(req.lifecycle === 'one_shot' ? { [ANNOTATION_LIFECYCLE]: 'one_shot' } : {}),
        ...(settings.profileName === '' ? {} : { [ANNOTATION_PROFILE]: settings.profileName }),
        ...(origin === undefined || origin.cityDir === '' ? {} : { [ANNOTATION_CITY]: origin.cityDir }),
        ...(origin === undefined ? {} : { [ANNOTATION_SETTINGS]: origin.fingerprint }),
      },
    },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: settings.terminationGracePeriodSeconds,
      ...(serviceAccount === '' ? {} : { serviceAccountName: serviceAccount }),
      ...(Object.keys(settings.nodeSelector).length === 0 ? {} : { nodeSelector: { ...settings.nodeSelector } }),
      ...(settings.tolerations === undefined ? {} : { tolerations: settings.tolerations }),
      ...(settings.affinity === undefined ? {} : { affinity: settings.affinity }),
      ...(settings.priorityClassName === '' ? {} : { priorityClassName: settings.priorityClassName }),
      ...(settings.imagePullSecret === '' ? {} : { imagePullSecrets: [{ name: settings.imagePullSecret }] }),
      ...(settings.podSecurity === 'restricted' ? { securityContext: restrictedPodSecurity(settings) } : {}),
      ...(kept?.init === undefined
        ? {}
        : {
            initContainers: [
              {
                ...kept.init,
                image: settings.image,
                imagePullPolicy: settings.imagePullPolicy,
                resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
                ...(security === undefined ? {} : { securityContext: security }),
              },
            ],
          }),
      containers: [container],
      volumes,
      // not scheduled until its credentials Secret exists (that Secret needs the pod's uid)
      ...(gated ? { schedulingGates: [{ name: CREDENTIALS_GATE }] } : {}),
    },
  };
  // computed from the finished spec, so it cannot disagree with what is created
  (pod.metadata.annotations ??= {})[ANNOTATION_COMPAT] = compatAnnotation(pod);
  return gated ? { pod, credentials: buildCredentialsSecret(podName, sessionName, credentials) } : { pod };
}
