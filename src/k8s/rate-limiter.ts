// Client-side token bucket (client-go's flowcontrol equivalent). APF on the server limits
// concurrency, not rate, so a polite ceiling on our side still matters for a daemon that can
// fan out over hundreds of sessions. Waiters reserve tokens in arrival order, so it is fair.

import { sleep } from '../util/abort.js';

/**
 * The daemon's default ceiling (GC_K8S_QPS, GC_K8S_BURST): high enough that event bursts and a
 * city's worth of starts pass unthrottled; the API server's priority and fairness (429 +
 * Retry-After, honoured) is the real guard.
 */
export const DEFAULT_RATE = { qps: 500, burst: 1000 } as const;

export interface RateLimiterOptions {
  /** sustained requests per second; <= 0 disables limiting */
  readonly qps: number;
  /** requests allowed at once after an idle period */
  readonly burst: number;
  /** injectable for tests */
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor(private readonly options: RateLimiterOptions) {
    this.now = options.now ?? (() => performance.now());
    this.sleep = options.sleep ?? ((ms, signal) => sleep(ms, signal, 'waiting for the client-side rate limiter'));
    this.tokens = Math.max(1, options.burst);
    this.last = this.now();
  }

  /** Takes one token, waiting for it if needed; returns the ms waited. */
  async take(signal: AbortSignal): Promise<number> {
    const { qps, burst } = this.options;
    if (qps <= 0) return 0;
    const now = this.now();
    this.tokens = Math.min(Math.max(1, burst), this.tokens + ((now - this.last) * qps) / 1000);
    this.last = now;
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    // A negative balance is a reservation: this caller owns the token that arrives at `wait`.
    const wait = (-this.tokens * 1000) / qps;
    try {
      await this.sleep(wait, signal);
    } catch (err) {
      this.tokens += 1; // give the reservation back so later callers do not wait for us
      throw err;
    }
    return wait;
  }
}
