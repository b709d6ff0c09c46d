// Caps concurrent work (execs through the API server, bulk store re-inits): a burst of hundreds
// hurts the API server and kubelets more than a short queue does. Waiters leave when their signal fires.

import { abortError } from './abort.js';

export class Semaphore {
  private available: number;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly limit: number) {
    this.available = Math.max(1, limit);
  }

  /** Resolves with a release function once a slot is free; rejects when the signal fires first. */
  acquire(signal: AbortSignal, what: string): Promise<() => void> {
    if (signal.aborted) return Promise.reject(abortError(signal, what));
    if (this.available > 0) {
      this.available--;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(this.releaser());
      };
      const onAbort = (): void => {
        const index = this.waiters.indexOf(grant);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(abortError(signal, what));
      };
      this.waiters.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next === undefined) this.available++;
      else next(); // hand the slot over directly
    };
  }
}
