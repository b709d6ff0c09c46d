// start: create the session's pod and return once tmux is up and stayed up, or fail with the
// reason (scheduling, image pull, pre_start, quota…) and leave no pod behind.
//
// A start survives its daemon dying: the pod records the request id and what is left to do
// (annotations start-rid and start-pending: "start" until tmux is up and setup ran, "nudge" until
// the startup nudge was typed). The client retries a start its daemon dropped with the same id,
// and the next daemon adopts the pod and finishes what is pending; a start with another id finds a
// pod of an unfinished start and replaces it. A sweep (start-sweep.ts) removes pods of starts
// nobody finishes.

import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { GcK8sError, hasCode, isGcK8sError, describeError, messageOf, quote } from '../errors.js';
import { abortError, withTimeout } from '../util/abort.js';
import { capacityShortage, describePodProblem, failureKind, fatalReason, type PullHistory } from './diagnose.js';
import type { Pod } from '../kube/types.js';
import { validateSessionName } from './names.js';
import {
  AGENT_CONTAINER,
  ANNOTATION_SESSION_NAME,
  ANNOTATION_STARTED_COLD,
  ANNOTATION_START_PENDING,
  ANNOTATION_START_RID,
  buildAgentSession,
  CREDENTIALS_GATE,
  needsStaging,
  type StartMode,
} from './manifest.js';
import type { PodManifest, SecretManifest } from '../kube/types.js';
import type { Logger } from '../log/logger.js';
import { WAIT_FOR_BOX, WAIT_FOR_TMUX } from './scripts.js';
import { classifyPod, hasTrackedEntrypoint, isProvisioned, podAgeMs, podsOfSession, sessionState } from './lookup.js';
import { SessionPods } from './pods.js';
import { settingsForStart } from './profiles.js';
import type { SessionInput } from './input.js';
import { stageFiles } from './staging.js';
import type { StartRequest } from './request.js';
import { tmuxArgs } from './tmux/args.js';
import { ANNOTATION_COMPAT, compatOf, incompatibilities, type Compat } from './compat.js';
import { prepareWorkspace, removeCreatedWorkspace, type PreparedWorkspace } from './workspace-claims.js';
import { LABEL_WARM, WARM_CLAIMED, warmIneligibility } from './warm.js';
import { bringUpWarm, claimWarmPod } from './warm-start.js';
import { removeIfOurs } from './start-rollback.js';
import { jobOf, runsAsJob } from './job.js';
import { createJobPod } from './job-start.js';
import { checkSecretRefs } from './secret-check.js';

function remainingTenths(signal: AbortSignal, deadlineAt: number, now: number): number {
  return signal.aborted ? 0 : Math.max(1, Math.floor((deadlineAt - now) / 100));
}

