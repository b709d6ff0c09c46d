// Finding a session's pod in the watch cache, for pods made by us, by Gas City's native provider
// and by its bash script alike: the raw name in the `gc-session-name` annotation wins; pods
// without it fall back to the upstream `gc-session` label.

import type { Pod } from '../kube/types.js';
import {
  ANNOTATION_ENTRYPOINT,
  ANNOTATION_MODE,
  ANNOTATION_SESSION_NAME,
  AGENT_CONTAINER,
  LABEL_SESSION,
  MODE_PROVISIONED,
} from './manifest.js';
import { TMUX_SESSION, tmuxFor } from './tmux/args.js';
import { upstreamLabelValue } from './names.js';

export function sessionNameOf(pod: Pod): string | undefined {
  return pod.annotations[ANNOTATION_SESSION_NAME] ?? pod.labels[LABEL_SESSION];
}

export function podsOfSession(pods: Iterable<Pod>, name: string): Pod[] {
  const label = upstreamLabelValue(name);
  const out: Pod[] = [];
  for (const pod of pods) {
    const annotated = pod.annotations[ANNOTATION_SESSION_NAME];
    if (annotated !== undefined ? annotated === name : pod.labels[LABEL_SESSION] === label) out.push(pod);
  }
  return out;
}

/** Pods started by gc-k8s run an entrypoint that exits with tmux: their phase tells liveness. */
export function hasTrackedEntrypoint(pod: Pod): boolean {
  return pod.annotations[ANNOTATION_ENTRYPOINT] !== undefined;
}

/** A box from `provision`: its agent (and tmux session) is gc's to launch. */
export function isProvisioned(pod: Pod): boolean {
  return pod.annotations[ANNOTATION_MODE] === MODE_PROVISIONED;
}

/** The tmux session a pod's ops target: `main`, or in a provisioned box the one gc made. */
export function tmuxTarget(pod: Pod): string | undefined {
  return isProvisioned(pod) ? undefined : TMUX_SESSION;
}

/** The tmux argv builders for a pod's session. */
export function tmuxOf(pod: Pod): ReturnType<typeof tmuxFor> {
  return tmuxFor(tmuxTarget(pod));
}

export type SessionState =
  | { readonly kind: 'absent' }
  | { readonly kind: 'terminating'; readonly pod: Pod }
  | { readonly kind: 'pending'; readonly pod: Pod }
  | { readonly kind: 'running'; readonly pod: Pod }
  | { readonly kind: 'completed'; readonly pod: Pod };

export function classifyPod(pod: Pod): SessionState {
  if (pod.deletionTimestamp !== undefined) return { kind: 'terminating', pod };
  if (pod.phase === 'Succeeded' || pod.phase === 'Failed') return { kind: 'completed', pod };
  const agent = pod.containers.find((c) => c.name === AGENT_CONTAINER);
  if (pod.phase === 'Running' && agent?.state === 'running') return { kind: 'running', pod };
  if (pod.phase === 'Running' && agent?.state === 'terminated') return { kind: 'completed', pod };
  return { kind: 'pending', pod };
}

/** The state of the session: a live pod wins over completed or terminating leftovers. */
export function sessionState(pods: readonly Pod[]): SessionState {
  const rank = { running: 4, pending: 3, completed: 2, terminating: 1, absent: 0 } as const;
  let best: SessionState = { kind: 'absent' };
  for (const pod of pods) {
    const state = classifyPod(pod);
    if (rank[state.kind] > rank[best.kind]) best = state;
  }
  return best;
}

export function podAgeMs(pod: Pod, now: number): number {
  const created = Date.parse(pod.creationTimestamp);
  return Number.isFinite(created) ? now - created : 0;
}

/**
 * How a completed pod ended: its agent container's reason (OOMKilled, Error, Completed…) and exit
 * status, or, when the container says nothing, the pod's own reason (Evicted, DeadlineExceeded), if any.
 */
export function howItEnded(pod: Pod): { readonly reason?: string; readonly exitCode?: number } {
  const agent = pod.containers.find((c) => c.name === AGENT_CONTAINER);
  if (agent?.state === 'terminated')
    return { reason: agent.reason ?? 'Error', ...(agent.exitCode === undefined ? {} : { exitCode: agent.exitCode }) };
  return pod.reason === undefined ? {} : { reason: pod.reason };
}
