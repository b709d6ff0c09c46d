// Retry policy shared by the counter CAS and the event writes: which errors are worth another
// attempt, and jittered backoff sleeps through the injected Clock (fake clocks drive tests).

import type { Clock } from '../kube/ports.js';
import { hasCode, toGcK8sError, type GcK8sError } from '../errors.js';
import { abortError, throwIfAborted } from '../util/abort.js';
import { Backoff } from '../util/backoff.js';

export interface RetryOptions {
  /** attempts in total, including the first */
  readonly attempts: number;
  readonly initialMs: number;
  readonly maxMs: number;
  /** [0,1) source for jitter; injectable for tests */
  readonly random?: () => number;
}

/** Errors that say "try again later" rather than "this will never work". */
export function isTransient(err: unknown): boolean {
  return hasCode(err, 'THROTTLED', 'K8S_UNAVAILABLE', 'TIMEOUT');
}

export function newBackoff(options: RetryOptions): Backoff {
  return new Backoff({ initialMs: options.initialMs, maxMs: options.maxMs, ...(options.random ? { random: options.random } : {}) });
}

/** Sleeps the next backoff delay; rethrows as ABORTED/TIMEOUT when the signal fires. */
export async function backoffSleep(clock: Clock, backoff: Backoff, signal: AbortSignal, what: string): Promise<void> {
  throwIfAborted(signal, what);
  try {
    await clock.sleep(backoff.next(), signal);
  } catch (err) {
    throw callError(err, signal, what);
  }
}

/** Normalizes an API failure, preferring the caller's abort reason when the signal fired. */
export function callError(err: unknown, signal: AbortSignal, what: string): GcK8sError {
  return signal.aborted ? abortError(signal, what) : toGcK8sError(err);
}
