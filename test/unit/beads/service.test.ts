// The beads runtime against fakes: a fake API server (pods, ConfigMaps) and a "runner" whose
// exec runs the real channel program locally with a fake bd. Runner recreation, re-initializing
// every store from the cluster's registry, and per-store serialization.
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { REGISTRY_CONFIGMAP, type StoreRecord } from '../../../src/beads/registry.js';
import { RUNNER_POD } from '../../../src/beads/runner/manifest.js';
import { BeadsService } from '../../../src/beads/service.js';
import { DEFAULT_POD_SETTINGS } from '../../../src/session/settings.js';
import { silentLogger } from '../../../src/log/logger.js';
import { systemClock } from '../../../src/util/clock.js';
import { FakeCluster, waiting } from '../../fakes/fake-cluster.js';
import { FakeConfigMapServer } from '../../fakes/fake-configmaps.js';
import { localPod, type LocalPod } from './helpers/local-exec.js';

const settings = { ...DEFAULT_POD_SETTINGS, image: 'gc-agent:test' };
const signal = (): AbortSignal => AbortSignal.timeout(8_000);
const record = (workdir: string, prefix: string): StoreRecord => ({
  workdir,
  prefix,
  database: '',
  host: 'dolt',
  port: '3307',
  user: 'root',
  customTypes: ['molecule'],
});
const city = { workdir: '/workspace', fallback: record('/workspace', 'gc'), idempotent: true };
const rig = { workdir: '/workspace/rigs/a', fallback: record('/workspace/rigs/a', 'ra'), idempotent: true };

let fake: FakeCluster;
let cms: FakeConfigMapServer;
let pod: LocalPod;
let service: BeadsService;

const inits = (): string[] =>
  pod
    .calls()
    .filter((c) => c[1] === 'init')
    .map((c) => c[0]!);

beforeEach(() => {
  fake = new FakeCluster();
  cms = new FakeConfigMapServer({ namespace: 'gc' });
  pod = localPod();
  fake.exec = pod.exec;
  fake.configMaps = cms.api();
  service = new BeadsService(fake, systemClock, silentLogger());
});
afterEach(() => {
  service.close();
  pod.cleanup();
});

async function deleteRunner(): Promise<string> {
  const uid = fake.agentPods.get(RUNNER_POD)?.uid ?? '';
  await fake.delete(RUNNER_POD, { signal: signal() });
  pod.reset(); // the pod's processes and filesystem go with it
  return uid;
}

