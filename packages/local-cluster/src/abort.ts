// Cancellation helpers: every long cluster operation runs under an AbortSignal (Ctrl-C tears a
// partial `up` down), and waiting must end as soon as it fires.

import { ClusterError } from './errors.js';

export function abortError(signal: AbortSignal, what: string): ClusterError {
  const reason: unknown = signal.reason;
  if (reason instanceof ClusterError) return reason;
  const isTimeout = reason instanceof Error && reason.name === 'TimeoutError';
  return new ClusterError(isTimeout ? 'TIMEOUT' : 'ABORTED', `${what}: ${isTimeout ? 'deadline exceeded' : 'cancelled'}`, {
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
