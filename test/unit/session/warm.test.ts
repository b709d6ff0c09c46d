import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_POD_SETTINGS, type PodSettings } from '../../../src/session/settings.js';
import { DEFAULT_SESSION_OPTIONS } from '../../../src/session/options.js';
import { SessionProvider } from '../../../src/session/provider.js';
import { parseStartRequest } from '../../../src/session/request.js';
import { buildAgentSession } from '../../../src/session/manifest.js';
import { buildWarmPod, LABEL_POOL, LABEL_WARM, warmIneligibility, warmKey, warmLaunch } from '../../../src/session/warm.js';
import { WarmPool } from '../../../src/session/warm-pool.js';
import { WARM_LAUNCH_SCRIPT } from '../../../src/session/entrypoint.js';
import { silentLogger } from '../../../src/log/logger.js';
import { systemClock } from '../../../src/util/clock.js';
import { KeyedMutex } from '../../../src/util/keyed-mutex.js';
import { DirectRunner } from '../../../src/exec/runner.js';
import { FakeCluster } from '../../fakes/fake-cluster.js';
import { GcK8sError } from '../../../src/errors.js';
import { until } from '../../helpers/local-sh.js';

const WARM: PodSettings = { ...DEFAULT_POD_SETTINGS, image: 'gc-agent:test', warmPool: 2, agentEnv: { PLATFORM: 'p' } };
const req = (json: object = { command: 'agent' }) => parseStartRequest(JSON.stringify(json));

describe('warm pod builders', () => {
  it('a warm pod carries no session: no session labels or annotations, no session env, the warm entrypoint', () => {
    const { pod, key } = buildWarmPod(WARM, '/home/me/city', 'abc123');
    expect(pod.metadata.name).toBe(`gc-warm-${key.slice(0, 8)}-abc123`);
    expect(pod.metadata.labels).toMatchObject({ app: 'gc-agent', [LABEL_WARM]: 'idle', [LABEL_POOL]: key });
    expect(pod.metadata.labels).not.toHaveProperty('gc-session');
    expect(pod.metadata.annotations).not.toHaveProperty('gc-session-name');
    const env = pod.spec.containers[0]?.env ?? [];
    expect(env.map((e) => e.name)).toEqual([
      'BEADS_DOLT_PASSWORD',
      'GC_DOLT_PASSWORD',
      'GC_K8S_HISTORY_LIMIT',
      'GC_K8S_WARM',
      'GITHUB_TOKEN',
      'PLATFORM',
    ]);
    expect(env.filter((e) => e.value !== undefined).map((e) => e.name)).toEqual(['GC_K8S_HISTORY_LIMIT', 'GC_K8S_WARM', 'PLATFORM']);
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    // the city's controller path is mounted as a started pod of that city would have it
    expect(pod.spec.containers[0]?.volumeMounts?.map((m) => m.mountPath)).toContain('/home/me/city');
  });

  it('the pool key changes with anything that shapes the pod, and only with that', () => {
    const k = warmKey(WARM, '/c');
    expect(warmKey({ ...WARM, warmPool: 5 }, '/c')).toBe(k);
    expect(warmKey({ ...WARM, image: 'gc-agent:other' }, '/c')).not.toBe(k);
    expect(warmKey({ ...WARM, memLimit: '8Gi' }, '/c')).not.toBe(k);
    expect(warmKey(WARM, '/elsewhere')).not.toBe(k);
  });

  it('says why a session starts cold', () => {
    const why = (r: ReturnType<typeof req>, s: PodSettings = WARM, mode: 'start' | 'provision' = 'start') =>
      warmIneligibility(r, s, buildAgentSession('x', r, s), mode);
    expect(why(req())).toBeUndefined();
    expect(why(req(), { ...WARM, warmPool: 0 })).toMatch(/no warm pool/);
    expect(why(req({ command: 'a', lifecycle: 'one_shot' }))).toMatch(/one_shot/);
    expect(why(req(), WARM, 'provision')).toMatch(/provision/);
    expect(why(req({ command: 'a', env: { ANTHROPIC_API_KEY: 'k' } }))).toMatch(/credentials/);
    expect(why(req({ command: 'a', env: { GC_AGENT: 'coder' } }), { ...WARM, serviceAccountMap: { coder: 'builder' } })).toMatch(
      /service account/,
    );
    expect(why(req(), { ...WARM, workspace: 'claim' })).toMatch(/claim of its own/);
  });

  it('the launch passes every value as one argv element: nothing of the session can become a command', () => {
    const evil = '$(touch /tmp/pwned); `id`; echo "x" \\n';
    const plan = warmLaunch(
      req({
        command: 'claude --resume',
        work_dir: '/home/me/city/rigs/a',
        env: { GC_CITY_PATH: '/home/me/city', GC_SESSION_ID: evil, PLAIN: evil },
        pre_start: ['make setup'],
      }),
      WARM,
      'gc-warm-x',
    );
    expect(plan.workDir).toBe('/workspace/rigs/a');
    const l = plan.launch;
    expect(l.slice(0, 3)).toEqual(['env', '-u', 'GC_DOLT_PASSWORD']);
    expect(l).toContain(`PLAIN=${evil}`);
    const at = l.indexOf(WARM_LAUNCH_SCRIPT);
    expect(l.slice(at - 2, at + 7)).toEqual([
      'sh',
      '-c',
      WARM_LAUNCH_SCRIPT,
      'sh',
      'claude --resume',
      '20000',
      '/workspace/rigs/a',
      'GC_DOLT_PASSWORD BEADS_DOLT_PASSWORD',
      '-',
    ]);
    expect(warmLaunch(req(), WARM, 'p', 50).launch).toContain('0.050');
    expect(l.slice(at + 6)).toContain(`GC_SESSION_ID=${evil}`);
    expect(plan.preStart[0]?.slice(-2)).toEqual(['/workspace/rigs/a', 'make setup']);
  });
});