/** Deals with a pod left over from an earlier start; returns when the name is free. */
async function clearExisting(pods: SessionPods, name: string, wanted: Compat, signal: AbortSignal): Promise<void> {
  const existing = podsOfSession(await pods.agentPods(signal), name);
  let state = sessionState(existing);
  const log = pods.deps.log.child({ session: name });
  if ((state.kind === 'running' || state.kind === 'pending') && startPending(state.pod) !== undefined) {
    // The watch may not have delivered the previous start's last write yet (a start right after
    // another): the API server, not the cache, says whether that start finished.
    const current = await pods.deps.client.pods.get(state.pod.name, { signal });
    if (current !== undefined && current.uid === state.pod.uid && startPending(current) === undefined)
      state = { kind: state.kind, pod: current };
  }
  if ((state.kind === 'running' || state.kind === 'pending') && startPending(state.pod) !== undefined) {
    // a start that never finished (its daemon died; we hold the session's lock, so it is not ours)
    log.info(
      { pod: state.pod.name, pending: startPending(state.pod), rid: state.pod.annotations[ANNOTATION_START_RID] },
      'replacing the pod of a start that did not finish',
    );
  } else if (state.kind === 'running' || state.kind === 'pending') {
    const pod = state.pod;
    if (state.kind === 'running') {
      // a provisioned box is live whether or not gc has launched its agent yet
      const alive = isProvisioned(pod) ? { exitCode: 0 } : await pods.liveTmux(pod, tmuxArgs.hasSession(), signal);
      if (alive.exitCode === 0) {
        const differences = incompatibilities(pod.annotations[ANNOTATION_COMPAT], wanted);
        if (differences.length > 0) {
          throw new GcK8sError(
            'SESSION_INCOMPATIBLE',
            `session ${quote(name)} is running in pod ${pod.name}, made with other settings (${differences.join('; ')}): stop it to start it with these`,
          );
        }
        throw new GcK8sError('SESSION_EXISTS', `session ${quote(name)} already exists (pod: ${pod.name})`);
      }
    }
    // Our own pods only wait for us (we hold the session lock), so a young one without tmux is
    // a leftover of a start that died; a young upstream pod may still be starting elsewhere.
    const young = podAgeMs(pod, pods.deps.clock.now()) < pods.deps.options.startupGraceMs;
    if (young && !hasTrackedEntrypoint(pod)) {
      throw new GcK8sError('SESSION_INITIALIZING', `session ${quote(name)} is initializing (pod: ${pod.name})`);
    }
    log.info({ pod: pod.name, state: state.kind }, 'replacing stale session pod');
  }
  await Promise.all(existing.map((pod) => pods.deleteAndWait(pod, signal)));
}

/**
 * Waits until the agent container runs, failing early on reasons that will not go away, and with
 * CAPACITY (exit 75: gc retries later) when the scheduler has had no room for the pod for
 * capacityWaitMs.
 */
async function waitForContainer(pods: SessionPods, podName: string, uid: string, signal: AbortSignal, oneShot = false): Promise<Pod> {
  const cache = pods.deps.client.agentPods;
  let pod: Pod | undefined;
  // The watch may deliver our own create after create() returned: absent means "not seen yet"
  // until the pod has been seen once, and "deleted under us" after that.
  let seen = false;
  const history: PullHistory = {};
  // no room: the pod does not change while it waits, so a timer (not the next event) ends the wait
  const noRoom = new AbortController();
  let noRoomTimer: NodeJS.Timeout | undefined;
  const capacityFailure = (reason: string): GcK8sError =>
    new GcK8sError('CAPACITY', `start: no room in the cluster for pod ${podName}: ${reason}`, { details: { reason: 'Unschedulable' } });
  try {
    pod = await cache.waitFor(
      podName,
      (p) => {
        if (p === undefined) return seen;
        seen = true;
        const shortage = p.uid === uid ? capacityShortage(p) : undefined;
        if (shortage === undefined) {
          clearTimeout(noRoomTimer);
          noRoomTimer = undefined;
        } else if (noRoomTimer === undefined) {
          noRoomTimer = setTimeout(() => {
            noRoom.abort(capacityFailure(capacityShortage(cache.get(podName) ?? p) ?? shortage));
          }, pods.deps.options.capacityWaitMs);
        }
        return p.uid !== uid || classifyPod(p).kind === 'running' || (oneShot && ranToEnd(p)) || fatalReason(p, history) !== undefined;
      },
      { signal: AbortSignal.any([signal, noRoom.signal]) },
    );
  } catch (err) {
    if (noRoom.signal.aborted && !signal.aborted) throw noRoom.signal.reason as GcK8sError;
    if (!signal.aborted) throw err;
    const current = cache.get(podName);
    const shortage = current === undefined ? undefined : capacityShortage(current);
    if (shortage !== undefined && abortError(signal, 'start').code === 'TIMEOUT') throw capacityFailure(shortage);
    const events = await pods.deps.client.pods.events(podName, { signal: pods.cleanupSignal() }).catch(() => []);
    throw new GcK8sError('START_FAILED', `pod ${podName} not running before the start deadline: ${describePodProblem(current, events)}`, {
      cause: err,
      details: { reason: 'Timeout' },
    });
  } finally {
    clearTimeout(noRoomTimer);
  }
  if (pod === undefined || pod.uid !== uid) throw new GcK8sError('START_FAILED', `pod ${podName} disappeared while starting`);
  if (oneShot && ranToEnd(pod)) return pod; // the task already ran to its end: that is its start
  const fatal = fatalReason(pod, history);
  if (fatal !== undefined && classifyPod(pod).kind !== 'running') {
    const events = await pods.deps.client.pods.events(podName, { signal: pods.cleanupSignal() }).catch(() => []);
    throw new GcK8sError('START_FAILED', `pod ${podName} failed to start: ${describePodProblem(pod, events)}`, {
      details: { reason: failureKind(pod) },
    });
  }
  return pod;
}

