// JSON REST over the transport's keep-alive pool: client-side rate limiting, per-call deadlines,
// bounded retries where a retry is known to be safe (429 + Retry-After, a 401 after refreshing
// credentials, a GET whose reused keep-alive socket was reset), and Status → GcK8sError mapping.

import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { GcK8sError } from '../errors.js';
import { sleep } from '../util/abort.js';
import { errorCode, statusError, transportError } from './errors.js';
import { DEFAULT_RATE, TokenBucket } from './rate-limiter.js';
import { StatsCounter, type RequestStats } from './stats.js';
import type { Transport } from './transport.js';

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface RestRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API path starting with /api or /apis (the server's path prefix is added here) */
  readonly path: string;
  readonly query?: Query;
  readonly body?: unknown;
  /** the body's media type; default JSON, and a JSON merge patch for PATCH */
  readonly contentType?: string;
  /** for stats: "get", "list", "watch", "create"… and "pods", "configmaps"… */
  readonly verb: string;
  readonly resource: string;
  /** "verb object" for error messages, e.g. "creating pod gc/foo" */
  readonly what: string;
  readonly signal: AbortSignal;
}

export interface RestOptions {
  /** client-side rate limit; qps <= 0 disables it (default DEFAULT_RATE) */
  readonly qps?: number;
  readonly burst?: number;
  /** how many 429 responses are retried before THROTTLED (default 3) */
  readonly maxThrottleRetries?: number;
  /** a Retry-After longer than this is not waited for: THROTTLED at once (default 30 s) */
  readonly maxRetryAfterMs?: number;
  readonly limiter?: TokenBucket;
}

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

export class RestClient {
  readonly counter = new StatsCounter();
  private readonly limiter: TokenBucket;

  constructor(
    readonly transport: Transport,
    private readonly options: RestOptions = {},
  ) {
    this.limiter = options.limiter ?? new TokenBucket({ qps: options.qps ?? DEFAULT_RATE.qps, burst: options.burst ?? DEFAULT_RATE.burst });
  }

  /** Sends the request and returns the parsed JSON body of a 2xx response. */
  async json(request: RestRequest): Promise<unknown> {
    const response = await this.send(request);
    const text = await readBody(response.body, request);
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new GcK8sError('K8S_UNAVAILABLE', `${request.what}: response is not JSON (${text.slice(0, 80)})`, { cause: err });
    }
  }

  /** Sends the request and returns the body stream of a 2xx response (watches). */
  async stream(request: RestRequest): Promise<Readable> {
    const response = await this.send(request);
    return response.body;
  }

  stats(): RequestStats {
    return this.counter.snapshot();
  }

  /** Waits for a client-side rate-limiter token (every request and exec upgrade takes one). */
  async admit(signal: AbortSignal, what: string): Promise<void> {
    try {
      this.counter.rateLimited(await this.limiter.take(signal));
    } catch (err) {
      throw transportError(err, `${what}: waiting for the client-side rate limiter`, signal);
    }
  }

  private async send(request: RestRequest): Promise<Dispatcher.ResponseData> {
    const { signal, what } = request;
    const path = this.transport.basePath + request.path + queryString(request.query);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    let unauthorizedRetried = false;
    let resetRetried = false;
    let throttled = 0;
    for (;;) {
      await this.admit(signal, what);
      const session = await this.transport.session(signal, what);
      this.counter.request(request.verb, request.resource);
      let response: Dispatcher.ResponseData;
      try {
        response = await session.pool.request({
          method: request.method,
          path,
          headers: {
            ...session.headers,
            accept: 'application/json',
            // a PATCH body is a JSON merge patch (RFC 7386) unless the request says otherwise (a
            // server-side apply): only what it names changes
            ...(body === undefined
              ? {}
              : {
                  'content-type': request.contentType ?? (request.method === 'PATCH' ? 'application/merge-patch+json' : 'application/json'),
                }),
          },
          ...(body === undefined ? {} : { body }),
          signal,
        });
      } catch (err) {
        // A keep-alive socket the server closed just as we reused it: the GET never ran.
        if (request.method === 'GET' && !resetRetried && !signal.aborted && RESET_CODES.has(errorCode(err) ?? '')) {
          resetRetried = true;
          this.counter.retry();
          continue;
        }
        this.counter.response(request.verb, request.resource, 'error');
        throw transportError(err, what, signal);
      }
      this.counter.response(request.verb, request.resource, response.statusCode);
      if (response.statusCode >= 200 && response.statusCode < 300) return response;
      const text = await readBody(response.body, request);
      if (response.statusCode === 401 && !unauthorizedRetried) {
        // Token expired or rotated underneath us: re-read token files / rerun the exec plugin once.
        unauthorizedRetried = true;
        this.transport.connection.credentials.invalidate();
        this.counter.retry();
        continue;
      }
      if (response.statusCode === 429 && (await this.throttledRetry(response.headers['retry-after'], throttled, signal, what))) {
        throttled++;
        continue;
      }
      throw statusError(response.statusCode, text, what);
    }
  }

  /**
   * After the `attempt`-th 429 (from 0): waits out its Retry-After and says true, or says false
   * at once when the retries are spent or the server asks for longer than we wait.
   */
  async throttledRetry(header: string | string[] | undefined, attempt: number, signal: AbortSignal, what: string): Promise<boolean> {
    if (attempt >= (this.options.maxThrottleRetries ?? 3)) return false;
    const waitMs = retryAfterMs(header, attempt);
    if (waitMs > (this.options.maxRetryAfterMs ?? 30_000)) return false;
    this.counter.retry();
    this.counter.throttled(waitMs);
    await sleep(waitMs, signal, `${what}: throttled by the API server`);
    return true;
  }
}

async function readBody(body: Dispatcher.ResponseData['body'], request: RestRequest): Promise<string> {
  try {
    return await body.text();
  } catch (err) {
    throw transportError(err, request.what, request.signal);
  }
}

export function queryString(query: Query | undefined): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.append(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** Retry-After is seconds or an HTTP date; without one, back off 1 s, 2 s, 4 s… */
export function retryAfterMs(header: string | string[] | undefined, attempt: number, now = Date.now()): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value !== undefined && value.trim() !== '') {
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  return 1000 * 2 ** attempt;
}
