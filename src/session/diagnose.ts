// Explains why a pod is not (yet) running, from its status and its Events — the answer a user
// wants instead of "timeout": FailedScheduling, ErrImagePull, a failed pre_start, OOMKilled…

import type { ClusterEvent, ContainerStateSummary, Pod } from '../kube/types.js';

/** Waiting reasons that will not resolve by themselves: start fails at once instead of timing out. */
const FATAL_WAITING = new Set([
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'CrashLoopBackOff',
  'RunContainerError',
]);

/** A CreateContainerConfigError the kubelet gets over by itself (a missing Secret is not one). */
const TRANSIENT_CONFIG = /failed to sync (secret|configmap) cache/i;

function describeContainer(c: ContainerStateSummary, kind: string): string | undefined {
  if (c.state === 'waiting' && c.reason !== undefined && c.reason !== 'ContainerCreating' && c.reason !== 'PodInitializing') {
    return `${kind} ${c.name} waiting: ${c.reason}${c.message ? ` (${c.message})` : ''}`;
  }
  if (c.state === 'terminated') {
    const msg = c.message?.trim();
    return `${kind} ${c.name} terminated: ${c.reason ?? 'Unknown'}, exit code ${c.exitCode ?? '?'}${msg ? ` (${msg})` : ''}`;
  }
  return undefined;
}

/**
 * Pull failures that another try cannot fix: the image or registry does not exist, the reference is
 * malformed, access is refused. Waiting for kubelet's back-off (ImagePullBackOff) only delays the
 * answer by 10-15 s. Timeouts, throttling and server errors may pass, and are waited for.
 */
const PERMANENT_PULL = [
  /not found/i,
  /manifest unknown/i,
  /repository does not exist/i,
  /pull access denied/i,
  /unauthorized/i,
  /authentication required/i,
  /denied/i,
  /invalid reference format/i,
  /no such host/i,
  /connection refused/i,
];
const TRANSIENT_PULL = [/timeout/i, /timed out/i, /too many requests/i, /\b5\d\d\b/, /temporar/i, /try again/i, /connection reset/i];

export function permanentPullFailure(message: string): boolean {
  return !TRANSIENT_PULL.some((re) => re.test(message)) && PERMANENT_PULL.some((re) => re.test(message));
}

/** What a wait has seen of a pod so far: kubelet's back-off message no longer says why a pull failed. */
export interface PullHistory {
  lastPullError?: string;
}

/**
 * A reason that makes waiting pointless, or undefined while the pod may still come up. A pull that
 * failed for a permanent cause fails at once; one that failed for a transient cause (timeout,
 * throttling) is waited for through kubelet's back-off, until the start deadline.
 */
export function fatalReason(pod: Pod, history: PullHistory = {}): string | undefined {
  if (pod.deletionTimestamp !== undefined) return 'pod is being deleted';
  for (const c of [...pod.initContainers, ...pod.containers]) {
    if (c.state !== 'waiting' || c.reason === undefined) continue;
    if (c.reason === 'ErrImagePull') history.lastPullError = c.message ?? '';
    const pull = c.reason === 'ErrImagePull' ? (c.message ?? '') : c.reason === 'ImagePullBackOff' ? history.lastPullError : undefined;
    // a back-off whose cause we never saw is treated as permanent, as before
    const permanentPull = pull === undefined ? c.reason === 'ImagePullBackOff' : permanentPullFailure(pull);
    // the kubelet's own Secret/ConfigMap watch not synced yet (a new namespace, a busy node): it retries
    if (c.reason === 'CreateContainerConfigError' && TRANSIENT_CONFIG.test(c.message ?? '')) continue;
    if (FATAL_WAITING.has(c.reason) || ((c.reason === 'ErrImagePull' || c.reason === 'ImagePullBackOff') && permanentPull)) {
      const d = describeContainer(c, 'container');
      return c.reason === 'ImagePullBackOff' && history.lastPullError !== undefined
        ? `${d ?? ''}; last pull error: ${history.lastPullError}`
        : d;
    }
  }
  if (pod.phase === 'Failed' || pod.phase === 'Succeeded') {
    const c = pod.containers.find((x) => x.state === 'terminated');
    return c === undefined ? `pod ${pod.phase}` : describeContainer(c, 'container');
  }
  return undefined;
}

/**
 * What kind of failure a pod that cannot start shows, for the daemon's start-failure counts: a
 * bounded word, never the message.
 */
export function failureKind(pod: Pod): 'ImagePull' | 'ContainerConfig' | 'DiedAtStart' | 'Other' {
  for (const c of [...pod.initContainers, ...pod.containers]) {
    if (c.state !== 'waiting') continue;
    if (
      c.reason === 'ErrImagePull' ||
      c.reason === 'ImagePullBackOff' ||
      c.reason === 'InvalidImageName' ||
      c.reason === 'ErrImageNeverPull'
    )
      return 'ImagePull';
    if (c.reason === 'CreateContainerConfigError' || c.reason === 'CreateContainerError') return 'ContainerConfig';
    if (c.reason === 'CrashLoopBackOff') return 'DiedAtStart';
  }
  if (pod.phase === 'Failed' || pod.phase === 'Succeeded' || pod.containers.some((c) => c.state === 'terminated')) return 'DiedAtStart';
  return 'Other';
}

/** The scheduler's reason when it has no room for the pod (CPU, memory, pod count), else undefined. */
export function capacityShortage(pod: Pod): string | undefined {
  const scheduled = pod.conditions.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status !== 'False' || scheduled.reason !== 'Unschedulable') return undefined;
  const message = scheduled.message ?? '';
  return /Insufficient (cpu|memory|pods|ephemeral-storage)|Too many pods/i.test(message) ? message : undefined;
}

/** One line that says what the pod is waiting for, with the most telling details first. */
export function describePodProblem(pod: Pod | undefined, events: readonly ClusterEvent[]): string {
  if (pod === undefined) return 'pod does not exist';
  const parts: string[] = [`phase ${pod.phase}`];
  for (const c of [
    ...pod.initContainers.map((x) => ['init container', x] as const),
    ...pod.containers.map((x) => ['container', x] as const),
  ]) {
    const d = describeContainer(c[1], c[0]);
    if (d !== undefined) parts.push(d);
  }
  const scheduled = pod.conditions.find((c) => c.type === 'PodScheduled');
  if (scheduled !== undefined && scheduled.status === 'False') {
    parts.push(`not scheduled: ${scheduled.reason ?? ''}${scheduled.message ? ` (${scheduled.message})` : ''}`);
  }
  const warnings = events.filter((e) => e.type === 'Warning');
  const seen = new Set<string>();
  for (const e of warnings.slice().reverse()) {
    const key = `${e.reason}:${e.message}`;
    if (seen.has(key) || seen.size >= 3) continue;
    seen.add(key);
    parts.push(`${e.reason}: ${e.message}${e.count > 1 ? ` (x${e.count})` : ''}`);
  }
  if (warnings.length === 0 && events.length > 0) {
    const last = events[events.length - 1];
    if (last !== undefined) parts.push(`last event ${last.reason}: ${last.message}`);
  }
  return parts.join('; ');
}
