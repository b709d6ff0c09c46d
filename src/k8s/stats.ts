// Request counters, so benchmarks can report "API requests per op" and operators can see how
// much time the client spent throttled. Plain numbers, cheap to snapshot and diff.

export interface RequestStats {
  /** every HTTP request or exec upgrade sent to the server, retries included */
  readonly total: number;
  /** per "verb resource", e.g. "get pods", "watch configmaps", "create pods/exec" */
  readonly byRequest: Readonly<Record<string, number>>;
  /** per "verb resource status" (HTTP status, or "error" when no response came), REST requests only */
  readonly byResponse: Readonly<Record<string, number>>;
  /** retries after 429, 401 or a reset keep-alive connection */
  readonly retries: number;
  /** ms spent waiting for the client-side rate limiter */
  readonly rateLimitedMs: number;
  /** ms spent honouring Retry-After from 429 responses */
  readonly throttledMs: number;
}

export class StatsCounter {
  private total = 0;
  private retries = 0;
  private rateLimitedMs = 0;
  private throttledMs = 0;
  private readonly byRequest = new Map<string, number>();
  private readonly byResponse = new Map<string, number>();

  request(verb: string, resource: string): void {
    this.total++;
    const key = `${verb} ${resource}`;
    this.byRequest.set(key, (this.byRequest.get(key) ?? 0) + 1);
  }

  response(verb: string, resource: string, status: number | 'error'): void {
    const key = `${verb} ${resource} ${status}`;
    this.byResponse.set(key, (this.byResponse.get(key) ?? 0) + 1);
  }

  retry(): void {
    this.retries++;
  }

  rateLimited(ms: number): void {
    this.rateLimitedMs += ms;
  }

  throttled(ms: number): void {
    this.throttledMs += ms;
  }

  snapshot(): RequestStats {
    return {
      total: this.total,
      byRequest: Object.fromEntries(this.byRequest),
      byResponse: Object.fromEntries(this.byResponse),
      retries: this.retries,
      rateLimitedMs: Math.round(this.rateLimitedMs),
      throttledMs: Math.round(this.throttledMs),
    };
  }
}