async function runSetup(pods: SessionPods, pod: Pod, req: StartRequest, signal: AbortSignal): Promise<void> {
  const log = pods.deps.log.child({ pod: pod.name });
  for (const cmd of req.sessionSetup) {
    if (cmd.trim() === '') continue;
    const r = await pods.tmux(pod, ['sh', '-c', cmd], withTimeout(signal, 30_000));
    if (r.exitCode !== 0)
      log.warn({ cmd, exitCode: r.exitCode, stderr: r.stderr.toString('utf8').slice(-500) }, 'session_setup command failed');
  }
  if (req.sessionSetupScript !== '') {
    let script: Buffer;
    try {
      script = await readFile(req.sessionSetupScript);
    } catch (err) {
      log.warn({ path: req.sessionSetupScript, err }, 'cannot read session_setup_script');
      return;
    }
    const r = await pods.tmux(pod, ['sh'], withTimeout(signal, 30_000), script);
    if (r.exitCode !== 0) log.warn({ exitCode: r.exitCode, stderr: r.stderr.toString('utf8').slice(-500) }, 'session_setup_script failed');
  }
}

/** What a pod's start has left to do, or undefined once it finished (or for pods of other providers). */
export function startPending(pod: Pod): string | undefined {
  return pod.annotations[ANNOTATION_START_PENDING];
}

/** The live pod of an unfinished start made by this very request (the client retried it). */
function ownUnfinishedStart(rid: string, existing: readonly Pod[]): Pod | undefined {
  if (rid === '') return undefined;
  const state = sessionState(existing);
  if (state.kind !== 'running' && state.kind !== 'pending') return undefined;
  return state.pod.annotations[ANNOTATION_START_RID] === rid ? state.pod : undefined;
}

export async function startSession(
  cityPods: SessionPods,
  input: SessionInput,
  name: string,
  req: StartRequest,
  callerSignal: AbortSignal,
  rid = '',
  mode: StartMode = 'start',
): Promise<void> {
  const invalid = validateSessionName(name);
  if (invalid !== undefined) throw new GcK8sError('BAD_REQUEST', `${mode}: ${invalid}`);
  // the agent's profile applied: everything this start makes reads these settings
  const profiled = settingsForStart(cityPods.deps.settings, req.env);
  const pods = profiled === cityPods.deps.settings ? cityPods : new SessionPods({ ...cityPods.deps, settings: profiled });
  const { settings, options, clock } = pods.deps;
  if (settings.image === '') throw new GcK8sError('CONFIG_INVALID', 'start: GC_K8S_IMAGE is required (or image in [session.k8s])');
  const deadlineAt = clock.now() + options.startTimeoutMs;
  const signal = withTimeout(callerSignal, options.startTimeoutMs);
  const log = pods.deps.log.child({ session: name });
  // a provisioned box has no agent to nudge: gc types into the agent it launches itself
  const nudge = mode === 'start' ? req.nudge : '';
  const pending = nudge === '' ? 'start' : 'start,nudge';
  const session = buildAgentSession(name, req, settings, pods.deps.origin, mode); // validates everything before touching the cluster
  // the request id (or, without one, a token of this start) marks the pod as this start's own
  const manifest = withStartAnnotations(session.pod, rid === '' ? randomUUID() : rid, pending);
  try {
    const { ws, podName } = await startPod(pods, input, name, req, {
      rid,
      mode,
      nudge,
      pending,
      session,
      manifest,
      signal,
      deadlineAt,
      log,
    });
    if (callerSignal.aborted) {
      // The caller gave up as the start finished (gc's SIGTERM landed after the last step): it
      // will never hear of this session, so it is not left running.
      log.info({ pod: podName }, `rolling back a ${mode} its caller cancelled as it finished`);
      await removeIfOurs(pods, manifest, podName);
      await removeCreatedWorkspace(pods, ws);
      throw abortError(callerSignal, `${mode} ${name}`);
    }
  } catch (err) {
    // the API server unavailable (or throttling us past our retries) is temporary capacity too
    if (!hasCode(err, 'K8S_UNAVAILABLE', 'THROTTLED')) throw err;
    throw new GcK8sError('CAPACITY', `${mode}: the API server is not available: ${messageOf(err)}`, {
      cause: err,
      details: { reason: 'APIUnavailable' },
    });
  }
}

