// Capped exponential backoff with full jitter (AWS architecture blog's "full jitter"): spreads
// retries of competing writers so they stop colliding. Without jitter, a plain doubling delay.

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor?: number;
  /** returns a number in [0, 1); injectable for tests */
  readonly random?: () => number;
  /** false: the full delay every time (a single waiter has nobody to spread out from). Default true. */
  readonly jitter?: boolean;
}

export class Backoff {
  private attempt = 0;
  constructor(private readonly options: BackoffOptions) {}

  /** Delay before the next retry. */
  next(): number {
    const { initialMs, maxMs, factor = 2, random = Math.random, jitter = true } = this.options;
    const ceiling = Math.min(maxMs, initialMs * factor ** this.attempt);
    this.attempt++;
    return jitter ? Math.round(ceiling / 2 + (random() * ceiling) / 2) : ceiling;
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
