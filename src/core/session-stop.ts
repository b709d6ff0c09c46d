// stop: delete every pod of the session and return only when they are gone, so is-running and
// list-running are false the moment stop returns (upstream's native Stop did not wait).

import { hasCode } from '../errors.js';
import { withTimeout } from '../util/abort.js';
import { podsOfSession } from './session-index.js';
import type { Pod } from './k8s-types.js';
import type { SessionProvider } from './session-provider.js';

export async function deletePodAndWait(provider: SessionProvider, pod: Pod, signal: AbortSignal): Promise<void> {
  const { client, settings } = provider.deps;
  if (pod.deletionTimestamp === undefined) {
    try {
      await client.pods.delete(pod.name, { signal, uid: pod.uid, gracePeriodSeconds: settings.terminationGracePeriodSeconds });
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