async function startPod(
  pods: SessionPods,
  input: SessionInput,
  name: string,
  req: StartRequest,
  s: {
    rid: string;
    mode: StartMode;
    nudge: string;
    pending: string;
    session: ReturnType<typeof buildAgentSession>;
    manifest: PodManifest;
    signal: AbortSignal;
    deadlineAt: number;
    log: Logger;
  },
): Promise<{ ws: PreparedWorkspace | undefined; podName: string }> {
  const { rid, mode, nudge, pending, session, manifest, signal, deadlineAt, log } = s;
  const { options } = pods.deps;
  let retried = ownUnfinishedStart(rid, podsOfSession(await pods.agentPods(signal), name));
  if (retried !== undefined && retried.labels[LABEL_WARM] === WARM_CLAIMED && startPending(retried)?.includes('start') === true) {
    // a warm claim its daemon dropped half-way: launching again cannot be proven safe; start anew
    log.info({ pod: retried.name }, 'replacing a warm pod whose claim its daemon did not finish');
    await pods.deleteAndWait(retried, signal);
    retried = undefined;
  }
  let created: Pod | undefined;
  let warm = false;
  let ws: PreparedWorkspace | undefined;
  if (retried !== undefined) {
    // this request's own start, dropped by a daemon that died: finish it instead of failing
    log.info({ pod: retried.name, pending: startPending(retried) ?? '(none)' }, 'resuming a start its daemon did not finish');
    if (startPending(retried) === undefined) return { ws: undefined, podName: retried.name }; // it had finished: the answer is success
    created = retried;
  } else {
    // a Secret the pod would reference and that is not there: named now, before anything changes
    await checkSecretRefs(pods.deps.settings, pods.deps.client.secrets, signal, log);
    await clearExisting(pods, name, compatOf(manifest), signal);
    const cold = pods.deps.warm === undefined ? undefined : warmIneligibility(req, pods.deps.settings, session, mode);
    if (pods.deps.warm !== undefined && cold !== undefined) log.info({ why: cold }, 'starting cold');
    if (pods.deps.warm !== undefined && cold === undefined) {
      created = await claimWarmPod(pods, manifest, signal, log);
      warm = created !== undefined;
    }
    if (created === undefined) {
      // the kept workspace first: the pod mounts it (a claim this start makes goes if the start fails)
      ws = await prepareWorkspace(pods, name, signal);
      // with a pool, why this one did not come from it (gc-k8s sessions shows it)
      const why = pods.deps.warm === undefined ? undefined : (cold ?? 'no warm pod was ready');
      const made = why === undefined ? manifest : withAnnotation(manifest, ANNOTATION_STARTED_COLD, why);
      try {
        created = runsAsJob(req, pods.deps.settings, mode)
          ? await createJobPod(pods, name, made, signal)
          : await createPod(pods, name, made, signal);
      } catch (err) {
        await removeCreatedWorkspace(pods, ws);
        throw err;
      }
    }
  }
  const pod = created;
  const steps = startPending(pod) ?? pending;
  try {
    if (session.credentials !== undefined && (pod.schedulingGates ?? []).includes(CREDENTIALS_GATE)) {
      await provideCredentials(pods, pod, session.credentials, log);
    }
    if (warm && steps.includes('start')) {
      await bringUpWarm(pods, name, pod, req, signal, {
        setup: (p) => runSetup(pods, p, req, signal),
        settle: (p) => settle(pods, name, p, options.warmSettleMs, signal),
        died: (p) => diedDuringStartup(pods, name, p, signal),
      });
      log.info({ pod: pod.name }, 'session started in a warm pod');
    } else if (steps.includes('start')) await bringUp(pods, name, pod, req, signal, deadlineAt, log, mode);
  } catch (err) {
    await removeCreatedWorkspace(pods, ws);
    throw err;
  }
  if (nudge !== '' && steps.includes('nudge')) {
    await markPending(pods, pod, 'nudge', log);
    await input.nudge(name, nudge, withTimeout(undefined, options.opTimeoutMs)).catch((err: unknown) => {
      log.warn({ err }, 'startup nudge failed');
    });
  }
  if (warm && !(nudge !== '' && steps.includes('nudge'))) {
    // The session is up and tmux says so (is-running and the sweep ask tmux while the mark is
    // pending), so a warm start answers without waiting for this write. It holds the session's
    // lock, queued behind this start: the session's next op (a second start must see the start
    // finished, not abandoned) waits for it. A failure is logged.
    void pods.deps.locks.run(name, () => markPending(pods, pod, null, log));
  } else await markPending(pods, pod, null, log);
  return { ws, podName: pod.name };
}

