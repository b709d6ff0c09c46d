// Warm pools on the real local cluster: starts claim warm pods (no pod is made for them) and the
// pool refills; a claimed session is a session in every respect (ops, kubectl exec … tmux, its
// entrypoint ending the pod when the agent ends); nothing of one session reaches the next
// claimant; sessions that do not fit start cold and say why; a quota the pool does not fit in
// stops it short, visibly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, until } from './harness.js';

const h = new Harness();
const WARM = { GC_K8S_WARM_POOL: '2' };
const bash = (env: Record<string, string> = {}) => JSON.stringify({ command: 'bash', env });

const ok = async (argv: string[], stdin = '', extra: Record<string, string> = WARM): Promise<string> =>
  (await h.sessionOk(argv, stdin, extra)).trimEnd();
const idleReady = async (): Promise<string[]> => {
  const out = (
    await h.k([
      'get',
      'pods',
      '-l',
      'gc-k8s.io/warm=idle',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.metadata.deletionTimestamp}{"\\n"}{end}',
    ])
  ).out;
  return out
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter((f) => f[1] === 'Running' && f[2] === undefined)
    .map((f) => f[0] ?? '');
};
const podOf = async (session: string): Promise<string> =>
  (await h.k(['get', 'pods', '-l', `gc-session=${session}`, '-o', 'jsonpath={.items[0].metadata.name}'])).out;
const sessions = async (extra: Record<string, string> = WARM) => {
  const r = await h.script('gc-k8s', ['sessions', '--json'], '', extra);
  expect(r, r.err).toMatchObject({ code: 0 });
  return JSON.parse(r.out) as {
    sessions: { session: string; state: string; pod: string; from: string; coldBecause: string }[];
    warmPools: { pool: string; ready: number; size: number | null; shortBecause: string }[];
  };
};

beforeAll(async () => {
  await h.setup();
  await sessions(); // the daemon's status starts the city's pool
  await until(async () => (await idleReady()).length === 2, 'the pool is full');
});
afterAll(async () => {
  await h.teardown();
});

describe('a warm pool', () => {
  it('a start claims a warm pod, which is then the session for every op and for kubectl exec … tmux; the pool refills', async () => {
    const before = await idleReady();
    await ok(['start', 'w1'], bash({ GC_SESSION_ID: 'sid-1', FOO: 'one' }));
    const pod = await podOf('w1');
    expect(before).toContain(pod); // no pod was made for it
    expect((await h.k(['get', 'pod', pod, '-o', 'jsonpath={.metadata.labels.gc-k8s\\.io/warm}'])).out).toBe('claimed');
    expect(await ok(['is-running', 'w1'])).toBe('true');
    expect(await ok(['list-running', ''])).toBe('w1');
    expect(await ok(['get-meta', 'w1', 'GC_SESSION_ID'])).toBe('sid-1');
    await ok(['nudge', 'w1'], 'echo "warm:$FOO"');
    await until(async () => (await ok(['peek', 'w1', '20'])).includes('warm:one'), 'the nudge ran with the session env');
    // what a human does
    const attach = await h.k(['exec', pod, '-c', 'agent', '--', 'tmux', 'list-sessions', '-F', '#{session_name}']);
    expect(attach.out).toBe('main\n');
    await until(async () => (await idleReady()).length === 2, 'the pool refilled');
    expect(await idleReady()).not.toContain(pod);
  });

  it("never carries one session's env, meta or files into the next claimant", async () => {
    await ok(['set-meta', 'w1', 'SECRET_NOTE'], 'of-w1');
    await ok(['exec', 'w1'], 'echo w1-data > /workspace/w1-file');
    const first = await podOf('w1');
    await ok(['stop', 'w1']);
    expect((await h.k(['get', 'pod', first, '--ignore-not-found', '-o', 'name'])).out).toBe(''); // used once
    await ok(['start', 'w2'], bash({ GC_SESSION_ID: 'sid-2' }));
    const second = await podOf('w2');
    expect(second).not.toBe(first);
    expect(second).toMatch(/^gc-warm-/);
    expect(await ok(['exec', 'w2'], 'echo "${FOO-unset}"; ls -A /workspace')).toBe('unset');
    expect(await ok(['get-meta', 'w2', 'SECRET_NOTE'])).toBe('');
    expect(await ok(['get-meta', 'w2', 'GC_SESSION_ID'])).toBe('sid-2');
    await ok(['stop', 'w2']);
  });

  it("ends its pod when the agent ends, with the agent's status, as a started pod does", async () => {
    await ok(['start', 'w3'], JSON.stringify({ command: 'sleep 1; exit 3' }));
    const pod = await podOf('w3');
    expect(pod).toMatch(/^gc-warm-/);
    await until(
      async () => (await h.k(['get', 'pod', pod, '-o', 'jsonpath={.status.containerStatuses[0].state.terminated.exitCode}'])).out === '3',
      'the agent ended',
    );
    expect(await ok(['is-running', 'w3'])).toBe('false');
    await ok(['stop', 'w3']);
  });

  it('a session that does not fit a warm pod starts cold, and says why', async () => {
    await ok(['start', 'cold1'], bash({ MY_API_KEY: 'k-123' }));
    expect(await podOf('cold1')).toBe('cold1');
    const row = (await sessions()).sessions.find((s) => s.session === 'cold1');
    expect(row).toMatchObject({ state: 'running', from: 'cold' });
    expect(row?.coldBecause).toMatch(/credentials/);
    // the credential never went anywhere but the session's own Secret
    expect((await h.k(['get', 'pod', 'cold1', '-o', 'json'])).out).not.toContain('k-123');
    await ok(['stop', 'cold1']);
  });

  it('stops short under a quota it does not fit in, says why, and still starts sessions', async () => {
    // only the pool's two pods left (the sessions above are gone), then room for one more
    await until(
      async () => (await h.k(['get', 'pods', '-o', 'name'])).out.trim().split('\n').filter(Boolean).length === 2,
      'only the pool left',
    );
    const quota = { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'few-pods' }, spec: { hard: { pods: '3' } } };
    expect((await h.run(h.kubectl, ['-n', h.namespace, 'create', '-f', '-'], JSON.stringify(quota))).code).toBe(0);
    const BIG = { GC_K8S_WARM_POOL: '4' };
    let seen: unknown;
    await until(async () => {
      const pools = (await sessions(BIG)).warmPools;
      seen = pools;
      return pools.some((p) => p.size === 4 && /quota/.test(p.shortBecause));
    }, 'the pool reports the quota').catch((err: unknown) => {
      throw new Error(`${String(err)}: last seen ${JSON.stringify(seen)}`);
    });
    const pool = (await sessions(BIG)).warmPools.find((p) => p.size === 4);
    expect(pool?.shortBecause).toMatch(/few-pods/);
    await ok(['start', 'q1'], bash(), BIG); // from the pool, which has what the quota allowed
    expect(await ok(['is-running', 'q1'], '', BIG)).toBe('true');
    await ok(['stop', 'q1'], '', BIG);
  });
});
