import { describe, expect, it } from 'vitest';
import { GcK8sError } from '../../../src/errors.js';
import { timedRequests } from '../../../src/daemon/op-metrics.js';
import type { Request } from '../../../src/protocol/messages.js';

function recorder() {
  const seen: unknown[][] = [];
  const starts: unknown[][] = [];
  return {
    seen,
    starts,
    metrics: {
      observeOp: (...args: unknown[]) => seen.push(args),
      startReady: (s: number) => starts.push([s]),
      startFailed: (reason: string) => starts.push(['failed', reason]),
    },
  };
}
const io = { out: () => undefined, err: () => undefined, signal: new AbortController().signal };
const req = (provider: string, op: string): Request => ({ v: 1, provider, op, args: ['s1'], env: {}, cwd: '/' }) as unknown as Request;

describe('timedRequests', () => {
  it('labels each op by provider, op and outcome, and an error by its code', async () => {
    const r = recorder();
    let t = 0;
    const now = () => (t += 250);
    const ok = timedRequests(() => Promise.resolve(0), r.metrics as never, now);
    await ok(req('session', 'peek'), io);
    await timedRequests(() => Promise.resolve(1), r.metrics as never, now)(req('session', 'nudge'), io);
    const failing = timedRequests(() => Promise.reject(new GcK8sError('CAPACITY', 'quota')), r.metrics as never, now);
    await expect(failing(req('session', 'start'), io)).rejects.toThrow('quota');
    expect(r.seen).toEqual([
      ['session', 'peek', 0.25, 'ok'],
      ['session', 'nudge', 0.25, 'exit'],
      ['session', 'start', 0.25, 'error', 'CAPACITY'],
    ]);
    expect(r.starts).toEqual([['failed', 'Unschedulable']]);
  });

  it('times a successful start to ready, and names why a start failed', async () => {
    const r = recorder();
    let t = 0;
    const now = () => (t += 1500);
    await timedRequests(() => Promise.resolve(0), r.metrics as never, now)(req('session', 'start'), io);
    const fail = (err: GcK8sError) =>
      timedRequests(() => Promise.reject(err), r.metrics as never, now)(req('session', 'start'), io).catch(() => undefined);
    await fail(new GcK8sError('START_FAILED', 'pull', { details: { reason: 'ImagePull' } }));
    await fail(new GcK8sError('CAPACITY', 'quota', { details: { reason: 'Quota' } }));
    await fail(new GcK8sError('SESSION_DIED', 'died'));
    await fail(new GcK8sError('START_FAILED', 'odd', { details: { reason: 'x'.repeat(300) } }));
    await timedRequests(() => Promise.resolve(0), r.metrics as never, now)(req('session', 'peek'), io);
    expect(r.starts).toEqual([[1.5], ['failed', 'ImagePull'], ['failed', 'Quota'], ['failed', 'DiedAtStart'], ['failed', 'Other']]);
  });

  it('an op or provider outside the protocol is "(unknown)": callers cannot grow the label set', async () => {
    const r = recorder();
    await timedRequests(() => Promise.resolve(2), r.metrics as never)(req('session', 'x'.repeat(500)), io);
    await timedRequests(() => Promise.reject(new GcK8sError('BAD_REQUEST', 'no')), r.metrics as never)(req('nope', 'peek'), io).catch(
      () => undefined,
    );
    expect(r.seen.map((s) => s.slice(0, 2))).toEqual([
      ['session', '(unknown)'],
      ['(unknown)', '(unknown)'],
    ]);
  });
});
