// Explains why a pod is not (yet) running, from its status and its Events — the answer a user
// wants instead of "timeout": FailedScheduling, ErrImagePull, a failed pre_start, OOMKilled…

import type { ClusterEvent, ContainerStateSummary, Pod } from './k8s-types.js';

/** Waiting reasons that will not resolve by themselves: start fails at once instead of timing out. */
const FATAL_WAITING = new Set([
  'InvalidImageName',
  'ErrImageNeverPull',
  'ImagePullBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'CrashLoopBackOff',
  'RunContainerError',
]);

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

/** A reason that makes waiting pointless, or undefined while the pod may still come up. */
export function fatalReason(pod: Pod): string | undefined {
  if (pod.deletionTimestamp !== undefined) return 'pod is being deleted';
  for (const c of [...pod.initContainers, ...pod.containers]) {
    if (c.state === 'waiting' && c.reason !== undefined && FATAL_WAITING.has(c.reason)) {
      return describeContainer(c, 'container');
    }
  }
  if (pod.phase === 'Failed' || pod.phase === 'Succeeded') {
    const c = pod.containers.find((x) => x.state === 'terminated');
    return c === undefined ? `pod ${pod.phase}` : describeContainer(c, 'container');
  }
  return undefined;
}

/** One line that says what the pod is waiting for, with the most telling details first. */
export function describePodProblem(pod: Pod | undefined, events: readonly ClusterEvent[]): string {
  if (pod === undefined) return 'pod does not exist';
  const parts: string[] = [`phase ${pod.phase}`];
  for (const c of [...pod.initContainers.map((x) => ['init container', x] as const), ...pod.containers.map((x) => ['container', x] as const)]) {
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
