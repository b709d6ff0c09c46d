// A start from a warm pod (warm.ts, warm-pool.ts): take an idle pod of the city's pool with one
// conditional relabel (the first start to do it wins; the others try the next pod), stage into
// it, run pre_start and launch the agent through its open exec channel, run session_setup, and
// settle. The pod is then the session's pod in every respect (labels, annotations, tmux `main`,
// its entrypoint watching the agent). A claim that fails deletes the pod: a warm pod is never
// handed back, so nothing of one session can reach another.

import { describeError, GcK8sError, hasCode, isGcK8sError, quote } from '../errors.js';
import type { Pod, PodManifest } from '../kube/types.js';
import type { Logger } from '../log/logger.js';
import { needsStaging } from './manifest.js';
import type { SessionPods } from './pods.js';
import type { StartRequest } from './request.js';
import { stageFiles } from './staging.js';
import { removeIfOurs } from './start-rollback.js';
import { claimChange, warmLaunch } from './warm.js';

/** Claims a warm pod for the session, or undefined when none is ready (the start goes cold). */
export async function claimWarmPod(pods: SessionPods, manifest: PodManifest, signal: AbortSignal, log: Logger): Promise<Pod | undefined> {
  const warm = pods.deps.warm;
  if (warm === undefined) return undefined;
  const change = claimChange(manifest);
  for (const pod of warm.candidates()) {
    try {
      const claimed = await pods.deps.client.pods.claim(pod.name, pod.resourceVersion, change, { signal });
      warm.poke();
      log.info({ pod: pod.name }, 'claimed a warm pod');
      return claimed;
    } catch (err) {
      // a claim cancelled in flight may have been applied: then the pod is this start's to remove
      if (signal.aborted) await removeIfOurs(pods, manifest, pod.name);
      // taken by another start (or gone) since the cache saw it: the next one
      if (signal.aborted || !hasCode(err, 'CONFLICT', 'NOT_FOUND')) throw err;
    }
  }
  log.info('no warm pod ready: starting cold');
  return undefined;
}

/**
 * Everything a started pod's entrypoint does, done through exec in the claimed pod. `after` is the
 * rest of a start (session_setup, the settle check, the report of an agent that died at once),
 * shared with a cold start. On failure the pod is deleted.
 */
export async function bringUpWarm(
  pods: SessionPods,
  name: string,
  pod: Pod,
  req: StartRequest,
  signal: AbortSignal,
  after: { setup: (pod: Pod) => Promise<void>; settle: (pod: Pod) => Promise<void>; died: (pod: Pod) => Promise<never> },
): Promise<void> {
  const { settings, options } = pods.deps;
  // without session_setup the launch itself settles and reports (one round trip less)
  const folded = req.sessionSetup.every((c) => c.trim() === '') && req.sessionSetupScript === '';
  try {
    if (needsStaging(req, settings)) await stageFiles(pods, pod, req, signal);
    const plan = warmLaunch(req, settings, pod.name, folded ? options.warmSettleMs : undefined);
    for (const [i, argv] of plan.preStart.entries()) {
      const r = await pods.tmux(pod, argv, signal);
      if (r.exitCode !== 0)
        throw new GcK8sError(
          'START_FAILED',
          `start ${quote(name)}: pre_start command ${i + 1} failed with exit ${r.exitCode}${tail(r.stderr)}`,
        );
    }
    const launched = await pods.tmux(pod, plan.launch, signal);
    if (launched.exitCode !== 0)
      throw new GcK8sError(
        'START_FAILED',
        `start ${quote(name)}: launching the agent in warm pod ${pod.name} failed${tail(launched.stderr)}`,
      );
    if (folded) {
      if (launched.stdout.toString('utf8').trim() !== '0') await after.died(pod);
    } else {
      await after.setup(pod);
      await after.settle(pod);
    }
  } catch (err) {
    await pods.deleteAndWait(pod, pods.cleanupSignal()).catch((cleanupErr: unknown) => {
      pods.deps.log.error({ err: cleanupErr, pod: pod.name }, 'could not delete the warm pod of a failed start');
    });
    if (isGcK8sError(err) && err.code !== 'TIMEOUT' && err.code !== 'ABORTED') throw err;
    throw new GcK8sError('START_FAILED', `start ${name}: ${describeError(err)}`, { cause: err });
  }
}

function tail(stderr: Buffer): string {
  const text = stderr.toString('utf8').trim();
  return text === '' ? '' : `: ${text.slice(-300)}`;
}
