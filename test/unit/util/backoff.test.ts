import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../src/util/backoff.js';
import { describeError, GcK8sError, hasCode, isGcK8sError, toGcK8sError } from '../../../src/errors.js';

describe('Backoff', () => {
  it('grows exponentially up to the cap, jittered within [ceiling/2, ceiling]', () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    expect([low.next(), low.next(), low.next(), low.next(), low.next()]).toEqual([50, 100, 200, 400, 500]);
    const high = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
    expect([high.next(), high.next(), high.next(), high.next(), high.next()]).toEqual([100, 200, 400, 800, 1000]);
  });

  it('without jitter, the full doubling delay up to the cap', () => {
    const plain = new Backoff({ initialMs: 100, maxMs: 300, jitter: false, random: () => 0 });
    expect([plain.next(), plain.next(), plain.next(), plain.next()]).toEqual([100, 200, 300, 300]);
  });

  it('reset starts over', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 100, random: () => 0 });
    b.next();
    b.next();
    expect(b.attempts).toBe(2);
    b.reset();
    expect(b.next()).toBe(5);
  });
});

describe('errors', () => {
  it('brands, codes and describes the cause chain on one line', () => {
    const root = new Error('connect ECONNREFUSED 127.0.0.1:6443');
    const err = new GcK8sError('K8S_UNAVAILABLE', 'listing pods', { cause: root });
    expect(isGcK8sError(err)).toBe(true);
    expect(hasCode(err, 'K8S_UNAVAILABLE')).toBe(true);
    expect(hasCode(err, 'NOT_FOUND')).toBe(false);
    expect(describeError(err)).toBe('listing pods: connect ECONNREFUSED 127.0.0.1:6443');
  });

  it('normalizes timeouts and aborts', () => {
    const t = new Error('x');
    t.name = 'TimeoutError';
    expect(toGcK8sError(t).code).toBe('TIMEOUT');
    expect(toGcK8sError('plain').code).toBe('INTERNAL');
  });
});
