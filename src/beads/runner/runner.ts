// Keeps the singleton runner pod up: create it when missing, replace it when it failed, is being
// deleted or was built from other settings, and wait until its container is ready. A runner
// that cannot come up (bad image, quota) fails the call at once with the pod's own reason.

import { describePodProblem, fatalReason } from '../../session/diagnose.js';
import type { Pod } from '../../kube/types.js';
import type { PodSettings } from '../../session/settings.js';
import type { Clock, PodApi } from '../../kube/ports.js';
import { GcK8sError, hasCode, messageOf } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { RUNNER_POD, runnerManifest, SPEC_ANNOTATION } from './manifest.js';

export function isRunnerReady(pod: Pod | undefined): boolean {
  return (
    pod !== undefined &&
    pod.deletionTimestamp === undefined &&
    pod.phase === 'Running' &&
    pod.containers.length > 0 &&
    pod.containers.every((c) => c.ready && c.state === 'running')
  );
}

export interface RunnerDeps {
  readonly pods: PodApi;
  readonly settings: PodSettings;
  readonly clock: Clock;
  readonly log: Logger;
}

export class Runner {
  constructor(private readonly deps: RunnerDeps) {}

  get(signal: AbortSignal): Promise<Pod | undefined> {
    return this.deps.pods.get(RUNNER_POD, { signal });
  }

  /** Returns the ready runner, creating or replacing it as needed. */
  async ensure(signal: AbortSignal): Promise<Pod> {
    const { pods, settings, clock, log } = this.deps;
    if (settings.image === '') throw new GcK8sError('CONFIG_INVALID', 'beads runner: GC_K8S_IMAGE (or [session.k8s] image) is required');
    const manifest = runnerManifest(settings);
    const wanted = manifest.metadata.annotations?.[SPEC_ANNOTATION];
    let delay = 100;
    for (;;) {
      const pod = await pods.get(RUNNER_POD, { signal });
      if (pod === undefined) {
        try {
          log.info({ pod: RUNNER_POD }, 'creating beads runner');
          await pods.create(manifest, { signal });
        } catch (err) {
          if (!hasCode(err, 'ALREADY_EXISTS'))
            throw new GcK8sError(hasCode(err) ? err.code : 'START_FAILED', `creating beads runner: ${messageOf(err)}`, { cause: err });
        }
      } else if (pod.deletionTimestamp !== undefined) {
        // Someone is deleting it: wait until it is gone, then create a new one.
      } else if (pod.annotations[SPEC_ANNOTATION] !== wanted || pod.phase === 'Failed' || pod.phase === 'Succeeded') {
        log.info({ pod: RUNNER_POD, phase: pod.phase }, 'replacing beads runner');
        await pods.delete(RUNNER_POD, { signal, uid: pod.uid, gracePeriodSeconds: 0 });
      } else if (isRunnerReady(pod)) {
        return pod;
      } else {
        const fatal = fatalReason(pod);
        if (fatal !== undefined) {
          const events = await pods.events(RUNNER_POD, { signal }).catch(() => []);
          throw new GcK8sError('START_FAILED', `beads runner ${RUNNER_POD} cannot start: ${describePodProblem(pod, events)}`);
        }
      }
      await clock.sleep(delay, signal);
      delay = Math.min(delay * 2, 1000);
    }
  }

  /** Deletes the runner; true when there was one. */
  async delete(signal: AbortSignal): Promise<boolean> {
    return this.deps.pods.delete(RUNNER_POD, { signal, gracePeriodSeconds: 0 });
  }
}
