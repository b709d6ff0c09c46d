// Rolling back what a cancelled start may have done on the server although its call failed.

import { ANNOTATION_START_RID } from './manifest.js';
import type { PodManifest } from '../kube/types.js';
import type { SessionPods } from './pods.js';

/**
 * A create or a warm claim cancelled in flight (gc gave up on the call) may still have made or
 * taken the pod: find it by the start token the call put on it, and delete it, so nothing is left
 * that gc believes was never started.
 */
export async function removeIfOurs(pods: SessionPods, manifest: PodManifest, podName = manifest.metadata.name): Promise<void> {
  const token = manifest.metadata.annotations?.[ANNOTATION_START_RID];
  if (token === undefined) return;
  const signal = pods.cleanupSignal();
  try {
    const made = await pods.deps.client.pods.get(podName, { signal });
    if (made?.annotations[ANNOTATION_START_RID] !== token) return;
    pods.deps.log.info({ pod: made.name }, 'deleting the pod of a start its caller cancelled');
    await pods.deleteAndWait(made, signal);
  } catch (err) {
    pods.deps.log.warn({ err, pod: manifest.metadata.name }, 'could not remove the pod of a cancelled start (the sweep will)');
  }
}
