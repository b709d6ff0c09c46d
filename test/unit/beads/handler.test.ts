// The exec beads protocol handler against fakes: exit codes, stdout, and that bad input fails
// before the cluster is touched.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findCityToml, loadConfig } from '../../../src/config/load.js';
import { BEADS_HANDLERS } from '../../../src/daemon/handlers/beads.js';
import { createRouter } from '../../../src/daemon/router.js';
import { NamespaceRuntime } from '../../../src/daemon/runtime.js';
import type { RequestHandler } from '../../../src/daemon/server.js';
import { silentLogger } from '../../../src/log/logger.js';
import { PROTOCOL_VERSION, type Request } from '../../../src/protocol/messages.js';
import { FakeCluster } from '../../fakes/fake-cluster.js';
import { FakeConfigMapServer } from '../../fakes/fake-configmaps.js';
import { localPod, type LocalPod } from './helpers/local-exec.js';

let fake: FakeCluster;
let pod: LocalPod;
let router: RequestHandler;
let runtime: NamespaceRuntime;
let touched: number;

const ENV = {
  GC_K8S_IMAGE: 'gc-agent:test',
  GC_CITY_PATH: '/city',
  GC_STORE_ROOT: '/city/rigs/a',
  GC_BEADS_PREFIX: 'ra',
  GC_K8S_OP_TIMEOUT: '5s',
};

async function call(
  op: string,
  args: string[] = [],
  stdin?: string,
  env: Record<string, string> = {},
): Promise<{ exit: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const request: Request = {
    v: PROTOCOL_VERSION,
    provider: 'beads',
    op,
    args,
    env: { ...ENV, ...env },
    cwd: '/nonexistent-cwd',
    ...(stdin === undefined ? {} : { stdin }),
  };
  const exit = await router(request, { out: (d) => (out += d), err: (d) => (err += d), signal: AbortSignal.timeout(8_000) });
  return { exit, out, err };
}

beforeEach(() => {
  fake = new FakeCluster();
  pod = localPod();
  fake.exec = pod.exec;
  fake.configMaps = new FakeConfigMapServer({ namespace: 'gc' }).api();
  runtime = new NamespaceRuntime({ context: '', client: fake, log: silentLogger(), serviceAddress: () => Promise.resolve(undefined) });
  // the daemon's own router, with the beads handlers, on a runtime of the fake namespace
  router = createRouter({
    log: silentLogger(),
    runtimes: {
      get: () => {
        touched++;
        return Promise.resolve(runtime);
      },
    },
    handlers: { beads: BEADS_HANDLERS, session: {}, events: {}, admin: {} },
    resolve: (request) =>
      Promise.resolve({ config: loadConfig({ env: request.env, cityToml: findCityToml(request.env, request.cwd) }), source: 'none' }),
  });
  touched = 0;
});
afterEach(async () => {
  await runtime.close();
  pod.cleanup();
});

describe('beads handler', () => {
  it('exits 2 only for ops that are not part of the protocol', async () => {
    for (const op of ['mol-cook', 'purge', 'frobnicate']) expect((await call(op)).exit).toBe(2);
    expect(touched).toBe(0);
  });

  it.each([
    ['create', [], '{bad'],
    ['create', [], '{"title":""}'],
    ['update', ['gc-1'], '{"priority":"high"}'],
    ['get', [], undefined],
    ['dep-add', ['a'], undefined],
    ['list', ['--limit=-1'], undefined],
    ['list-by-label', ['l', 'x'], undefined],
    ['list', ['--sort=x'], undefined],
    ['list', ['open'], undefined],
    ['ready', ['--include-deferred'], undefined],
    ['ready-count', ['--min', '5', '--max', '2'], undefined],
    ['ready-count', ['--max=-1'], undefined],
    ['ready-count', ['--type='], undefined],
    ['ready-count', ['--include-ephemeral'], undefined],
    ['reopen', [], undefined],
    ['create', [], '{"title":"t","ephemeral":"yes"}'],
    ['create', [], '{"title":"t","defer_until":"tomorrow"}'],
  ])('%s %j with bad input fails before touching the cluster', async (op, args, stdin) => {
    await expect(call(op, args, stdin)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(touched).toBe(0);
  });

  it('refuses a store outside the city, and store ops without an image', async () => {
    await expect(call('list', [], undefined, { GC_STORE_ROOT: '/other' })).rejects.toThrow('store root /other is outside city root /city');
    await expect(call('list', [], undefined, { GC_K8S_IMAGE: '' })).rejects.toThrow(/GC_K8S_IMAGE is required/);
    expect(touched).toBe(0);
  });

  it('runs a store op in the mapped directory and prints JSON', async () => {
    const r = await call('ready');
    expect(r).toEqual({ exit: 0, out: '[]\n', err: '' });
    expect(pod.calls().at(-1)).toEqual(['/workspace/rigs/a', 'ready', '--json', '--limit=0']);
    expect((await call('ready', ['--include-ephemeral'])).exit).toBe(0);
    expect(pod.calls().at(-1)).toEqual(['/workspace/rigs/a', 'ready', '--json', '--limit=0', '--include-ephemeral']);
  });

  it('ready-count asks bd for the ready set (no wisps) and prints one clamped integer', async () => {
    expect(await call('ready-count', ['--type', 'task'])).toEqual({ exit: 0, out: '0\n', err: '' });
    expect(pod.calls().at(-1)).toEqual(['/workspace/rigs/a', 'ready', '--json', '--limit=0']);
    expect(await call('ready-count', ['--label=gpu', '--min', '2', '--max', '4'])).toEqual({ exit: 0, out: '2\n', err: '' });
    expect(pod.calls().at(-1)).toEqual(['/workspace/rigs/a', 'ready', '--json', '--limit=0']);
  });

  it('names an argument a 1.x op does not take (exit 1, never 2), bounded and on one line', async () => {
    await expect(call('ready', ['--bogus'])).rejects.toThrow(/^ready: unsupported argument: --bogus$/);
    await expect(call('list', ['--status=open', '--x\ny'])).rejects.toThrow(/^list: unsupported argument: --x\?y$/);
    const long = await call('ready', ['-'.repeat(5000)]).then(
      () => '',
      (err: unknown) => (err as Error).message,
    );
    expect(long).toMatch(/^ready: unsupported argument: -+…$/);
    expect(long.length).toBeLessThan(200);
    expect(touched).toBe(0);
  });

  it('reopen runs bd reopen on the id, after --', async () => {
    expect((await call('reopen', ['gc-1'])).exit).toBe(0);
    expect(pod.calls().at(-1)).toEqual(['/workspace/rigs/a', 'reopen', '--json', '--', 'gc-1']);
  });

  it('probe answers with one API call; health reports a missing runner', async () => {
    expect((await call('probe')).exit).toBe(0);
    expect(fake.calls).toEqual(['get gc-beads-runner']);
    const h = await call('health', [], undefined, { GC_K8S_DOLT_HOST: '127.0.0.1' });
    expect(h.exit).toBe(1);
    expect(h.err).toMatch(/unhealthy: beads runner gc-beads-runner does not exist/);
  });
});
