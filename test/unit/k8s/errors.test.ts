import { describe, expect, it } from 'vitest';
import { describeError, GcK8sError } from '../../../src/errors.js';
import { codeForStatus, KubernetesStatusError, statusError, transportError } from '../../../src/k8s/errors.js';
import { TokenBucket } from '../../../src/k8s/rate-limiter.js';
import { queryString, retryAfterMs } from '../../../src/k8s/rest.js';

const status = (code: number, reason: string, message: string) => ({ kind: 'Status', status: 'Failure', code, reason, message });

describe('Status → error code', () => {
  it.each([
    [404, 'NotFound', 'pods "x" not found', 'NOT_FOUND'],
    [409, 'AlreadyExists', 'pods "x" already exists', 'ALREADY_EXISTS'],
    [409, 'Conflict', 'the object has been modified', 'CONFLICT'],
    [410, 'Expired', 'too old resource version', 'GONE'],
    [403, 'Forbidden', 'pods "x" is forbidden: exceeded quota: compute, requested: cpu=2', 'QUOTA_EXCEEDED'],
    [403, 'Forbidden', 'pods is forbidden: User "u" cannot create resource "pods"', 'FORBIDDEN'],
    [401, 'Unauthorized', 'Unauthorized', 'FORBIDDEN'],
    [422, 'Invalid', 'Pod "X" is invalid: metadata.name', 'INVALID'],
    [429, 'TooManyRequests', 'too many requests', 'THROTTLED'],
    [500, 'InternalError', 'etcd down', 'K8S_UNAVAILABLE'],
    [503, 'ServiceUnavailable', 'apiserver shutting down', 'K8S_UNAVAILABLE'],
  ])('%i %s → %s', (http, reason, message, code) => {
    expect(codeForStatus(http, { reason, message })).toBe(code);
    const err = statusError(http, JSON.stringify(status(http, reason, message)), 'creating pod gc/x');
    expect(err.code).toBe(code);
    expect(err.message).toBe(`creating pod gc/x: ${message}`);
    expect(err.cause).toBeInstanceOf(KubernetesStatusError);
    expect((err.cause as KubernetesStatusError).status.reason).toBe(reason);
  });

  it('quotes a non-Status body instead of losing it', () => {
    const err = statusError(502, '<html>bad gateway</html>', 'getting pod gc/x');
    expect(err.code).toBe('K8S_UNAVAILABLE');
    expect(err.message).toBe('getting pod gc/x: HTTP 502: <html>bad gateway</html>');
  });

  it('transport errors: the caller signal decides TIMEOUT vs ABORTED, otherwise K8S_UNAVAILABLE', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const e1 = transportError(refused, 'listing pods');
    expect(e1.code).toBe('K8S_UNAVAILABLE');
    expect(describeError(e1)).toBe('listing pods: connect ECONNREFUSED 127.0.0.1:1');
    const timedOut = AbortSignal.timeout(0);
    const controller = new AbortController();
    controller.abort();
    expect(transportError(refused, 'x', controller.signal).code).toBe('ABORTED');
    return new Promise<void>((resolve) => {
      setTimeout(() => {
        expect(transportError(refused, 'x', timedOut).code).toBe('TIMEOUT');
        resolve();
      }, 5);
    });
  });

  it('keeps GcK8sErrors as they are', () => {
    const err = new GcK8sError('GONE', 'x');
    expect(transportError(err, 'y')).toBe(err);
  });
});

describe('request helpers', () => {
  it('Retry-After: seconds, HTTP date, or exponential default', () => {
    expect(retryAfterMs('2', 0)).toBe(2000);
    expect(retryAfterMs('0', 0)).toBe(0);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 0, 4_000)).toBe(6_000);
    expect(retryAfterMs(undefined, 0)).toBe(1000);
    expect(retryAfterMs(undefined, 2)).toBe(4000);
  });

  it('query strings skip undefined and encode values', () => {
    expect(queryString({ labelSelector: 'app=gc-agent,x in (a,b)', limit: 5, continue: undefined })).toBe(
      '?labelSelector=app%3Dgc-agent%2Cx+in+%28a%2Cb%29&limit=5',
    );
    expect(queryString({})).toBe('');
  });
});

describe('TokenBucket', () => {
  function fakeTime() {
    let now = 0;
    const sleeps: number[] = [];
    return {
      now: () => now,
      advance: (ms: number) => {
        now += ms;
      },
      sleeps,
      sleep: (ms: number) => {
        sleeps.push(ms);
        now += ms;
        return Promise.resolve();
      },
    };
  }

  it('lets a burst through, then paces at qps', async () => {
    const t = fakeTime();
    const bucket = new TokenBucket({ qps: 10, burst: 3, now: t.now, sleep: t.sleep });
    const signal = new AbortController().signal;
    for (let i = 0; i < 3; i++) expect(await bucket.take(signal)).toBe(0);
    expect(await bucket.take(signal)).toBeCloseTo(100);
    expect(await bucket.take(signal)).toBeCloseTo(100);
    t.advance(1_000); // idle refills up to the burst, never beyond
    for (let i = 0; i < 3; i++) expect(await bucket.take(signal)).toBe(0);
    expect(await bucket.take(signal)).toBeCloseTo(100);
  });

  it('queues waiters fairly and returns the reservation when a waiter gives up', async () => {
    const now = 0;
    const waits: number[] = [];
    const bucket = new TokenBucket({
      qps: 1,
      burst: 1,
      now: () => now,
      sleep: (ms, signal) => {
        waits.push(ms);
        return signal.aborted ? Promise.reject(new Error('aborted')) : Promise.resolve();
      },
    });
    const live = new AbortController().signal;
    const dead = new AbortController();
    dead.abort();
    await bucket.take(live);
    await expect(bucket.take(dead.signal)).rejects.toThrow('aborted');
    // The aborted caller's reservation was returned, so the next one waits one slot, not two.
    await bucket.take(live);
    expect(waits).toEqual([1000, 1000]);
  });

  it('qps <= 0 disables limiting', async () => {
    const bucket = new TokenBucket({ qps: 0, burst: 0, sleep: () => Promise.reject(new Error('must not wait')) });
    for (let i = 0; i < 1000; i++) await bucket.take(new AbortController().signal);
  });
});