/**
 * Creates the session's credentials Secret owned by its pod or Job (so it goes when they go,
 * whoever deletes them), then lets the pod be scheduled. Nothing is left over at any step: the pod was gated,
 * and a start that fails here deletes the pod, which takes the Secret with it.
 */
async function provideCredentials(pods: SessionPods, pod: Pod, secret: SecretManifest, log: Logger): Promise<void> {
  const { client } = pods.deps;
  const signal = pods.cleanupSignal();
  const job = jobOf(pod);
  try {
    await client.secrets
      .create(
        {
          ...secret,
          metadata: {
            ...secret.metadata,
            // a Job's session keeps its Secret as long as the Job (its pod is the Job's to replace or keep)
            ownerReferences: [
              job === undefined
                ? { apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid, blockOwnerDeletion: false }
                : { apiVersion: 'batch/v1', kind: 'Job', name: job.name, uid: job.uid, blockOwnerDeletion: false },
            ],
          },
        },
        { signal },
      )
      .catch((err: unknown) => {
        if (!hasCode(err, 'ALREADY_EXISTS')) throw err; // made by this start before its daemon died
      });
    await client.pods.ungate(pod.name, pod.uid, { signal });
  } catch (err) {
    log.warn({ err, pod: pod.name }, 'could not provide the session credentials; deleting the pod');
    await pods.deleteAndWait(pod, pods.cleanupSignal()).catch(() => undefined);
    throw new GcK8sError(
      'START_FAILED',
      `start: storing the session's credentials as Secret ${secret.metadata.name}: ${describeError(err)}`,
      { cause: err },
    );
  }
}

function withAnnotation(manifest: PodManifest, key: string, value: string): PodManifest {
  return { ...manifest, metadata: { ...manifest.metadata, annotations: { ...manifest.metadata.annotations, [key]: value } } };
}

function withStartAnnotations(manifest: PodManifest, rid: string, pending: string): PodManifest {
  return {
    ...manifest,
    metadata: {
      ...manifest.metadata,
      annotations: {
        ...manifest.metadata.annotations,
        [ANNOTATION_START_PENDING]: pending,
        ...(rid === '' ? {} : { [ANNOTATION_START_RID]: rid }),
      },
    },
  };
}

