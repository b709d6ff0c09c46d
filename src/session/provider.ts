// The session provider: Gas City's runtime.Provider semantics over pods with tmux inside.
// Pod lookups come from the watch cache (zero API calls); tmux runs through exec with argv.
// Best-effort ops return quietly for a session that is not there, but never hide an outage:
// API and exec failures propagate with their cause.

import { GcK8sError, quote } from '../errors.js';
import type { Pod } from '../kube/types.js';
import { AGENT_CONTAINER, ANNOTATION_CITY, ANNOTATION_LIFECYCLE, ANNOTATION_START_PENDING } from './manifest.js';
import { hasTrackedEntrypoint, isProvisioned, sessionNameOf, sessionState, tmuxOf, tmuxTarget } from './lookup.js';
import { runExec, type ExecOutcome } from './exec.js';
import { lastLines, parseActivity, parseShowEnvironment, validateMetaKey } from './tmux/args.js';
import { isTmuxMissing, tmuxFailure } from './tmux/classify.js';
import { PROCESS_ALIVE } from './scripts.js';
import { safeJoin, WORKSPACE } from './paths.js';
import { startSession } from './start.js';
import { stopSession } from './stop.js';
import type { StartRequest } from './request.js';
import { containerGone, SessionPods, type SessionDeps } from './pods.js';
import { SessionInput } from './input.js';

export type { SessionDeps } from './pods.js';

export class SessionProvider {
  readonly pods: SessionPods;
  readonly input: SessionInput;

  constructor(readonly deps: SessionDeps) {
    this.pods = new SessionPods(deps);
    this.input = new SessionInput(this.pods);
  }

  /** `rid` identifies the request: a retry of a start its daemon dropped resumes that start. */
  start(name: string, req: StartRequest, signal: AbortSignal, rid = ''): Promise<void> {
    this.deps.deaths?.forget(name);
    return this.deps.locks.run(name, () => startSession(this.pods, this.input, name, req, signal, rid));
  }

  /** gc 1.x's provision: the box as start makes it, without the agent (gc launches it through exec). */
  provision(name: string, req: StartRequest, signal: AbortSignal, rid = ''): Promise<void> {
    this.deps.deaths?.forget(name);
    return this.deps.locks.run(name, () => startSession(this.pods, this.input, name, req, signal, rid, 'provision'));
  }

  /** gc 1.x's exec: the script in the session's agent container; its combined output and exit code. */
  async exec(
    name: string,
    script: string,
    opts: { deadlineMs: number; maxOutputBytes: number; signal: AbortSignal },
  ): Promise<ExecOutcome> {
    if (script.trim() === '') throw new GcK8sError('BAD_REQUEST', 'exec: no command on stdin');
    const pod = await this.pods.runningPod(name, opts.signal);
    if (pod === undefined) throw new GcK8sError('SESSION_NOT_FOUND', `exec: session ${quote(name)} is not running${this.whyGone(name)}`);
    return runExec(this.pods, pod, script, opts);
  }

  /** Whether a human is attached to the session's tmux (gc 1.x's report-attachment). */
  async isAttached(name: string, signal: AbortSignal): Promise<boolean> {
    const pod = await this.pods.runningPod(name, signal);
    if (pod === undefined) return false;
    const argv = tmuxOf(pod).isAttached();
    const result = await this.pods.liveTmux(pod, argv, signal);
    if (result.exitCode === 0) return Number(result.stdout.toString('utf8').trim()) > 0;
    if (isTmuxMissing(result)) return false;
    throw tmuxFailure(`is-attached ${name}`, argv, result);
  }

  stop(name: string, signal: AbortSignal): Promise<void> {
    this.deps.deaths?.forget(name);
    return this.deps.locks.run(name, () => stopSession(this.pods, name, signal));
  }

