// The session provider: Gas City's runtime.Provider semantics over pods with tmux inside.
// Pod lookups come from the watch cache (zero API calls); tmux runs through exec with argv.
// Best-effort ops return quietly for a session that is not there, but never hide an outage:
// API and exec failures propagate with their cause.

import { describeError, GcK8sError, hasCode } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { withTimeout } from '../util/abort.js';
import type { Clock, ExecResult, NamespaceClient } from '../kube/ports.js';
import type { Pod } from '../kube/types.js';
import type { PodSettings } from './settings.js';
import type { SessionOptions } from './options.js';
import { AGENT_CONTAINER, ANNOTATION_CITY, ANNOTATION_START_PENDING, type SessionOrigin } from './manifest.js';
import { classifyPod, hasTrackedEntrypoint, podsOfSession, sessionNameOf, sessionState, type SessionState } from './lookup.js';
import { tmuxArgs, lastLines, parseActivity, parseShowEnvironment, validateMetaKey } from './tmux/args.js';
import { isTmuxMissing, tmuxFailure } from './tmux/classify.js';
import { PROCESS_ALIVE, UNTAR } from './scripts.js';
import { safeJoin, WORKSPACE } from './paths.js';
import { tarStream } from './tar.js';
import { basename, posix } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startSession } from './start.js';
import type { CommandRunner } from '../exec/runner.js';
import { stopSession } from './stop.js';
import type { StartRequest } from './request.js';

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
}

export class SessionProvider {
  private readonly locks: KeyedMutex;