/**
 * Records what the start still has to do (null: nothing, it finished). A failure here is logged,
 * not fatal: the session works, and the sweep only removes pods older than any start could be
 * when no start holds their session.
 */
async function markPending(pods: SessionPods, pod: Pod, pending: string | null, log: Logger): Promise<void> {
  try {
    await pods.deps.client.pods.annotate(pod.name, pod.uid, { [ANNOTATION_START_PENDING]: pending }, { signal: pods.cleanupSignal() });
  } catch (err) {
    log.warn({ err, pod: pod.name, pending }, 'could not record the progress of a start');
  }
}

async function createPod(pods: SessionPods, name: string, manifest: PodManifest, signal: AbortSignal): Promise<Pod> {
  const { client } = pods.deps;
  try {
    const created = await client.pods.create(manifest, { signal });
    pods.deps.log.info({ session: name, pod: created.name }, 'pod created');
    return created;
  } catch (err) {
    if (signal.aborted) await removeIfOurs(pods, manifest);
    if (hasCode(err, 'QUOTA_EXCEEDED')) {
      throw new GcK8sError('CAPACITY', `start: the namespace quota has no room for session ${quote(name)}: ${messageOf(err)}`, {
        details: { reason: 'Quota' },
        cause: err,
      });
    }
    if (hasCode(err, 'ALREADY_EXISTS')) {
      const other = client.agentPods.get(manifest.metadata.name) ?? (await client.pods.get(manifest.metadata.name, { signal }));
      const owner = other?.annotations[ANNOTATION_SESSION_NAME];
      if (owner === undefined || owner === name)
        throw new GcK8sError('SESSION_EXISTS', `session ${quote(name)} already exists (pod: ${manifest.metadata.name})`, { cause: err });
      throw new GcK8sError('START_FAILED', `start: pod name ${manifest.metadata.name} is taken by session ${quote(owner)}`, { cause: err });
    }
    throw err;
  }
}

/**
 * A one-shot task that ran to its end (its command ended, whatever its status), as opposed to a
 * start that failed before the command ran (pre_start, which our entrypoint reports as such).
 */
function ranToEnd(pod: Pod): boolean {
  if (classifyPod(pod).kind !== 'completed') return false;
  const agent = pod.containers.find((c) => c.name === AGENT_CONTAINER);
  return agent?.state === 'terminated' && !(agent.message ?? '').startsWith('pre_start command');
}

/** After tmux came up: the agent must still be there `settleMs` later (else SESSION_DIED, with its last screen). */
async function settle(pods: SessionPods, name: string, pod: Pod, settleMs: number, signal: AbortSignal): Promise<void> {
  if (settleMs > 0) await pods.deps.clock.sleep(settleMs, signal);
  const alive = await pods.tmux(pod, tmuxArgs.paneDead(), signal);
  if (alive.exitCode !== 0 || alive.stdout.toString('utf8').trim() !== '0') await diedDuringStartup(pods, name, pod, signal);
}

/** The agent died at once: SESSION_DIED with what its pod says (its last screen). */
async function diedDuringStartup(pods: SessionPods, name: string, pod: Pod, signal: AbortSignal): Promise<never> {
  const { client } = pods.deps;
  // The entrypoint notices within a second and ends the container with the agent's exit
  // status and last screen: wait briefly for that, it is the useful part of the message.
  const ended = await client.agentPods
    .waitFor(pod.name, (p) => p === undefined || classifyPod(p).kind === 'completed', {
      signal: withTimeout(signal, pods.deps.options.diedReportWaitMs),
    })
    .catch(() => client.agentPods.get(pod.name));
  throw new GcK8sError('SESSION_DIED', `session ${quote(name)} died during startup: ${describePodProblem(ended ?? pod, [])}`);
}

