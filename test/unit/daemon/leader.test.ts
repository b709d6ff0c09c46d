import { describe, expect, it } from 'vitest';
import { GcK8sError } from '../../../src/errors.js';
import { LeaderElector } from '../../../src/daemon/leader.js';
import { createLogger } from '../../../src/log/logger.js';
import { FakeLeaseApi } from '../../fakes/fake-leases.js';

const log = createLogger({ level: 'error' });

function candidate(api: FakeLeaseApi, identity: string, clock: { t: number }): LeaderElector {
  return new LeaderElector({
    api,
    name: 'gc-k8s',
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    now: () => clock.t,
    log,
  });
}

describe('LeaderElector', () => {
  it('the first candidate creates the Lease and leads; a second one does not while it is renewed', async () => {
    const api = new FakeLeaseApi();
    const clock = { t: 1_000_000 };
    const a = candidate(api, 'a', clock);
    const b = candidate(api, 'b', clock);
    expect(await a.tryOnce()).toBe(true);
    expect(api.leases.get('gc-k8s')).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    expect(await b.tryOnce()).toBe(false);
    for (let i = 0; i < 10; i++) {
      clock.t += 2_000;
      expect(await a.tryOnce()).toBe(true);
      expect(await b.tryOnce()).toBe(false);
    }
    expect(a.status()).toMatchObject({ leading: true, holder: 'a' });
    expect(b.status()).toMatchObject({ leading: false, holder: 'a' });
    expect(b.termSignal().aborted).toBe(true);
  });

  it('renews with one write at the version it wrote (no read), moving renewTime and keeping acquireTime', async () => {
    const api = new FakeLeaseApi();
    const clock = { t: 5_000_000 };
    const a = candidate(api, 'a', clock);
    await a.tryOnce();
    const acquired = api.leases.get('gc-k8s')?.acquireTimeMs;
    api.calls.length = 0;
    clock.t += 2_000;
    expect(await a.tryOnce()).toBe(true);
    expect(api.calls).toEqual(['update gc-k8s a']);
    expect(api.leases.get('gc-k8s')).toMatchObject({ acquireTimeMs: acquired, renewTimeMs: 5_002_000 });
  });

  it('takes over once the holder stopped renewing for a lease duration of its own clock, counting the transition', async () => {
    const api = new FakeLeaseApi();
    const clock = { t: 0 };
    const a = candidate(api, 'a', clock);
    const b = candidate(api, 'b', clock);
    await a.tryOnce();
    // a is gone (killed): b must wait a full duration from when it first saw the record
    clock.t += 1_000;
    expect(await b.tryOnce()).toBe(false);
    clock.t += 14_000;
    expect(await b.tryOnce()).toBe(false);
    clock.t += 1_000;
    expect(await b.tryOnce()).toBe(true);
    expect(api.leases.get('gc-k8s')).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    // a comes back: it sees b, steps down at once, and its term's signal fired
    const term = a.termSignal();
    expect(await a.tryOnce()).toBe(false);
    expect(term.aborted).toBe(true);
    expect(a.leading).toBe(false);
  });

  it('takes a released Lease at once', async () => {
    const api = new FakeLeaseApi();
    const clock = { t: 0 };
    const a = candidate(api, 'a', clock);
    const b = candidate(api, 'b', clock);
    await a.tryOnce();
    expect(await b.tryOnce()).toBe(false);
    await a.release();
    expect(api.leases.get('gc-k8s')).toMatchObject({ holderIdentity: '' });
    expect(a.leading).toBe(false);
    expect(await b.tryOnce()).toBe(true);
  });

  it('a conflicting write: of two candidates writing the same version, one wins and the other does not lead', async () => {
    const api = new FakeLeaseApi();
    const clock = { t: 0 };
    // an expired record both see
    api.put({ name: 'gc-k8s', holderIdentity: 'old', leaseDurationSeconds: 15, acquireTimeMs: 0, renewTimeMs: 0, leaseTransitions: 3 });
    const a = candidate(api, 'a', clock);
    const b = candidate(api, 'b', clock);
    expect(await a.tryOnce()).toBe(false);
    expect(await b.tryOnce()).toBe(false);
    clock.t += 16_000;
    // both read the same version; a writes first, so b's write (at the old version) conflicts
    const stale = api.leases.get('gc-k8s');
    expect(await a.tryOnce()).toBe(true);
    const realGet = api.get.bind(api);
    let first = true;
    api.get = (name, o) => {
      if (first) {
        first = false;
        return Promise.resolve(stale);
      }
      return realGet(name, o);
    };
    expect(await b.tryOnce()).toBe(false);
    expect(api.calls.filter((c) => c.startsWith('update gc-k8s b'))).toHaveLength(1);
    expect(api.leases.get('gc-k8s')).toMatchObject({ holderIdentity: 'a', leaseTransitions: 4 });
    expect(b.status()).toMatchObject({ leading: false, holder: 'a' });
  });

  it('a leader whose renewal meets another holder (conflict) steps down at once, cancelling its term', async () => {
    const api = new FakeLeaseApi();
    const clock = { t: 0 };
    const a = candidate(api, 'a', clock);
    await a.tryOnce();
    const term = a.termSignal();
    // split brain: someone else wrote the Lease
    api.put({ name: 'gc-k8s', holderIdentity: 'z', leaseDurationSeconds: 15, acquireTimeMs: 1, renewTimeMs: 1, leaseTransitions: 1 });
    const changes: boolean[] = [];
    a.onChange((leading) => changes.push(leading));
    clock.t += 2_000;
    expect(await a.tryOnce()).toBe(false);
    expect(term.aborted).toBe(true);
    expect(changes).toEqual([false]);
  });

  it('loss: an API server it cannot reach keeps it leading only until the renew deadline', async () => {
    const api = new FakeLeaseApi();
    const clock = { t: 0 };
    const a = candidate(api, 'a', clock);
    await a.tryOnce();
    api.failNext(...Array.from({ length: 10 }, () => new GcK8sError('K8S_UNAVAILABLE', 'connect ECONNREFUSED')));
    clock.t += 2_000;
    expect(await a.tryOnce()).toBe(true);
    clock.t += 7_000;
    expect(await a.tryOnce()).toBe(true);
    clock.t += 1_000;
    // 10 s since the last renewal: it stops acting, before anyone else could take over (15 s)
    expect(a.leading).toBe(false);
    expect(await a.tryOnce()).toBe(false);
  });

  it('refuses timings where the renew deadline is not below the lease duration', () => {
    expect(
      () => new LeaderElector({ api: new FakeLeaseApi(), name: 'x', identity: 'a', leaseDurationMs: 10_000, renewDeadlineMs: 10_000, log }),
    ).toThrow(/renew deadline < lease duration/);
  });
});
