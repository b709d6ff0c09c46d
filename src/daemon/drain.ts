// Graceful drain: the requests in flight, so a SIGTERM can let them finish (up to the drain
// timeout) before cancelling what is left, and wait for the cancelled ones to roll back before
// the clients they use are closed.

import type { RequestHandler } from './server.js';

/** Ops that never end by themselves (an event watch): a drain cancels them at once. */
const isStream = (provider: string, op: string): boolean => provider === 'events' && op === 'watch';

export class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];
  private readonly draining = new AbortController();

  get size(): number {
    return this.count;
  }

  /** Drain has begun: streams end now; the rest are waited for (idle). */
  drain(): void {
    this.draining.abort(new Error('the daemon is shutting down'));
  }

  /** The handler, counting each request while it runs (streams are not waited for). */
  track(handler: RequestHandler): RequestHandler {
    return async (request, io) => {
      if (isStream(request.provider, request.op))
        return handler(request, { ...io, signal: AbortSignal.any([io.signal, this.draining.signal]) });
      this.count++;
      try {
        return await handler(request, io);
      } finally {
        this.count--;
        if (this.count === 0) for (const w of this.waiters.splice(0)) w();
      }
    };
  }

  /** Resolves true once nothing is in flight, false when `ms` passed first. */
  idle(ms: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, ms);
      this.waiters.push(done);
    });
  }
}