/** Waits for the container, stages, waits for tmux, runs setup and the settle check; cleans up on failure. */
async function bringUp(
  pods: SessionPods,
  name: string,
  created: Pod,
  req: StartRequest,
  signal: AbortSignal,
  deadlineAt: number,
  log: Logger,
  mode: StartMode,
): Promise<void> {
  const { settings, options, clock, client } = pods.deps;
  // a one-shot task has no liveness settle, and ending is what it is for
  const oneShot = mode === 'start' && req.lifecycle === 'one_shot';
  try {
    let pod = await waitForContainer(pods, created.name, created.uid, signal, oneShot);
    if (oneShot && ranToEnd(pod)) {
      log.info({ pod: pod.name }, 'one-shot session ran to its end during start');
      return;
    }
    if (needsStaging(req, settings)) await stageFiles(pods, pod, req, signal);
    // One exec waits for tmux (a provisioned box: for pre_start to finish) inside the pod, then
    // another confirms the agent is still there after setup settled.
    const script = mode === 'provision' ? WAIT_FOR_BOX : WAIT_FOR_TMUX;
    const wait = await pods.tmux(pod, ['sh', '-c', script, 'sh', String(remainingTenths(signal, deadlineAt, clock.now()))], signal);
    if (wait.exitCode !== 0 && oneShot) {
      // the task may have ended before tmux was seen: its pod says so within a status cycle
      const ended = await client.agentPods
        .waitFor(pod.name, (p) => p === undefined || classifyPod(p).kind === 'completed', {
          signal: withTimeout(signal, options.diedReportWaitMs),
        })
        .catch(() => undefined);
      if (ended !== undefined && ranToEnd(ended)) return;
    }
    if (wait.exitCode !== 0) {
      pod = client.agentPods.get(pod.name) ?? pod;
      const what = mode === 'provision' ? 'the box was not ready' : 'tmux did not start';
      throw new GcK8sError('START_FAILED', `${what} in pod ${pod.name}: ${describePodProblem(pod, [])}`);
    }
    await runSetup(pods, pod, req, signal);
    if (mode === 'provision' || oneShot) {
      log.info({ pod: pod.name }, mode === 'provision' ? 'session provisioned' : 'one-shot session started');
      return;
    }
    await settle(pods, name, pod, options.settleMs, signal);
    log.info({ pod: pod.name }, 'session started');
  } catch (err) {
    let cause = signal.aborted && !isGcK8sError(err) ? abortError(signal, `starting ${name}`) : err;
    // An agent that exits at once takes its container down, and then the exec itself fails:
    // report what the pod says (its termination message carries the agent's last output).
    let now = client.agentPods.get(created.name);
    if (
      hasCode(cause, 'EXEC_FAILED', 'EXEC_NO_STATUS', 'NOT_FOUND', 'CONTAINER_NOT_RUNNING') &&
      now !== undefined &&
      classifyPod(now).kind !== 'completed'
    ) {
      // the exec may have lost the race with the container's exit: the status follows shortly
      now = await client.agentPods
        .waitFor(created.name, (p) => p === undefined || classifyPod(p).kind === 'completed', {
          signal: withTimeout(undefined, pods.deps.options.diedReportWaitMs),
        })
        .catch(() => client.agentPods.get(created.name));
    }
    if (oneShot && now !== undefined && now.uid === created.uid && ranToEnd(now)) {
      log.info({ pod: now.name }, 'one-shot session ran to its end during start');
      return;
    }
    if (now !== undefined && now.uid === created.uid && classifyPod(now).kind === 'completed' && !hasCode(cause, 'SESSION_DIED')) {
      log.info({ err: cause }, 'agent exited during startup');
      cause = new GcK8sError('SESSION_DIED', `session ${quote(name)} died during startup: ${describePodProblem(now, [])}`);
    }
    await pods.deleteAndWait(created, pods.cleanupSignal()).catch((cleanupErr: unknown) => {
      log.error({ err: cleanupErr, pod: created.name }, 'could not delete the pod of a failed start');
    });
    if (isGcK8sError(cause) && cause.code !== 'TIMEOUT' && cause.code !== 'ABORTED') throw cause;
    throw new GcK8sError('START_FAILED', `start ${name}: ${describeError(cause)}`, { cause });
  }
}