describe('starts from a warm pool', () => {
  let fake: FakeCluster;
  let pool: WarmPool | undefined;
  let provider: SessionProvider;
  const signal = () => AbortSignal.timeout(5_000);
  function make(settings: Partial<PodSettings> = {}) {
    const deps = {
      client: fake,
      settings: { ...WARM, ...settings },
      options: { ...DEFAULT_SESSION_OPTIONS, settleMs: 0, warmSettleMs: 0, containerExitWaitMs: 150, diedReportWaitMs: 250 },
      clock: systemClock,
      log: silentLogger(),
      locks: new KeyedMutex(),
      runner: new DirectRunner(fake.exec),
      origin: { cityDir: '', fingerprint: 'f' },
    };
    pool = new WarmPool(deps, deps.settings.warmPool);
    provider = new SessionProvider({ ...deps, warm: pool });
  }
  const warmPods = () => fake.agentPods.list().filter((p) => p.labels[LABEL_WARM] === 'idle' && p.deletionTimestamp === undefined);
  beforeEach(async () => {
    fake = new FakeCluster();
    make();
    await until(() => warmPods().length === 2 && warmPods().every((p) => p.phase === 'Running'), 'the pool is full');
  });
  afterEach(() => {
    pool?.close();
  });

  it('a start claims a warm pod (no pod is created for it), which is then the session for every op; the pool refills', async () => {
    const [first] = warmPods()
      .map((p) => p.name)
      .sort();
    fake.calls.length = 0;
    await provider.start('mayor', req({ command: 'agent', env: { GC_SESSION_ID: 's-1' } }), signal());
    expect(fake.calls.filter((c) => c.startsWith('create mayor'))).toEqual([]);
    const claimed = fake.agentPods.list().find((p) => p.annotations['gc-session-name'] === 'mayor');
    expect(claimed?.labels).toMatchObject({ [LABEL_WARM]: 'claimed', 'gc-session': 'mayor' });
    expect(claimed?.annotations['gc-k8s.io/start-pending']).toBeUndefined(); // the start finished
    expect(fake.warmLaunches.map((l) => l.pod)).toEqual([claimed?.name]);
    expect(await provider.isRunning('mayor', signal())).toBe(true);
    expect(await provider.listRunning('', signal())).toEqual(['mayor']);
    expect(await provider.getMeta('mayor', 'GC_SESSION_ID', signal())).toBe('s-1');
    expect(first).toBeDefined();
    await until(() => warmPods().length === 2, 'the pool refilled');
    await provider.stop('mayor', signal());
    expect(fake.agentPods.get(claimed?.name ?? '')).toBeUndefined(); // used once, gone with its session
  });

  it('a session that does not fit (credentials) starts cold, and the pool is left alone', async () => {
    fake.calls.length = 0;
    await provider.start('keyed', req({ command: 'agent', env: { MY_API_KEY: 'k' } }), signal());
    expect(fake.calls).toContain('create keyed');
    expect(warmPods()).toHaveLength(2);
  });

  it('two starts never take one warm pod', async () => {
    make({ warmPool: 1 });
    await until(() => warmPods().length >= 1, 'pool');
    await Promise.all([provider.start('a', req(), signal()), provider.start('b', req(), signal())]);
    const owners = fake.warmLaunches.map((l) => l.pod);
    expect(new Set(owners).size).toBe(owners.length);
    expect(await provider.listRunning('', signal())).toEqual(['a', 'b']);
  });

  it("removes idle pods of this city's pools nobody keeps any more once they are old, never another city's", async () => {
    const old = new Date(Date.now() - 3_600_000).toISOString();
    const idle = (name: string, pool: string, city: string, created: string) =>
      fake.addPod({
        name,
        phase: 'Running',
        creationTimestamp: created,
        labels: { app: 'gc-agent', [LABEL_WARM]: 'idle', [LABEL_POOL]: pool },
        annotations: city === '' ? {} : { 'gc-k8s.io/city': city },
      });
    idle('stale-old', 'oldkey', '', old);
    idle('stale-young', 'oldkey', '', new Date().toISOString());
    idle('other-city', 'oldkey', '/other', old);
    pool?.poke();
    await until(() => fake.calls.includes('delete stale-old'), 'the stale pod is removed');
    expect(fake.calls).not.toContain('delete stale-young');
    expect(fake.calls).not.toContain('delete other-city');
  });

  it('a claim the server applied as its caller gave up leaves no session behind', async () => {
    const controller = new AbortController();
    const apply = fake.claim.bind(fake);
    fake.claim = async (...args: Parameters<FakeCluster['claim']>) => {
      await apply(...args);
      controller.abort(new GcK8sError('ABORTED', 'client disconnected'));
      throw new GcK8sError('ABORTED', 'claiming: the call was cancelled');
    };
    await expect(provider.start('gone', req(), controller.signal)).rejects.toThrow();
    await until(() => !fake.agentPods.list().some((p) => p.annotations['gc-session-name'] === 'gone'), 'the claimed pod is removed');
  });

  it('a failed launch deletes the warm pod and fails the start with the reason', async () => {
    fake.failWarmLaunch = true;
    await expect(provider.start('bad', req(), signal())).rejects.toThrow(
      /launching the agent in warm pod gc-warm-\w+-\w+ failed: tmux new-session failed/,
    );
    expect(fake.agentPods.list().some((p) => p.annotations['gc-session-name'] === 'bad')).toBe(false);
  });
});
