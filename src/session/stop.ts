// stop: delete every pod of the session and return only when they are gone, so is-running and
// list-running are false the moment stop returns (upstream's native Stop did not wait). A kept
// workspace claim stays (gc's sleep and wake) unless workspace_reclaim = "delete".

import { withTimeout } from '../util/abort.js';
import { podsOfSession } from './lookup.js';
import type { SessionPods } from './pods.js';
import { reclaimWorkspace } from './workspace-claims.js';

export async function stopSession(pods: SessionPods, name: string, callerSignal: AbortSignal): Promise<void> {
  const signal = withTimeout(callerSignal, pods.deps.options.stopTimeoutMs);
  const found = podsOfSession(await pods.agentPods(signal), name);
  if (found.length > 0) {
    pods.deps.log.info({ session: name, pods: found.map((p) => p.name) }, 'stopping session');
    await Promise.all(found.map((pod) => pods.deleteAndWait(pod, signal)));
  }
  // a kept workspace stays for the next start unless the city reclaims it
  await reclaimWorkspace(pods, name, signal);
}
