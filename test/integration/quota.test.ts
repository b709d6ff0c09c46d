// The namespace policy `gc-k8s install` applies, under pressure on the real local cluster: with
// its ResourceQuota sized (--set) for two pods, two sessions start and the third fails at once
// with exit 75 (gc retries later) naming the quota, leaving nothing; its LimitRange fills in the
// resources of a session that names none. Admission is the API server's own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from './harness.js';

const h = new Harness();
const BARE = { GC_K8S_CPU_REQUEST: 'none', GC_K8S_MEM_REQUEST: 'none', GC_K8S_CPU_LIMIT: 'none', GC_K8S_MEM_LIMIT: 'none' };

beforeAll(async () => {
  await h.setup();
  const r = await h.script('gc-k8s', ['install', '--namespace', h.namespace, '--set', 'quota.pods=2']);
  expect(r, r.err).toMatchObject({ code: 0 });
  // the quota admission plugin may take a moment to see a new quota: until it counts pods
  const quota = async () => (await h.k(['get', 'resourcequota', 'gc-agents', '-o', 'jsonpath={.status.hard.pods}'])).out.trim();
  for (let i = 0; i < 100 && (await quota()) !== '2'; i++) await new Promise((res) => setTimeout(res, 100));
  expect(await quota()).toBe('2');
});

afterAll(async () => {
  for (const s of ['q1', 'q2', 'q3']) await h.session(['stop', s]);
  const r = await h.script('gc-k8s', ['uninstall', '--namespace', h.namespace]);
  expect(r, r.err).toMatchObject({ code: 0 });
  await h.teardown();
});

describe('a namespace installed by gc-k8s install', () => {
  it('the LimitRange fills in the resources of a session that names none', async () => {
    await h.sessionOk(['start', 'q1'], JSON.stringify({ command: 'bash' }), BARE);
    const res = JSON.parse(
      (await h.k(['get', 'pods', '-l', 'gc-session=q1', '-o', 'jsonpath={.items[0].spec.containers[0].resources}'])).out,
    ) as { requests: Record<string, string>; limits: Record<string, string> };
    expect(res).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '4Gi' } });
  });

  it('the quota admits two pods; the third session fails at once with exit 75 naming the quota, and leaves nothing', async () => {
    await h.sessionOk(['start', 'q2'], JSON.stringify({ command: 'bash' }));
    const r = await h.session(['start', 'q3'], JSON.stringify({ command: 'bash' }));
    expect(r.code).toBe(75);
    expect(r.err).toMatch(/the namespace quota has no room for session "q3": .*exceeded quota: gc-agents.*pods=2/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    const left = await h.k(['get', 'pods,secrets,persistentvolumeclaims', '-l', 'gc-session=q3', '-o', 'name']);
    expect(left, left.err).toMatchObject({ code: 0, out: '' });
    expect((await h.k(['get', 'pods', '-o', 'name'])).out.trim().split('\n').sort()).toHaveLength(2);
    // room again once the quota controller has counted the stopped pod out: the next start succeeds
    await h.sessionOk(['stop', 'q2']);
    let again = await h.session(['start', 'q3'], JSON.stringify({ command: 'bash' }));
    for (let i = 0; i < 20 && again.code === 75; i++) {
      await new Promise((res) => setTimeout(res, 500));
      again = await h.session(['start', 'q3'], JSON.stringify({ command: 'bash' }));
    }
    expect(again, again.err).toMatchObject({ code: 0 });
  });
});
