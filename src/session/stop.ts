// stop: delete every pod of the session and return only when they are gone, so is-running and
// list-running are false the moment stop returns (upstream's native Stop did not wait).

import { hasCode } from '../errors.js';
import { withTimeout } from '../util/abort.js';
import { classifyPod, hasTrackedEntrypoint, podsOfSession } from './lookup.js';
import { tmuxArgs } from './tmux/args.js';
import type { Pod } from '../kube/types.js';
import type { SessionProvider } from './provider.js';

/** Pods of other providers (PID 1 is a shell that ignores SIGTERM) get this grace period. */
const FOREIGN_POD_GRACE_SECONDS = 1;

export async function deletePodAndWait(provider: SessionProvider, pod: Pod, signal: AbortSignal): Promise<void> {
  const { client, settings } = provider.deps;
  if (pod.deletionTimestamp === undefined) {
    // Our entrypoint ends on SIGTERM at once. A pod of Gas City's native provider (or its script)
    // runs `tmux …; sleep infinity` under a PID 1 shell that ignores SIGTERM, so deletion would
    // wait out the whole grace period (14 s observed): end its tmux first, so the agent gets its
    // hang-up, then delete with a short grace.
    const foreign = !hasTrackedEntrypoint(pod);
    if (foreign && classifyPod(pod).kind === 'running') {
      await provider.tmux(pod, tmuxArgs.killServer(), withTimeout(signal, 3_000)).catch((err: unknown) => {
        provider.deps.log.info({ pod: pod.name, err }, 'could not end tmux before deleting a pod of another provider');
      });
    }
    try {
      await client.pods.delete(pod.name, { signal, uid: pod.uid, gracePeriodSeconds: foreign ? Math.min(FOREIGN_POD_GRACE_SECONDS, settings.terminationGracePeriodSeconds) : settings.terminationGracePeriodSeconds });
    } catch (err) {
      // A uid precondition conflict means this pod is already gone and another took its name.
      if (!hasCode(err, 'CONFLICT', 'NOT_FOUND')) throw err;
    }
  }
  await client.agentPods.waitFor(pod.name, (current) => current === undefined || current.uid !== pod.uid, { signal });
}

export async function stopSession(provider: SessionProvider, name: string, callerSignal: AbortSignal): Promise<void> {
  const signal = withTimeout(callerSignal, provider.deps.options.stopTimeoutMs);
  const pods = podsOfSession(await provider.agentPods(signal), name);
  if (pods.length === 0) return;
  provider.deps.log.info({ session: name, pods: pods.map((p) => p.name) }, 'stopping session');
  await Promise.all(pods.map((pod) => deletePodAndWait(provider, pod, signal)));
}
