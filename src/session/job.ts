// Sessions that run as a batch/v1 Job (gc 1.x's one_shot tasks, or every session of a city with
// workload = "job"): the Job wraps the very pod a start would make, so tmux, peek, nudge and
// `kubectl exec … tmux attach` work the same. The Job never retries (backoffLimit 0: a task that
// failed is reported, not run twice), Kubernetes deletes it job_ttl after it ended and ends it at
// job_deadline; stop deletes it with its pod. Its name is the pod name a start would use, so the
// credentials Secret (<name>-credentials, owned by the Job) and admission match either way.

import type { JobManifest, Pod, PodManifest } from '../kube/types.js';
import type { StartRequest } from './request.js';
import type { PodSettings } from './settings.js';
import type { StartMode } from './manifest.js';

/** "job" on a Job-run session's Job and pod (gc-k8s sessions shows it) */
const ANNOTATION_WORKLOAD = 'gc-k8s.io/workload';

export function runsAsJob(req: StartRequest, settings: PodSettings, mode: StartMode): boolean {
  return settings.workload === 'job' || (mode === 'start' && req.lifecycle === 'one_shot');
}

/** The Job around a session's finished pod manifest (start annotations included). */
export function buildJob(pod: PodManifest, settings: PodSettings): JobManifest {
  const labels = { ...(pod.metadata.labels ?? {}) };
  const annotations = { ...(pod.metadata.annotations ?? {}), [ANNOTATION_WORKLOAD]: 'job' };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: pod.metadata.name,
      ...(pod.metadata.namespace === undefined ? {} : { namespace: pod.metadata.namespace }),
      labels,
      annotations,
    },
    spec: {
      backoffLimit: 0,
      ...(settings.jobTtlSeconds === undefined ? {} : { ttlSecondsAfterFinished: settings.jobTtlSeconds }),
      ...(settings.jobDeadlineSeconds === undefined ? {} : { activeDeadlineSeconds: settings.jobDeadlineSeconds }),
      template: { metadata: { labels, annotations }, spec: { ...pod.spec, restartPolicy: 'Never' } },
    },
  };
}

/** The Job that controls a pod, if one does. */
export function jobOf(pod: Pod): { readonly name: string; readonly uid: string } | undefined {
  return pod.controller?.kind === 'Job' ? { name: pod.controller.name, uid: pod.controller.uid } : undefined;
}
