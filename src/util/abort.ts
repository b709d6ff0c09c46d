// Deadlines and cancellation helpers: every operation runs under an AbortSignal.

import { GcK8sError, isGcK8sError } from '../errors.js';

/** A signal that fires when `parent` fires or after `ms`, whichever is first. */
export function withTimeout(parent: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return parent === undefined ? timeout : AbortSignal.any([parent, timeout]);
}

/** Throws TIMEOUT or ABORTED (with `what` in the message) if the signal has fired. */
export function throwIfAborted(signal: AbortSignal, what: string): void {
  if (signal.aborted) throw abortError(signal, what);
}

export function abortError(signal: AbortSignal, what: string): GcK8sError {
  const reason: unknown = signal.reason;
  if (isGcK8sError(reason)) return reason;
  const isTimeout = reason instanceof Error && reason.name === 'TimeoutError';
  return new GcK8sError(isTimeout ? 'TIMEOUT' : 'ABORTED', `${what}: ${isTimeout ? 'deadline exceeded' : 'cancelled'}`, {
    cause: reason,
  });
}

/** Resolves after `ms`, or rejects with abortError when the signal fires first. */
export function sleep(ms: number, signal: AbortSignal, what = 'waiting'): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError(signal, what));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal, what));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
