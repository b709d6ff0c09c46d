// What every session op stands on: the namespace's agent pods from a cache that can be trusted,
// commands in a session's agent container (over the pod's exec channel), copying files in, and
// deleting a pod until it is gone. The provider's ops, start, stop and staging all use this;
// none of them reaches into another.

import { basename, posix } from 'node:path';
import { describeError, GcK8sError, hasCode, messageOf } from '../errors.js';
import type { CommandRunner } from '../exec/runner.js';
import type { Clock, ExecResult, NamespaceClient } from '../kube/ports.js';
import type { Death } from './deaths.js';
import type { Pod } from '../kube/types.js';
import type { Logger } from '../log/logger.js';
import { withTimeout } from '../util/abort.js';
import type { KeyedMutex } from '../util/keyed-mutex.js';
import { jobOf } from './job.js';
import { classifyPod, hasTrackedEntrypoint, podsOfSession, sessionState, type SessionState } from './lookup.js';
import { AGENT_CONTAINER, type SessionOrigin } from './manifest.js';
import type { SessionOptions } from './options.js';
import { UNTAR } from './scripts.js';
import type { PodSettings } from './settings.js';
import { tarStream } from './tar.js';
import { tmuxArgs } from './tmux/args.js';
import { tmuxFailure } from './tmux/classify.js';

export interface SessionDeps {
  readonly client: NamespaceClient;
  readonly settings: PodSettings;
  readonly options: SessionOptions;
  readonly clock: Clock;
  readonly log: Logger;
  /** shared by every provider of the namespace, so ops on one session never interleave */
  readonly locks: KeyedMutex;
  /** runs commands in pods (persistent channels, one-shot exec fallback) */
  readonly runner: CommandRunner;
  /** the city these calls belong to: recorded on pods at start, and scopes list-running */
  readonly origin?: SessionOrigin;
  /** the city's warm pods (warm_pool > 0): a start takes one when its session fits */
  readonly warm?: WarmSource;
  /** why sessions went away, as the watch showed it (deaths.ts): the next op says so */
  readonly deaths?: DeathReasons;
}

/** What the session ops need of the death log. */
export interface DeathReasons {
  lastDeath(session: string): Death | undefined;
  forget(session: string): void;
}

/** What a start needs of a warm pool (warm-pool.ts). */
export interface WarmSource {
  /** idle warm pods ready to be claimed, best first */
  candidates(): Pod[];
  /** one was taken: refill */
  poke(): void;
}

/** Pods of other providers (PID 1 is a shell that ignores SIGTERM) get this grace period. */
const FOREIGN_POD_GRACE_SECONDS = 1;

/** The exec was refused because the container (or its pod) is gone, not because of an outage. */
export function containerGone(err: unknown): err is GcK8sError {
  return hasCode(err, 'CONTAINER_NOT_RUNNING', 'NOT_FOUND');
}

export class SessionPods {
  constructor(readonly deps: SessionDeps) {}

  /**
   * All agent pods, from the watch cache once it can be trusted: at once while its watch is
   * connected and making progress, else after one LIST verified (or repaired) it. Fails only
   * when the API server cannot be reached.
   */
  async agentPods(signal: AbortSignal): Promise<Pod[]> {
    const cache = this.deps.client.agentPods;
    try {
      await cache.fresh({ signal });
    } catch (err) {
      throw new GcK8sError('K8S_UNAVAILABLE', `reading pods in namespace ${this.deps.client.namespace}: ${describeError(err)}`, {
        cause: err,
      });
    }
    return cache.list();
  }

  async state(name: string, signal: AbortSignal): Promise<SessionState> {
    return sessionState(podsOfSession(await this.agentPods(signal), name));
  }

  /** The running pod of a session, or undefined (terminating and completed pods never count). */
  async runningPod(name: string, signal: AbortSignal): Promise<Pod | undefined> {
    const state = await this.state(name, signal);
    return state.kind === 'running' ? state.pod : undefined;
  }

  /** Runs tmux (or a fixed script) in the agent container, over the pod's exec channel. */
  tmux(
    pod: Pod,
    command: readonly string[],
    signal: AbortSignal,
    stdin?: Uint8Array | AsyncIterable<Uint8Array>,
    maxOutputBytes?: number,
  ): Promise<ExecResult> {
    return this.deps.runner.run(pod, AGENT_CONTAINER, command, {
      signal,
      ...(stdin === undefined ? {} : { stdin }),
      ...(maxOutputBytes === undefined ? {} : { maxOutputBytes }),
    });
  }

