// stop: delete every pod of the session (a Job-run session: its Job with it) and return only when
// they are gone, so is-running and list-running are false the moment stop returns (upstream's
// native Stop did not wait). A kept workspace claim stays (gc's sleep and wake) unless
// workspace_reclaim = "delete".

import { hasCode } from '../errors.js';
import { withTimeout } from '../util/abort.js';
import { podsOfSession } from './lookup.js';
import { ANNOTATION_SESSION_NAME } from './manifest.js';
import { podNameFor } from './names.js';
import type { SessionPods } from './pods.js';
import { reclaimWorkspace } from './workspace-claims.js';

export async function stopSession(pods: SessionPods, name: string, callerSignal: AbortSignal): Promise<void> {
  const signal = withTimeout(callerSignal, pods.deps.options.stopTimeoutMs);
  const found = podsOfSession(await pods.agentPods(signal), name);
  if (found.length > 0) {
    // a Job's pod takes its Job with it (deleteAndWait)
    pods.deps.log.info({ session: name, pods: found.map((p) => p.name) }, 'stopping session');
    await Promise.all(found.map((pod) => pods.deleteAndWait(pod, signal)));
  } else await removeEndedJob(pods, name, signal);
  // a kept workspace stays for the next start unless the city reclaims it
  await reclaimWorkspace(pods, name, signal);
}

/**
 * A session without a pod may still have a Job whose pod is gone (deleted out of band, or never
 * made): it is the session's until stop, and goes too. Without the right to read Jobs (an older Role) there are
 * none of ours to find.
 */
async function removeEndedJob(pods: SessionPods, name: string, signal: AbortSignal): Promise<void> {
  const { client, log } = pods.deps;
  try {
    const job = await client.jobs.get(podNameFor(name), { signal });
    if (job === undefined || job.annotations[ANNOTATION_SESSION_NAME] !== name) return;
    log.info({ session: name, job: job.name }, 'deleting the job of a stopped session');
    await client.jobs.delete(job.name, { uid: job.uid, signal });
  } catch (err) {
    if (!hasCode(err, 'FORBIDDEN', 'CONFLICT')) throw err;
    log.debug({ session: name, err }, 'no job of the session to look for');
  }
}
