// A session's input: keys, interrupts and nudges go through one queue per session, so the text
// and the Enter of a nudge are never split by other input, and a nudge's Enter still lands
// before anything typed after it.

import { randomUUID } from 'node:crypto';
import { withTimeout } from '../util/abort.js';
import type { SessionPods } from './pods.js';
import { tmuxOf } from './lookup.js';
import { isTmuxMissing, tmuxFailure } from './tmux/classify.js';

export class SessionInput {
  constructor(private readonly pods: SessionPods) {}

  private queue<T>(name: string, work: () => Promise<T>): Promise<T> {
    return this.pods.deps.locks.run(`${name}\u0000input`, work);
  }

  /** A best-effort tmux call on a running session: nothing for a missing one; real failures throw. */
  async bestEffort(op: string, name: string, build: (t: ReturnType<typeof tmuxOf>) => string[], signal: AbortSignal): Promise<void> {
    const pod = await this.pods.runningPod(name, signal);
    if (pod === undefined) return;
    const argv = build(tmuxOf(pod));
    const result = await this.pods.liveTmux(pod, argv, signal);
    if (result.exitCode === 0 || isTmuxMissing(result)) return;
    throw tmuxFailure(`${op} ${name}`, argv, result);
  }

  interrupt(name: string, signal: AbortSignal): Promise<void> {
    return this.queue(name, () => this.bestEffort('interrupt', name, (t) => t.interrupt(), signal));
  }

  sendKeys(name: string, keys: readonly string[], signal: AbortSignal): Promise<void> {
    if (keys.length === 0) return Promise.resolve();
    return this.queue(name, () => this.bestEffort('send-keys', name, (t) => t.sendKeys(keys), signal));
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
    const { pods } = this;
    const { options, clock, log } = pods.deps;
    return new Promise<void>((typed, failed) => {
      // One job in the session's input queue does paste, pause and Enter, so no other input can
      // land in between; the caller is released as soon as the text is typed.
      this.queue(name, async () => {
        const pod = await pods.runningPod(name, signal);
        if (pod === undefined) return;
        const tmux = tmuxOf(pod);
        const paste = await pods.liveTmux(pod, tmux.paste(`gck8s-${randomUUID()}`), signal, Buffer.from(text, 'utf8'));
        if (paste.exitCode !== 0) {
          if (isTmuxMissing(paste)) return;
          throw tmuxFailure(`nudge ${name}`, ['tmux', 'load-buffer', '…', 'paste-buffer'], paste);
        }
        typed();
        const enterSignal = withTimeout(undefined, options.opTimeoutMs);
        await clock.sleep(options.nudgeEnterDelayMs, enterSignal);
        const enter = await pods.liveTmux(pod, tmux.enter(), enterSignal);
        if (enter.exitCode !== 0 && !isTmuxMissing(enter)) throw tmuxFailure(`nudge ${name} (Enter)`, tmux.enter(), enter);
      }).then(
        () => {
          typed(); // nothing to type (session missing): done
        },
        (err: unknown) => {
          failed(err instanceof Error ? err : new Error(String(err)));
          // after typing, the caller is gone: the failure of Enter is only logged
          log.warn({ session: name, err }, 'nudge failed');
        },
      );
    });
  }

  /** Resolves once the session's queued input (e.g. a nudge's Enter) has been sent. */
  settled(name: string): Promise<void> {
    return this.queue(name, () => Promise.resolve());
  }
}