  /**
   * tmux for an op on a session the cache calls running: a container that exited in between (the
   * agent just ended, e.g. after an interrupt) answers like a missing tmux session, so
   * best-effort ops stay quiet and predicates say false, as for any session that is not there.
   * Other exec failures still throw.
   */
  async liveTmux(
    pod: Pod,
    command: readonly string[],
    signal: AbortSignal,
    stdin?: Uint8Array,
    maxOutputBytes?: number,
  ): Promise<ExecResult> {
    try {
      return await this.tmux(pod, command, signal, stdin, maxOutputBytes);
    } catch (err) {
      if (!containerGone(err) && !(hasCode(err, 'EXEC_FAILED', 'EXEC_NO_STATUS') && (await this.containerEnded(pod, signal)))) throw err;
      this.deps.log.info({ pod: pod.name, err }, 'the agent container has exited; the session is not running');
      return { exitCode: 1, stdout: Buffer.alloc(0), stderr: Buffer.from(`session not found: ${messageOf(err)}\n`) };
    }
  }

  /**
   * After an exec failure whose words we do not know: did the agent's container end? The runtime
   * words that differently at each stage of an exit; the pod's status is the authority, and the
   * watch cache hears of the exit within a kubelet status cycle.
   */
  private async containerEnded(pod: Pod, signal: AbortSignal): Promise<boolean> {
    const ended = (p: Pod | undefined): boolean => p === undefined || p.uid !== pod.uid || classifyPod(p).kind !== 'running';
    try {
      await this.deps.client.agentPods.waitFor(pod.name, ended, { signal: withTimeout(signal, this.deps.options.containerExitWaitMs) });
      return true;
    } catch {
      return false;
    }
  }

  /** Streams src as tar into the pod and checks tar's exit status; false when src is missing. */
  async copyIn(pod: Pod, src: string, dst: string, fileIntoDir: boolean, signal: AbortSignal): Promise<boolean> {
    // A file copied to an explicit destination is written at that path; with no destination it
    // goes into the directory under its own name.
    const { stat } = await import('node:fs/promises');
    let isDir: boolean;
    try {
      isDir = (await stat(src)).isDirectory();
    } catch {
      return false;
    }
    const targetDir = isDir || fileIntoDir ? dst : posix.dirname(dst);
    const entryName = isDir ? undefined : fileIntoDir ? basename(src) : posix.basename(dst);
    const tar = await tarStream({
      path: src,
      ...(entryName === undefined ? {} : { entryName }),
      maxBytes: this.deps.options.maxStageBytes,
    });
    if (tar === undefined) return false;
    const argv = ['sh', '-c', UNTAR, 'sh', targetDir];
    const result = await this.deps.client.exec.exec({ pod: pod.name, container: AGENT_CONTAINER, command: argv, stdin: tar, signal });
    if (result.exitCode !== 0) throw tmuxFailure(`copying ${src} to ${pod.name}:${dst}`, argv, result);
    return true;
  }

  /**
   * Deletes the pod (this uid only) and returns once the cache no longer has it. A Job's pod goes
   * with its Job: the Job first (or its controller would count the pod as failed and keep the Job),
   * then the pod itself, so its grace period is ours rather than the garbage collector's.
   */
  async deleteAndWait(pod: Pod, signal: AbortSignal): Promise<void> {
    const { client, settings } = this.deps;
    const job = jobOf(pod);
    if (job !== undefined) {
      await client.jobs.delete(job.name, { uid: job.uid, signal }).catch((err: unknown) => {
        // a uid conflict: that Job is gone and another run of the session took its name
        if (!hasCode(err, 'CONFLICT')) throw err;
      });
    }
    if (pod.deletionTimestamp === undefined) {
      // Our entrypoint ends on SIGTERM at once. A pod of Gas City's native provider (or its script)
      // runs `tmux …; sleep infinity` under a PID 1 shell that ignores SIGTERM, so deletion would
      // wait out the whole grace period (14 s observed): end its tmux first, so the agent gets its
      // hang-up, then delete with a short grace.
      const foreign = !hasTrackedEntrypoint(pod);
      if (foreign && classifyPod(pod).kind === 'running') {
        await this.tmux(pod, tmuxArgs.killServer(), withTimeout(signal, 3_000)).catch((err: unknown) => {
          this.deps.log.info({ pod: pod.name, err }, 'could not end tmux before deleting a pod of another provider');
        });
      }
      try {
        await client.pods.delete(pod.name, {
          signal,
          uid: pod.uid,
          gracePeriodSeconds: foreign
            ? Math.min(FOREIGN_POD_GRACE_SECONDS, settings.terminationGracePeriodSeconds)
            : settings.terminationGracePeriodSeconds,
        });
      } catch (err) {
        // A uid precondition conflict means this pod is already gone and another took its name.
        if (!hasCode(err, 'CONFLICT', 'NOT_FOUND')) throw err;
      }
    }
    await client.agentPods.waitFor(pod.name, (current) => current === undefined || current.uid !== pod.uid, { signal });
  }

  /** A fresh bounded signal for cleanup that must run even when the caller's deadline passed. */
  cleanupSignal(): AbortSignal {
    return withTimeout(undefined, this.deps.options.stopTimeoutMs);
  }
}
