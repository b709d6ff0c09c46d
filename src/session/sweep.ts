// Pods of starts nobody will finish: a daemon killed during start leaves a pod whose
// start-pending annotation never clears, and with gc's retry going elsewhere (or autostart off)
// no request ever comes back for it. Such a pod, older than any start may take, with no start of
// its session running here and no live session in it, is removed, so a half-made session never
// lingers as an orphan. A live one (tmux came up before the daemon died) is a session gc can see
// in list-running and stop as it stops any orphan; a start retried with its request id finishes it.

import type { Pod } from '../kube/types.js';
import { ANNOTATION_START_PENDING } from './manifest.js';
import { podAgeMs, sessionNameOf } from './lookup.js';

/** Older than this, a pod whose start has not finished belongs to no start (gc gives a start 120 s). */
export const ABANDONED_START_AGE_MS = 5 * 60_000;

/**
 * Candidates: pods whose bring-up never finished, old enough, and not being started here. A
 * candidate whose container runs may still hold a live session: the caller asks tmux first.
 */
export function abandonedStarts(
  pods: Iterable<Pod>,
  now: number,
  busy: (session: string) => boolean,
  maxAgeMs = ABANDONED_START_AGE_MS,
): Pod[] {
  const out: Pod[] = [];
  for (const pod of pods) {
    if (pod.annotations[ANNOTATION_START_PENDING]?.includes('start') !== true || pod.deletionTimestamp !== undefined) continue;
    const session = sessionNameOf(pod);
    if (session === undefined || busy(session)) continue;
    if (podAgeMs(pod, now) > maxAgeMs) out.push(pod);
  }
  return out;
}