  constructor(readonly deps: SessionDeps) {
    this.locks = deps.locks;
  }

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
      throw new GcK8sError('K8S_UNAVAILABLE', `reading pods in namespace ${this.deps.client.namespace}: ${describeError(err)}`, { cause: err });
    }
    return cache.list();
  }

  async state(name: string, signal: AbortSignal): Promise<SessionState> {
    return sessionState(podsOfSession(await this.agentPods(signal), name));
  }

  /** Runs tmux (or a fixed script) in the agent container, over the pod's exec channel. */
  tmux(pod: Pod, command: readonly string[], signal: AbortSignal, stdin?: Uint8Array | AsyncIterable<Uint8Array>, maxOutputBytes?: number): Promise<ExecResult> {
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
  async liveTmux(pod: Pod, command: readonly string[], signal: AbortSignal, stdin?: Uint8Array, maxOutputBytes?: number): Promise<ExecResult> {
    try {
      return await this.tmux(pod, command, signal, stdin, maxOutputBytes);
    } catch (err) {
      if (!containerGone(err) && !(hasCode(err, 'EXEC_FAILED', 'EXEC_NO_STATUS') && (await this.containerEnded(pod, signal)))) throw err;
      this.deps.log.info({ pod: pod.name, err }, 'the agent container has exited; the session is not running');
      return { exitCode: 1, stdout: Buffer.alloc(0), stderr: Buffer.from(`session not found: ${(err as Error).message}\n`) };
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
      await this.deps.client.agentPods.waitFor(pod.name, ended, { signal: withTimeout(signal, CONTAINER_EXIT_WAIT_MS) });
      return true;
    } catch {
      return false;
    }
  }

  /** The running pod of a session, or undefined (terminating and completed pods never count). */
  private async runningPod(name: string, signal: AbortSignal): Promise<Pod | undefined> {
    const state = await this.state(name, signal);
    return state.kind === 'running' ? state.pod : undefined;
  }

  /** Runs a best-effort tmux op: nothing happens for a missing session; real failures throw. */
  private async bestEffort(op: string, name: string, argv: readonly string[], signal: AbortSignal, stdin?: Uint8Array): Promise<void> {
    const pod = await this.runningPod(name, signal);
    if (pod === undefined) return;
    const result = await this.liveTmux(pod, argv, signal, stdin);
    if (result.exitCode === 0 || isTmuxMissing(result)) return;
    throw tmuxFailure(`${op} ${name}`, argv, result);
  }

  /** `rid` identifies the request: a retry of a start its daemon dropped resumes that start. */
  start(name: string, req: StartRequest, signal: AbortSignal, rid = ''): Promise<void> {
    return this.locks.run(name, () => startSession(this, name, req, signal, rid));
  }

  stop(name: string, signal: AbortSignal): Promise<void> {
    return this.locks.run(name, () => stopSession(this, name, signal));
  }

  async isRunning(name: string, signal: AbortSignal): Promise<boolean> {
    const pod = await this.runningPod(name, signal);
    if (pod === undefined) return false;
    // Our entrypoint exits with tmux, so phase says it all once the start brought tmux up (before,
    // the container runs pre_start or waits for staging); pods made by upstream keep running after
    // tmux dies and need the exec upstream does.
    if (hasTrackedEntrypoint(pod) && pod.annotations[ANNOTATION_START_PENDING]?.includes('start') !== true) return true;
    const result = await this.liveTmux(pod, tmuxArgs.hasSession(), signal);
    return result.exitCode === 0;
  }

  async listRunning(prefix: string, signal: AbortSignal): Promise<string[]> {
    const names = new Set<string>();
    const city = this.deps.origin?.cityDir ?? '';
    for (const pod of await this.agentPods(signal)) {
      const name = sessionNameOf(pod);
      if (name === undefined || !name.startsWith(prefix)) continue;
      // two cities sharing a namespace never list each other's sessions (gc would stop them)
      const owner = pod.annotations[ANNOTATION_CITY];
      if (city !== '' && owner !== undefined && owner !== city) continue;
      if (sessionState([pod]).kind === 'running') names.add(name);
    }
    return [...names].sort();
  }

  async processAlive(name: string, processNames: readonly string[], signal: AbortSignal): Promise<boolean> {
    const wanted = processNames.filter((n) => n !== '');
    if (wanted.length === 0) return true;
    const pod = await this.runningPod(name, signal);
    if (pod === undefined) return false;
    const result = await this.liveTmux(pod, ['sh', '-c', PROCESS_ALIVE, 'sh', ...wanted], signal);
    if (result.exitCode === 0) return true;
    if (result.exitCode === 1 || result.exitCode === 3) return false;
    throw tmuxFailure(`process-alive ${name}`, ['sh', '-c', '<process-alive>'], result);
  }

  interrupt(name: string, signal: AbortSignal): Promise<void> {
    return this.locks.run(`${name}\u0000input`, () => this.bestEffort('interrupt', name, tmuxArgs.interrupt(), signal));
  }

  sendKeys(name: string, keys: readonly string[], signal: AbortSignal): Promise<void> {
    if (keys.length === 0) return Promise.resolve();
    return this.locks.run(`${name}\u0000input`, () => this.bestEffort('send-keys', name, tmuxArgs.sendKeys(keys), signal));
  }

  /**
   * Types text literally (pasted, bracketed when the app asked for it), then Enter separately.
   * Returns once the text is typed; Enter follows after nudgeEnterDelayMs from the session's
   * input queue, so later input (another nudge, send-keys, interrupt) still lands after it and
   * the caller does not wait out a pause that only the TUI needs.
   */
  nudge(name: string, given: string, signal: AbortSignal): Promise<void> {
    // `echo text | gc-session-k8s nudge` carries a newline gc's own nudges never have; typed, it
    // would be an extra empty line before our Enter.
    const text = given.replace(/\r?\n$/, '');
    if (text === '') return Promise.resolve();
    return new Promise<void>((typed, failed) => {
      // One job in the session's input queue does paste, pause and Enter, so no other input can
      // land in between; the caller is released as soon as the text is typed.
      this.locks
        .run(`${name}\u0000input`, async () => {
          const pod = await this.runningPod(name, signal);
          if (pod === undefined) return;
          const paste = await this.liveTmux(pod, tmuxArgs.paste(`gck8s-${randomUUID()}`), signal, Buffer.from(text, 'utf8'));
          if (paste.exitCode !== 0) {
            if (isTmuxMissing(paste)) return;
            throw tmuxFailure(`nudge ${name}`, ['tmux', 'load-buffer', '…', 'paste-buffer'], paste);
          }
          typed();
          const enterSignal = withTimeout(undefined, this.deps.options.opTimeoutMs);
          await this.deps.clock.sleep(this.deps.options.nudgeEnterDelayMs, enterSignal);
          const enter = await this.liveTmux(pod, tmuxArgs.enter(), enterSignal);
          if (enter.exitCode !== 0 && !isTmuxMissing(enter)) throw tmuxFailure(`nudge ${name} (Enter)`, tmuxArgs.enter(), enter);
        })
        .then(
          () => {
            typed(); // nothing to type (session missing): done
          },
          (err: unknown) => {
            failed(err instanceof Error ? err : new Error(String(err)));
            // after typing, the caller is gone: the failure of Enter is only logged
            this.deps.log.warn({ session: name, err }, 'nudge failed');
          },
        );
    });
  }

  /** Resolves once the session's queued input (e.g. a nudge's Enter) has been sent. */
  inputSettled(name: string): Promise<void> {
    return this.locks.run(`${name}\u0000input`, () => Promise.resolve());
  }

  async peek(name: string, lines: number, signal: AbortSignal): Promise<string> {
    const pod = await this.runningPod(name, signal);
    if (pod === undefined) return '';
    const argv = tmuxArgs.capturePane(lines);
    const result = await this.liveTmux(pod, argv, signal, undefined, this.deps.options.maxPeekBytes);
    if (result.exitCode === 0) return lastLines(result.stdout.toString('utf8'), lines);
    if (isTmuxMissing(result)) return '';
    throw tmuxFailure(`peek ${name}`, argv, result);
  }

  /** Meta works on a pod in any live phase, as upstream's findPod does. */
  private async metaPod(name: string, signal: AbortSignal): Promise<Pod | undefined> {
    const state = await this.state(name, signal);
    return state.kind === 'running' || state.kind === 'pending' ? state.pod : undefined;
  }

  async setMeta(name: string, key: string, value: string, signal: AbortSignal): Promise<void> {
    const invalid = validateMetaKey(key);
    if (invalid !== undefined) throw new GcK8sError('BAD_REQUEST', `set-meta: ${invalid}`);
    const pod = await this.metaPod(name, signal);
    if (pod === undefined) return;
    const argv = tmuxArgs.setEnv(key, value);
    const result = await this.liveTmux(pod, argv, signal);
    if (result.exitCode !== 0 && !isTmuxMissing(result)) throw tmuxFailure(`set-meta ${name}`, argv, result);
  }

  async getMeta(name: string, key: string, signal: AbortSignal): Promise<string> {
    const invalid = validateMetaKey(key);
    if (invalid !== undefined) throw new GcK8sError('BAD_REQUEST', `get-meta: ${invalid}`);
    const pod = await this.metaPod(name, signal);
    if (pod === undefined) return '';
    const argv = tmuxArgs.showEnv(key);
    const result = await this.liveTmux(pod, argv, signal);
    if (result.exitCode === 0) return parseShowEnvironment(key, result.stdout.toString('utf8'));
    if (isTmuxMissing(result) || /unknown variable/i.test(result.stderr.toString('utf8'))) return '';
    throw tmuxFailure(`get-meta ${name}`, argv, result);
  }

  async removeMeta(name: string, key: string, signal: AbortSignal): Promise<void> {
    const invalid = validateMetaKey(key);
    if (invalid !== undefined) throw new GcK8sError('BAD_REQUEST', `remove-meta: ${invalid}`);
    const pod = await this.metaPod(name, signal);
    if (pod === undefined) return;
    const argv = tmuxArgs.unsetEnv(key);
    const result = await this.liveTmux(pod, argv, signal);
    if (result.exitCode !== 0 && !isTmuxMissing(result) && !/unknown variable/i.test(result.stderr.toString('utf8'))) {
      throw tmuxFailure(`remove-meta ${name}`, argv, result);
    }
  }

  async lastActivity(name: string, signal: AbortSignal): Promise<string> {
    const pod = await this.runningPod(name, signal);
    if (pod === undefined) return '';
    const result = await this.liveTmux(pod, tmuxArgs.lastActivity(), signal);
    return result.exitCode === 0 ? parseActivity(result.stdout.toString('utf8')) : '';
  }

  clearScrollback(name: string, signal: AbortSignal): Promise<void> {
    return this.bestEffort('clear-scrollback', name, tmuxArgs.clearHistory(), signal);
  }

  /**
   * Copies a local file or directory into the session's /workspace[/relDst]. A directory's
   * contents land in the destination; a file lands at the destination path itself (or inside
   * /workspace under its own name when relDst is empty). Missing session or src: nothing to do.
   */
  async copyTo(name: string, src: string, relDst: string, signal: AbortSignal): Promise<void> {
    const dst = safeJoin(WORKSPACE, relDst);
    if (dst === undefined) throw new GcK8sError('BAD_REQUEST', `copy-to: destination ${JSON.stringify(relDst)} escapes ${WORKSPACE}`);
    const pod = await this.runningPod(name, signal);
    if (pod === undefined) return;
    try {
      await copyIntoPod(this, pod, src, dst, relDst === '', signal);
    } catch (err) {
      if (!containerGone(err)) throw err;
      this.deps.log.info({ pod: pod.name, err }, 'copy-to: the agent container has exited; nothing copied');
    }
  }

  /** What `kubectl exec -it` needs to attach to the session. */
  async attachTarget(name: string, signal: AbortSignal): Promise<{ pod: string; namespace: string; container: string }> {
    const pod = await this.runningPod(name, signal);
    if (pod === undefined) throw new GcK8sError('SESSION_NOT_FOUND', `attach: no running pod for session ${JSON.stringify(name)}`);
    return { pod: pod.name, namespace: pod.namespace, container: AGENT_CONTAINER };
  }

  /** A fresh bounded signal for cleanup that must run even when the caller's deadline passed. */
  cleanupSignal(): AbortSignal {
    return withTimeout(undefined, this.deps.options.stopTimeoutMs);
  }
}

/** Streams src as tar into the pod and checks tar's exit status. */
export async function copyIntoPod(
  provider: SessionProvider,
  pod: Pod,
  src: string,
  dst: string,
  fileIntoDir: boolean,
  signal: AbortSignal,
  container = AGENT_CONTAINER,
): Promise<boolean> {
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
  const tar = await tarStream({ path: src, ...(entryName === undefined ? {} : { entryName }), maxBytes: provider.deps.options.maxStageBytes });
  if (tar === undefined) return false;
  const argv = ['sh', '-c', UNTAR, 'sh', targetDir];
  const result = await provider.deps.client.exec.exec({ pod: pod.name, container, command: argv, stdin: tar, signal });
  if (result.exitCode !== 0) throw tmuxFailure(`copying ${src} to ${pod.name}:${dst}`, argv, result);
  return true;
}

/** How long an exec failure waits for the pod status to say whether the container ended. */
const CONTAINER_EXIT_WAIT_MS = 3_000;

/** The exec was refused because the container (or its pod) is gone, not because of an outage. */
export function containerGone(err: unknown): err is GcK8sError {
  return hasCode(err, 'CONTAINER_NOT_RUNNING', 'NOT_FOUND');
}
