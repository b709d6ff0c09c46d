// The router with leader election: a daemon that does not lead refuses every provider op with
// NOT_LEADER before anything is resolved or touched; admin ops answer anywhere; a leader's op
// runs under its term's signal, so losing the Lease cancels it.
import { describe, expect, it } from 'vitest';
import { GcK8sError } from '../../../src/errors.js';
import { findCityToml, loadConfig } from '../../../src/config/load.js';
import { LeaderElector } from '../../../src/daemon/leader.js';
import { createRouter } from '../../../src/daemon/router.js';
import type { OpHandler } from '../../../src/daemon/handlers/op.js';
import { silentLogger } from '../../../src/log/logger.js';
import { PROTOCOL_VERSION, type Request } from '../../../src/protocol/messages.js';
import { FakeLeaseApi } from '../../fakes/fake-leases.js';

const request = (provider: Request['provider'], op: string): Request => ({
  v: PROTOCOL_VERSION,
  provider,
  op,
  args: ['s1'], // a complete call: the required arguments are checked before the leader
  env: {},
  cwd: '/',
});

function setup(identity: string, api = new FakeLeaseApi(), clock = { t: 0 }) {
  const elector = new LeaderElector({ api, name: 'gc-k8s', identity, now: () => clock.t, log: silentLogger() });
  const calls: string[] = [];
  const signals: AbortSignal[] = [];
  let release: () => void = () => undefined;
  const handler: OpHandler = {
    check: () => undefined,
    run: (ctx) => {
      calls.push(ctx.request.op);
      signals.push(ctx.signal);
      return ctx.request.op === 'start'
        ? new Promise<number>(
            (r) =>
              (release = () => {
                r(0);
              }),
          )
        : Promise.resolve(0);
    },
  };
  let resolved = 0;
  const router = createRouter({
    log: silentLogger(),
    runtimes: { get: () => Promise.reject(new Error('no runtime in this test')) },
    handlers: { session: { 'list-running': handler, start: handler }, events: {}, beads: { list: handler }, admin: { status: handler } },
    resolve: (r) => {
      resolved++;
      return Promise.resolve({ config: loadConfig({ env: r.env, cityToml: findCityToml(r.env, r.cwd) }), source: 'none' });
    },
    leader: elector,
  });
  const call = (provider: Request['provider'], op: string) =>
    router(request(provider, op), { out: () => undefined, err: () => undefined, signal: AbortSignal.timeout(5_000) });
  return {
    elector,
    api,
    clock,
    calls,
    signals,
    call,
    resolved: () => resolved,
    release: () => {
      release();
    },
  };
}

describe('the router under leader election', () => {
  it('not the leader: every provider op is NOT_LEADER naming the holder, before anything is resolved; admin ops answer', async () => {
    const api = new FakeLeaseApi();
    const a = setup('pod-a_1', api);
    await a.elector.tryOnce();
    const b = setup('pod-b_1', api);
    await b.elector.tryOnce();
    for (const [provider, op] of [
      ['session', 'list-running'],
      ['session', 'start'],
      ['beads', 'list'],
    ] as const) {
      await expect(b.call(provider, op)).rejects.toMatchObject({
        code: 'NOT_LEADER',
        message: expect.stringMatching(/not the leader of lease gc-k8s, held by pod-a_1/) as unknown,
      });
    }
    expect(b.calls).toEqual([]);
    expect(b.resolved()).toBe(0);
    expect(await b.call('admin', 'status')).toBe(0);
    expect(await a.call('session', 'list-running')).toBe(0);
  });

  it("a call that arrives before a new daemon's first round is judged on what that round finds", async () => {
    const api = new FakeLeaseApi();
    const a = setup('pod-a_1', api);
    await a.elector.tryOnce();
    // b has not read the Lease yet: its answer waits for the round instead of naming nobody
    const b = setup('pod-b_1', api);
    const refused = b.call('session', 'list-running');
    let ended = false;
    void refused.catch(() => (ended = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(ended).toBe(false);
    await b.elector.tryOnce();
    await expect(refused).rejects.toMatchObject({
      code: 'NOT_LEADER',
      message: expect.stringMatching(/held by pod-a_1:/) as unknown,
    });
    // a lone new daemon: the call waits for the round that makes it the leader, then runs
    const c = setup('pod-c_1');
    const ran = c.call('session', 'list-running');
    await c.elector.tryOnce();
    expect(await ran).toBe(0);
    expect(c.calls).toEqual(['list-running']);
  });

  it('a daemon whose first read failed says it has not seen the holder, not that nobody holds the Lease', async () => {
    const api = new FakeLeaseApi();
    api.put({ name: 'gc-k8s', holderIdentity: 'pod-a_1', leaseDurationSeconds: 15, acquireTimeMs: 0, renewTimeMs: 0, leaseTransitions: 0 });
    api.failNext(new GcK8sError('K8S_UNAVAILABLE', 'connection refused'));
    const b = setup('pod-b_1', api);
    expect(await b.elector.tryOnce()).toBe(false);
    await expect(b.call('session', 'list-running')).rejects.toMatchObject({
      code: 'NOT_LEADER',
      message: expect.stringMatching(/held by a daemon this one has not seen yet \(it could not read the lease yet\)/) as unknown,
    });
    // released (holder ""): an election is under way
    api.put({ name: 'gc-k8s', holderIdentity: '', leaseDurationSeconds: 1, acquireTimeMs: 0, renewTimeMs: 0, leaseTransitions: 0 });
    const c = setup('pod-c_1', api);
    // c reads the released Lease, then its write to take it fails
    const get = api.get.bind(api);
    api.get = async (name, options) => {
      const lease = await get(name, options);
      api.failNext(new GcK8sError('K8S_UNAVAILABLE', 'connection refused'));
      return lease;
    };
    expect(await c.elector.tryOnce()).toBe(false);
    expect(c.elector.status()).toMatchObject({ holder: '', seen: true });
    await expect(c.call('session', 'list-running')).rejects.toMatchObject({
      message: expect.stringMatching(/held by no daemon \(an election is under way\)/) as unknown,
    });
    expect(b.calls).toEqual([]);
    expect(c.calls).toEqual([]);
  });

  it("a leader's op is cancelled the moment it loses the Lease", async () => {
    const a = setup('pod-a_1');
    await a.elector.tryOnce();
    const running = a.call('session', 'start');
    await new Promise((r) => setTimeout(r, 10));
    const [signal] = a.signals;
    expect(signal?.aborted).toBe(false);
    // another daemon took the Lease (split brain): the next renewal sees it
    a.api.put({
      name: 'gc-k8s',
      holderIdentity: 'pod-z_9',
      leaseDurationSeconds: 15,
      acquireTimeMs: 0,
      renewTimeMs: 0,
      leaseTransitions: 1,
    });
    a.clock.t += 2_000;
    await a.elector.tryOnce();
    expect(signal?.aborted).toBe(true);
    a.release();
    await running;
  });
});