  async isRunning(name: string, signal: AbortSignal): Promise<boolean> {
    const pod = await this.pods.runningPod(name, signal);
    if (pod === undefined) return false;
    // Our entrypoint exits with tmux, so phase says it all once the start brought tmux up (before,
    // the container runs pre_start or waits for staging); pods made by upstream keep running after
    // tmux dies and need the exec upstream does, and so does a provisioned box: it is running
    // once gc launched its agent (a tmux session exists), not when the box is up.
    if (hasTrackedEntrypoint(pod) && !isProvisioned(pod) && pod.annotations[ANNOTATION_START_PENDING]?.includes('start') !== true)
      return true;
    if (isProvisioned(pod) && pod.annotations[ANNOTATION_START_PENDING] !== undefined) return false;
    const result = await this.pods.liveTmux(pod, tmuxOf(pod).hasSession(), signal);
    return result.exitCode === 0;
  }

  async listRunning(prefix: string, signal: AbortSignal): Promise<string[]> {
    const names = new Set<string>();
    const city = this.deps.origin?.cityDir ?? '';
    for (const pod of await this.pods.agentPods(signal)) {
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
    const pod = await this.pods.runningPod(name, signal);
    if (pod === undefined) return false;
    const result = await this.pods.liveTmux(pod, ['sh', '-c', PROCESS_ALIVE, 'sh', tmuxTarget(pod) ?? '', ...wanted], signal);
    if (result.exitCode === 0) return true;
    if (result.exitCode === 1 || result.exitCode === 3) return false;
    throw tmuxFailure(`process-alive ${name}`, ['sh', '-c', '<process-alive>'], result);
  }

  interrupt(name: string, signal: AbortSignal): Promise<void> {
    return this.input.interrupt(name, signal);
  }

  sendKeys(name: string, keys: readonly string[], signal: AbortSignal): Promise<void> {
    return this.input.sendKeys(name, keys, signal);
  }

  nudge(name: string, text: string, signal: AbortSignal): Promise<void> {
    return this.input.nudge(name, text, signal);
  }

  /** Resolves once the session's queued input (e.g. a nudge's Enter) has been sent. */
  inputSettled(name: string): Promise<void> {
    return this.input.settled(name);
  }

  async peek(name: string, lines: number, signal: AbortSignal): Promise<string> {
    const pod = await this.pods.runningPod(name, signal);
    if (pod === undefined) return this.oneShotResult(name, lines, signal);
    const argv = tmuxOf(pod).capturePane(lines);
    const result = await this.pods.liveTmux(pod, argv, signal, undefined, this.deps.options.maxPeekBytes);
    if (result.exitCode === 0) return lastLines(result.stdout.toString('utf8'), lines);
    if (isTmuxMissing(result)) return '';
    throw tmuxFailure(`peek ${name}`, argv, result);
  }

  /**
   * A one-shot session that ran to its end: its last screen (the entrypoint's termination message)
   * and its exit status, kept on its pod until stop.
   */
  private async oneShotResult(name: string, lines: number, signal: AbortSignal): Promise<string> {
    const state = await this.pods.state(name, signal);
    if (state.kind !== 'completed' || state.pod.annotations[ANNOTATION_LIFECYCLE] !== 'one_shot') return '';
    const agent = state.pod.containers.find((c) => c.name === AGENT_CONTAINER);
    if (agent?.state !== 'terminated') return '';
    const screen = lastLines(agent.message ?? '', lines);
    return `${screen}[one-shot session ended: exit status ${agent.exitCode ?? 'unknown'}]\n`;
  }

  /** ": <why>" when the daemon saw the session's pod end (OOMKilled, preempted…), else "". */
  private whyGone(name: string): string {
    const death = this.deps.deaths?.lastDeath(name);
    return death === undefined ? '' : `: ${death.message}`;
  }

  /** Meta works on a pod in any live phase, as upstream's findPod does. */
  private async metaPod(name: string, signal: AbortSignal): Promise<Pod | undefined> {
    const state = await this.pods.state(name, signal);
    return state.kind === 'running' || state.kind === 'pending' ? state.pod : undefined;
  }

  async setMeta(name: string, key: string, value: string, signal: AbortSignal): Promise<void> {
    const invalid = validateMetaKey(key);
    if (invalid !== undefined) throw new GcK8sError('BAD_REQUEST', `set-meta: ${invalid}`);
    const pod = await this.metaPod(name, signal);
    if (pod === undefined) return;
    const argv = tmuxOf(pod).setEnv(key, value);
    const result = await this.pods.liveTmux(pod, argv, signal);
    if (result.exitCode !== 0 && !isTmuxMissing(result)) throw tmuxFailure(`set-meta ${name}`, argv, result);
  }

  async getMeta(name: string, key: string, signal: AbortSignal): Promise<string> {
    const invalid = validateMetaKey(key);
    if (invalid !== undefined) throw new GcK8sError('BAD_REQUEST', `get-meta: ${invalid}`);
    const pod = await this.metaPod(name, signal);
    if (pod === undefined) return '';
    const argv = tmuxOf(pod).showEnv(key);
    const result = await this.pods.liveTmux(pod, argv, signal);
    if (result.exitCode === 0) return parseShowEnvironment(key, result.stdout.toString('utf8'));
    if (isTmuxMissing(result) || /unknown variable/i.test(result.stderr.toString('utf8'))) return '';
    throw tmuxFailure(`get-meta ${name}`, argv, result);
  }

  async removeMeta(name: string, key: string, signal: AbortSignal): Promise<void> {
    const invalid = validateMetaKey(key);
    if (invalid !== undefined) throw new GcK8sError('BAD_REQUEST', `remove-meta: ${invalid}`);
    const pod = await this.metaPod(name, signal);
    if (pod === undefined) return;
    const argv = tmuxOf(pod).unsetEnv(key);
    const result = await this.pods.liveTmux(pod, argv, signal);
    if (result.exitCode !== 0 && !isTmuxMissing(result) && !/unknown variable/i.test(result.stderr.toString('utf8'))) {
      throw tmuxFailure(`remove-meta ${name}`, argv, result);
    }
  }

  async lastActivity(name: string, signal: AbortSignal): Promise<string> {
    const pod = await this.pods.runningPod(name, signal);
    if (pod === undefined) return '';
    const result = await this.pods.liveTmux(pod, tmuxOf(pod).lastActivity(), signal);
    return result.exitCode === 0 ? parseActivity(result.stdout.toString('utf8')) : '';
  }

  clearScrollback(name: string, signal: AbortSignal): Promise<void> {
    return this.input.bestEffort('clear-scrollback', name, (t) => t.clearHistory(), signal);
  }

  /**
   * Copies a local file or directory into the session's /workspace[/relDst]. A directory's
   * contents land in the destination; a file lands at the destination path itself (or inside
   * /workspace under its own name when relDst is empty). Missing session or src: nothing to do.
   */
  async copyTo(name: string, src: string, relDst: string, signal: AbortSignal): Promise<void> {
    const dst = safeJoin(WORKSPACE, relDst);
    if (dst === undefined) throw new GcK8sError('BAD_REQUEST', `copy-to: destination ${quote(relDst)} escapes ${WORKSPACE}`);
    const pod = await this.pods.runningPod(name, signal);
    if (pod === undefined) return;
    try {
      await this.pods.copyIn(pod, src, dst, relDst === '', signal);
    } catch (err) {
      if (!containerGone(err)) throw err;
      this.deps.log.info({ pod: pod.name, err }, 'copy-to: the agent container has exited; nothing copied');
    }
  }

  /** What `kubectl exec -it` needs to attach to the session. */
  async attachTarget(
    name: string,
    signal: AbortSignal,
  ): Promise<{ pod: string; namespace: string; container: string; tmuxSession: string }> {
    const pod = await this.pods.runningPod(name, signal);
    if (pod === undefined)
      throw new GcK8sError('SESSION_NOT_FOUND', `attach: no running pod for session ${quote(name)}${this.whyGone(name)}`);
    // '' in a provisioned box: attach to the session gc made (tmux picks it)
    return { pod: pod.name, namespace: pod.namespace, container: AGENT_CONTAINER, tmuxSession: tmuxTarget(pod) ?? '' };
  }
}
