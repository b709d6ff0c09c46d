// The start of a session that runs as a Job: create the Job (replacing a finished one of the
// same session), then wait for the pod its controller makes, which the start then brings up like
// any pod. A Job that cannot make its pod (quota, admission) fails the start with the reason the
// Job's events give; whatever fails, the Job this start made is deleted with its pod.

import { GcK8sError, hasCode, messageOf, quote } from '../errors.js';
import type { Job, JobManifest, Pod, PodManifest } from '../kube/types.js';
import { abortError } from '../util/abort.js';
import { buildJob } from './job.js';
import { ANNOTATION_SESSION_NAME, ANNOTATION_START_RID } from './manifest.js';
import type { SessionPods } from './pods.js';

/** How often the Job's events are read while its pod has not appeared. */
const EVENT_CHECK_MS = 1_000;

export async function createJobPod(pods: SessionPods, name: string, manifest: PodManifest, signal: AbortSignal): Promise<Pod> {
  const job = buildJob(manifest, pods.deps.settings);
  const made = await createJob(pods, name, job, signal);
  pods.deps.log.info({ session: name, job: made.name }, 'job created');
  try {
    return await waitForJobPod(pods, made, signal);
  } catch (err) {
    await pods.deps.client.jobs.delete(made.name, { uid: made.uid, signal: pods.cleanupSignal() }).catch((cleanupErr: unknown) => {
      pods.deps.log.error({ err: cleanupErr, job: made.name }, 'could not delete the job of a failed start');
    });
    throw err;
  }
}

async function createJob(pods: SessionPods, name: string, job: JobManifest, signal: AbortSignal): Promise<Job> {
  const { client } = pods.deps;
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.jobs.create(job, { signal });
    } catch (err) {
      if (signal.aborted) {
        await removeJobIfOurs(pods, job);
        throw err;
      }
      if (hasCode(err, 'QUOTA_EXCEEDED'))
        throw new GcK8sError('CAPACITY', `start: the namespace quota has no room for session ${quote(name)}: ${messageOf(err)}`, {
          details: { reason: 'Quota' },
          cause: err,
        });
      if (!hasCode(err, 'ALREADY_EXISTS') || attempt > 0) throw err;
      // The start cleared the session's pods first: a Job of this session still there has ended
      // (its pod deleted, or kept for its result until job_ttl) and gives way to this start.
      const old = await client.jobs.get(job.metadata.name, { signal });
      if (old === undefined) continue;
      const owner = old.annotations[ANNOTATION_SESSION_NAME];
      if (owner !== name)
        throw new GcK8sError(
          'START_FAILED',
          `start: job name ${old.name} is taken by ${owner === undefined ? 'another job' : `session ${quote(owner)}`}`,
          { cause: err },
        );
      pods.deps.log.info({ session: name, job: old.name, finished: old.finished ?? '(no)' }, 'replacing the job of an earlier run');
      await client.jobs.delete(old.name, { uid: old.uid, signal }).catch((e: unknown) => {
        if (!hasCode(e, 'CONFLICT')) throw e;
      });
      await gone(pods, old, signal);
    }
  }
}

/** Waits until the Job of that uid is no longer there (a Background delete removes it at once). */
async function gone(pods: SessionPods, job: Job, signal: AbortSignal): Promise<void> {
  for (;;) {
    const now = await pods.deps.client.jobs.get(job.name, { signal });
    if (now === undefined || now.uid !== job.uid) return;
    await pods.deps.clock.sleep(50, signal);
  }
}

/** The pod the Job's controller made, as soon as the watch shows it. */
async function waitForJobPod(pods: SessionPods, job: Job, signal: AbortSignal): Promise<Pod> {
  const { client, clock } = pods.deps;
  const cache = client.agentPods;
  const began = clock.now();
  let checkEventsAt = began + EVENT_CHECK_MS;
  for (;;) {
    const pod = cache.list().find((p) => p.controller?.uid === job.uid);
    if (pod !== undefined) return pod;
    if (signal.aborted) throw notMade(job, abortError(signal, `waiting for the pod of job ${job.name}`).message);
    if (clock.now() >= checkEventsAt) {
      checkEventsAt = clock.now() + EVENT_CHECK_MS;
      await checkJob(pods, job, signal);
    }
    await nextChange(pods, Math.max(1, checkEventsAt - clock.now()), signal);
  }
}

/** Fails when the Job says it cannot make its pod (or is gone). */
async function checkJob(pods: SessionPods, job: Job, signal: AbortSignal): Promise<void> {
  const { client } = pods.deps;
  const now = await client.jobs.get(job.name, { signal });
  if (now === undefined || now.uid !== job.uid) throw notMade(job, 'the job was deleted');
  if (now.finished !== undefined) throw notMade(job, `the job ended (${now.failedReason ?? now.finished}) before its pod appeared`);
  const failed = (await client.jobs.events(job.name, { signal })).filter((e) => e.reason === 'FailedCreate').at(-1);
  if (failed === undefined) return;
  if (/exceeded quota/i.test(failed.message)) {
    throw new GcK8sError('CAPACITY', `start: the namespace quota has no room for the pod of job ${job.name}: ${failed.message}`, {
      details: { reason: 'Quota' },
    });
  }
  throw notMade(job, failed.message);
}

function notMade(job: Job, why: string): GcK8sError {
  return new GcK8sError('START_FAILED', `start: job ${job.name} made no pod: ${why}`);
}

/** Resolves on the next change to the pod cache, or after `ms`. */
function nextChange(pods: SessionPods, ms: number, signal: AbortSignal): Promise<void> {
  const stop = new AbortController();
  return new Promise<void>((resolve) => {
    const unsubscribe = pods.deps.client.agentPods.subscribe(() => {
      stop.abort();
    });
    pods.deps.clock
      .sleep(ms, AbortSignal.any([signal, stop.signal]))
      .catch(() => undefined)
      .finally(() => {
        unsubscribe();
        resolve();
      });
  });
}

/**
 * A Job create cancelled in flight may still have made the Job: find it by the start token on
 * it and delete it (with its pod), so nothing is left that gc believes was never started.
 */
export async function removeJobIfOurs(pods: SessionPods, job: JobManifest): Promise<void> {
  const token = job.metadata.annotations?.[ANNOTATION_START_RID];
  if (token === undefined) return;
  const signal = pods.cleanupSignal();
  try {
    const made = await pods.deps.client.jobs.get(job.metadata.name, { signal });
    if (made?.annotations[ANNOTATION_START_RID] !== token) return;
    pods.deps.log.info({ job: made.name }, 'deleting the job of a start its caller cancelled');
    await pods.deps.client.jobs.delete(made.name, { uid: made.uid, signal });
  } catch (err) {
    pods.deps.log.warn({ err, job: job.metadata.name }, 'could not remove the job of a cancelled start');
  }
}