describe('beads service', () => {
  it('creates the runner, initializes an unknown store once and records it in the cluster', async () => {
    await service.withStore(settings, city, signal(), (run) => run(['list']));
    await service.withStore(settings, city, signal(), (run) => run(['list']));
    expect(fake.lastManifest?.metadata.name).toBe(RUNNER_POD);
    expect(pod.calls().map((c) => c.slice(1, 3).join(' '))).toEqual(['init --server', 'config set', 'config set', 'list', 'list']);
    expect(pod.calls()[0]).toEqual([
      '/workspace',
      'init',
      '--server',
      '--server-host=dolt',
      '--server-port=3307',
      '--server-user=root',
      '--prefix=gc',
      '--database=gc',
      '--skip-hooks',
      '--skip-agents',
      '--non-interactive',
      '--quiet',
    ]);
    expect(Object.values(cms.object(REGISTRY_CONFIGMAP)?.data ?? {}).map((v) => (JSON.parse(v) as StoreRecord).workdir)).toEqual([
      '/workspace',
    ]);
  });

  it('refuses a store nobody initialized when there is no prefix to initialize it with', async () => {
    await expect(
      service.withStore(settings, { workdir: '/workspace/x', idempotent: true }, signal(), (run) => run(['list'])),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('not initialized') as string,
    });
  });

  it('a deleted runner is recreated by the next call, and every registered store is initialized again', async () => {
    await service.withStore(settings, city, signal(), (run) => run(['list']));
    await service.withStore(settings, rig, signal(), (run) => run(['list']));
    expect(inits().sort()).toEqual(['/workspace', '/workspace/rigs/a']);
    const oldUid = await deleteRunner();

    // Only the city store is used; the rig comes back too, without anyone calling init for it.
    const r = await service.withStore(settings, { workdir: '/workspace', idempotent: true }, signal(), (run) => run(['echo', 'ok']));
    expect(r.stdout).toBe('ok\0');
    expect(fake.agentPods.get(RUNNER_POD)?.uid).not.toBe(oldUid);
    await service.withStore(settings, { workdir: '/workspace/rigs/a', idempotent: true }, signal(), (run) => run(['list']));
    expect(inits().sort()).toEqual(['/workspace', '/workspace', '/workspace/rigs/a', '/workspace/rigs/a']);
  });

  it('a new daemon finds its stores in the registry and does not re-run bd init on a runner that has them', async () => {
    await service.withStore(settings, city, signal(), (run) => run(['list']));
    const fresh = new BeadsService(fake, systemClock, silentLogger());
    await fresh.withStore(settings, { workdir: '/workspace', idempotent: true }, signal(), (run) => run(['list']));
    fresh.close();
    expect(inits()).toEqual(['/workspace']);
  });

  it('serializes calls on one store and runs different stores in parallel', async () => {
    const active = new Map<string, number>();
    let maxPerStore = 0;
    let maxTotal = 0;
    const work = (call: typeof city) =>
      service.withStore(settings, call, signal(), async (run) => {
        active.set(call.workdir, (active.get(call.workdir) ?? 0) + 1);
        maxPerStore = Math.max(maxPerStore, ...active.values());
        maxTotal = Math.max(
          maxTotal,
          [...active.values()].reduce((a, b) => a + b, 0),
        );
        try {
          return await run(['sleep', '0.2']);
        } finally {
          active.set(call.workdir, (active.get(call.workdir) ?? 1) - 1);
        }
      });
    await Promise.all([work(city), work(city), work(rig), work(rig)]);
    expect(maxPerStore).toBe(1);
    expect(maxTotal).toBe(2);
  });

  it('a runner that cannot start fails the call with its reason instead of waiting', async () => {
    fake.kubelet = (p, f) => {
      queueMicrotask(() => {
        f.update(p.name, { phase: 'Pending', containers: [{ ...waiting('ErrImageNeverPull', 'image not present'), name: 'beads' }] });
      });
    };
    await expect(service.withStore(settings, city, signal(), (run) => run(['list']))).rejects.toMatchObject({
      code: 'START_FAILED',
      message: expect.stringContaining('ErrImageNeverPull') as string,
    });
  });

  it('holds few execs however many stores there are: LRU channels, bounded re-init after a runner loss', async () => {
    let active = 0;
    let maxActive = 0;
    const inner = pod.exec;
    fake.exec = {
      exec: async (req) => {
        maxActive = Math.max(maxActive, ++active);
        try {
          return await inner.exec(req);
        } finally {
          active--;
        }
      },
    };
    const stores = Array.from({ length: 12 }, (_, i) => ({
      workdir: `/workspace/s${i}`,
      fallback: record(`/workspace/s${i}`, `s${i}`),
      idempotent: true,
    }));
    for (const st of stores) await service.withStore(settings, st, signal(), (run) => run(['list']));
    expect(service.openChannels).toBeLessThanOrEqual(6);
    expect(maxActive).toBeLessThanOrEqual(7);
    await deleteRunner();
    maxActive = 0;
    await service.withStore(settings, stores[0]!, signal(), (run) => run(['list']));
    for (const st of stores) await service.withStore(settings, st, signal(), (run) => run(['list']));
    // the re-initialization of the stores not asked for yet runs in the background: let it finish
    await vi.waitFor(() => {
      expect(inits().filter((w) => w.startsWith('/workspace/s'))).toHaveLength(24);
    });
    expect(maxActive).toBeLessThanOrEqual(6 + 3 + 1);
    service.closeIdle(Date.now() + 1);
    expect(service.openChannels).toBe(0);
  });

  it("init with other Dolt coordinates redoes the store's .beads; the same ones only refresh config", async () => {
    await service.init(settings, record('/workspace', 'gc'), signal());
    await service.init(settings, record('/workspace', 'gc'), signal());
    expect(inits()).toEqual(['/workspace']);
    await service.init(settings, { ...record('/workspace', 'gc'), host: 'dolt2' }, signal());
    expect(
      pod
        .calls()
        .filter((c) => c[1] === 'init')
        .map((c) => c[3]),
    ).toEqual(['--server-host=dolt', '--server-host=dolt2']);
  });

  it('recover replaces a failed runner and re-initializes every store now', async () => {
    await service.withStore(settings, city, signal(), (run) => run(['list']));
    await service.withStore(settings, rig, signal(), (run) => run(['list']));
    fake.update(RUNNER_POD, { phase: 'Failed' });
    pod.reset();
    await service.recover(settings, signal());
    expect(inits().sort()).toEqual(['/workspace', '/workspace', '/workspace/rigs/a', '/workspace/rigs/a']);
  });

  it("recover waits out bd's Dolt circuit breaker once instead of failing right after an outage", async () => {
    const slept: number[] = [];
    service.close();
    // the cooldown is recorded instead of waited; the runner's polling keeps real sleeps
    const clock = {
      now: () => Date.now(),
      sleep: (ms: number, s: AbortSignal) => (ms >= 5_000 ? Promise.resolve(void slept.push(ms)) : systemClock.sleep(ms, s)),
    };
    service = new BeadsService(fake, clock, silentLogger());
    await service.withStore(settings, city, signal(), (run) => run(['list']));
    writeFileSync(`${pod.log}.breaker`, '');
    await service.recover(settings, signal());
    expect(slept).toEqual([5_500]);
    // the store's .beads is there: recover refreshes its config, refused once by the breaker, then done
    const calls = pod.calls().map((c) => c.slice(1, 3).join(' '));
    expect(calls.slice(-3)).toEqual(['config set', 'config set', 'config set']);
  });
});
