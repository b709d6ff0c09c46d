// Housekeeping on a timer: in every namespace this daemon serves (requests so far, the cities it
// remembers across restarts, and an in-cluster daemon's own namespace, which a new pod knows
// from the cluster alone), pods of starts nobody will finish are removed.

import { abandonedStarts } from '../session/sweep.js';
import { AGENT_CONTAINER, ANNOTATION_START_PENDING, ANNOTATION_START_RID } from '../session/manifest.js';
import { classifyPod } from '../session/lookup.js';
import { tmuxArgs } from '../session/tmux/args.js';
import type { Logger } from '../log/logger.js';
import { withTimeout } from '../util/abort.js';
import type { CityRegistry } from './cities.js';
import type { Runtimes } from './runtimes.js';

interface SweepDeps {
  readonly runtimes: Runtimes;
  readonly registry: CityRegistry;
  readonly log: Logger;
  readonly maxAgeMs: number;
  readonly lifetime: AbortSignal;
  /** false while another daemon leads (leader election): it sweeps instead */
  readonly acting?: () => boolean;
  /** swept even before any request names them (an in-cluster daemon's own namespace, after a restart) */
  readonly always?: readonly { readonly context: string; readonly namespace: string }[];
}

export function startSweeper(deps: SweepDeps): NodeJS.Timeout {
  const every = Math.min(60_000, Math.max(1_000, Math.floor(deps.maxAgeMs / 4)));
  const timer = setInterval(() => {
    void sweep(deps);
  }, every);
  timer.unref();
  return timer;
}

async function sweep(deps: SweepDeps): Promise<void> {
  if (deps.acting?.() === false) return;
  const targets = new Map<string, { context: string; namespace: string }>();
  for (const t of [...(deps.always ?? []), ...deps.runtimes.inUse(), ...deps.registry.list()])
    targets.set(`${t.context}\u0000${t.namespace}`, { context: t.context, namespace: t.namespace });
  for (const { context, namespace } of targets.values()) {
    if (deps.lifetime.aborted || deps.acting?.() === false) return;
    const signal = withTimeout(deps.lifetime, 30_000);
    try {
      const runtime = await deps.runtimes.get(context, namespace, signal);
      const { client, locks, runner } = runtime;
      await client.agentPods.fresh({ signal });
      for (const pod of abandonedStarts(client.agentPods.list(), Date.now(), (session) => locks.busy(session), deps.maxAgeMs)) {
        // tmux came up before the daemon died: a live session gc can see and stop; keep it
        if (classifyPod(pod).kind === 'running') {
          const alive = await runner.run(pod, AGENT_CONTAINER, tmuxArgs.hasSession(), { signal }).catch(() => undefined);
          if (alive === undefined || alive.exitCode === 0) continue;
        }
        deps.log.warn(
          { namespace, pod: pod.name, rid: pod.annotations[ANNOTATION_START_RID], pending: pod.annotations[ANNOTATION_START_PENDING] },
          'removing the pod of a start nobody finished (its daemon died)',
        );
        await client.pods.delete(pod.name, { uid: pod.uid, gracePeriodSeconds: 1, signal }).catch((err: unknown) => {
          deps.log.warn({ err, pod: pod.name }, 'could not remove the pod of an unfinished start');
        });
      }
    } catch (err) {
      deps.log.info({ err, namespace }, 'sweep skipped a namespace');
    }
  }
}
