// How many of a namespace's agent pods are in each phase of a session's life, for the daemon's
// metrics: starting, running, ended (exit 0), failed (any other end), stopping, and idle warm pods.
// Pure: it reads the pods the watch cache holds.

import type { Pod } from '../kube/types.js';
import { classifyPod, howItEnded, sessionNameOf } from './lookup.js';
import { isWarmIdle } from './warm.js';

export const SESSION_PHASES = ['starting', 'running', 'ended', 'failed', 'stopping', 'warm'] as const;
export type SessionPhase = (typeof SESSION_PHASES)[number];

export function phaseOf(pod: Pod): SessionPhase {
  const kind = classifyPod(pod).kind;
  if (kind === 'terminating') return 'stopping';
  if (isWarmIdle(pod)) return 'warm';
  if (kind === 'running') return 'running';
  if (kind === 'pending') return 'starting';
  const end = howItEnded(pod);
  return end.exitCode === 0 && (end.reason === undefined || end.reason === 'Completed') ? 'ended' : 'failed';
}

/** Every phase with its count (zeros included, so a series drops to 0 rather than vanishing). */
export function phaseCounts(pods: Iterable<Pod>): Record<SessionPhase, number> {
  const out = Object.fromEntries(SESSION_PHASES.map((p) => [p, 0])) as Record<SessionPhase, number>;
  for (const pod of pods) out[phaseOf(pod)]++;
  return out;
}

/** Each session's phase by name (warm pods have none), for cities small enough to label by session. */
export function sessionPhases(pods: Iterable<Pod>): { readonly session: string; readonly phase: SessionPhase }[] {
  const out: { session: string; phase: SessionPhase }[] = [];
  for (const pod of pods) {
    const session = sessionNameOf(pod);
    if (session !== undefined && !isWarmIdle(pod)) out.push({ session, phase: phaseOf(pod) });
  }
  return out;
}
