// Staging: the files a session needs in its pod before the agent starts (work dir, pack
// overlays, overlay, copy_files), copied into the agent container while its entrypoint waits
// for this pod's staged file — no init container, so no second container start. A kept
// workspace is staged once; later pods only get the city mirror.

import { posix } from 'node:path';
import { GcK8sError, quote } from '../errors.js';
import { READY_MARKER, STAGED_FILE } from './entrypoint.js';
import { AGENT_CONTAINER } from './manifest.js';
import type { Pod } from '../kube/types.js';
import { controllerCityPath, podWorkDir, safeJoin, WORKSPACE } from './paths.js';
import type { SessionPods } from './pods.js';
import type { StartRequest } from './request.js';
import { tmuxFailure } from './tmux/classify.js';

export async function stageFiles(pods: SessionPods, pod: Pod, req: StartRequest, signal: AbortSignal): Promise<void> {
  const city = controllerCityPath(req.env);
  const log = pods.deps.log.child({ pod: pod.name });
  // A kept workspace (claim, shared) is staged by its first start only: later starts must not
  // overwrite what the agent changed since. Upstream's marker in the workspace says it was.
  const kept = pods.deps.settings.workspace !== 'ephemeral';
  if (
    kept &&
    (await pods.deps.client.exec.exec({ pod: pod.name, container: AGENT_CONTAINER, command: ['test', '-f', READY_MARKER], signal }))
      .exitCode === 0
  ) {
    log.info('kept workspace already staged: work_dir, overlays and copy_files not copied again');
  } else {
    await copyAll(pods, pod, req, signal);
  }

  // Mirror .gc into the controller-path city volume (a new one in every pod), then release the entrypoint.
  const cityMirror =
    city !== '' && city !== req.workDir && city !== '/' && !city.startsWith(WORKSPACE)
      ? `if [ -d ${WORKSPACE}/.gc ]; then cp -a ${WORKSPACE}/.gc "$1/.gc" 2>/dev/null || true; fi; `
      : '';
  const argv = ['sh', '-c', `${cityMirror}touch ${READY_MARKER} ${STAGED_FILE}`, 'sh', posix.normalize(city === '' ? '/' : city)];
  const result = await pods.deps.client.exec.exec({ pod: pod.name, container: AGENT_CONTAINER, command: argv, signal });
  if (result.exitCode !== 0) throw tmuxFailure(`releasing workspace of ${pod.name}`, argv, result);
}

async function copyAll(pods: SessionPods, pod: Pod, req: StartRequest, signal: AbortSignal): Promise<void> {
  const city = controllerCityPath(req.env);
  const log = pods.deps.log.child({ pod: pod.name });
  const copy = async (src: string, dst: string, fileIntoDir: boolean): Promise<void> => {
    const copied = await pods.copyIn(pod, src, dst, fileIntoDir, signal);
    log.debug({ src, dst, copied }, copied ? 'staged' : 'staging source missing, skipped');
  };

  if (city !== '' && req.workDir !== '' && req.workDir !== city) {
    await copy(req.workDir, podWorkDir(req.workDir, city), true);
  }
  // Lower-priority pack overlays first, then the agent's own overlay on top.
  for (const dir of req.packOverlayDirs) await copy(dir, WORKSPACE, true);
  if (req.overlayDir !== '') await copy(req.overlayDir, WORKSPACE, true);
  for (const file of req.copyFiles) {
    const dst = safeJoin(WORKSPACE, file.relDst);
    if (dst === undefined) throw new GcK8sError('BAD_REQUEST', `start: copy_files destination ${quote(file.relDst)} escapes ${WORKSPACE}`);
    await copy(file.src, dst, file.relDst === '');
  }
}
