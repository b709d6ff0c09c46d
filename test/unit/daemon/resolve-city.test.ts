// Which city's settings a request gets, as gc runs the scripts: from its supervisor's directory,
// with no city in the environment, the city only in start's payload.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigCache } from '../../../src/config/cache.js';
import type { Pod } from '../../../src/kube/types.js';
import { CityRegistry } from '../../../src/daemon/cities.js';
import { resolveCity, sessionCitiesIn, type ResolveDeps } from '../../../src/daemon/resolve-city.js';
import { silentLogger } from '../../../src/log/logger.js';
import { PROTOCOL_VERSION, type Request } from '../../../src/protocol/messages.js';

let root: string;
let cityA: string;
let cityB: string;
let pods: Map<string, Pod[]>;
let registry: CityRegistry;
let deps: ResolveDeps;
let lookups: number;

function city(name: string, namespace: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'city.toml'),
    `[workspace]\nname = "${name}"\n[session.k8s]\nnamespace = "${namespace}"\nimage = "img-${name}"\ncpu_limit = "3"\n`,
  );
  return dir;
}

function pod(name: string, session: string, cityDir?: string): Pod {
  return {
    name,
    namespace: '',
    uid: name,
    resourceVersion: '1',
    labels: { app: 'gc-agent', 'gc-session': session },
    annotations: { 'gc-session-name': session, ...(cityDir === undefined ? {} : { 'gc-k8s.io/city': cityDir }) },
    phase: 'Running',
    containers: [],
    creationTimestamp: '',
  } as unknown as Pod;
}

function request(op: string, args: string[], extra: Partial<Request> = {}): Request {
  return { v: PROTOCOL_VERSION, provider: 'session', op, args, env: {}, cwd: '/', ...extra };
}

const resolve = (r: Request) => resolveCity(r, deps, AbortSignal.timeout(5_000));

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'gck8s-cities-'));
  cityA = city('alpha', 'ns-a');
  cityB = city('beta', 'ns-b');
  pods = new Map();
  lookups = 0;
  registry = new CityRegistry(join(root, 'state', 'cities.json'), silentLogger());
  const lookup = sessionCitiesIn((_context, namespace) => {
    lookups++;
    return Promise.resolve(pods.get(namespace) ?? []);
  });
  deps = { configs: new ConfigCache(), registry, sessionCities: lookup };
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('resolveCity', () => {
  it('start takes the city from its payload when gc runs the script from / with no city env, and remembers it', async () => {
    const r = await resolve(request('start', ['mayor'], { stdin: JSON.stringify({ command: 'x', env: { GC_CITY: cityA } }) }));
    expect(r).toMatchObject({
      source: 'start payload',
      config: { cityDir: cityA, pod: { namespace: 'ns-a', image: 'img-alpha', cpuLimit: '3' } },
    });
    expect(r.warning).toBeUndefined();
    expect(registry.list().map((c) => [c.dir, c.namespace])).toEqual([[cityA, 'ns-a']]);
    // a restarted daemon reads what this one recorded
    expect(new CityRegistry(join(root, 'state', 'cities.json'), silentLogger()).list().map((c) => c.dir)).toEqual([cityA]);
  });

  it('later ops on a session use the city recorded on its pod, across two cities in two namespaces', async () => {
    registry.record(cityA, 'ns-a', '');
    registry.record(cityB, 'ns-b', '');
    pods.set('ns-a', [pod('mayor', 'mayor', cityA)]);
    pods.set('ns-b', [pod('worker', 'worker', cityB)]);
    expect(await resolve(request('peek', ['worker', '5']))).toMatchObject({
      source: 'session',
      config: { cityDir: cityB, pod: { namespace: 'ns-b' } },
    });
    expect(await resolve(request('stop', ['mayor']))).toMatchObject({
      source: 'session',
      config: { cityDir: cityA, pod: { namespace: 'ns-a' } },
    });
  });

  it('a pod without the city annotation (older, or native) belongs to its namespace city', async () => {
    registry.record(cityA, 'ns-a', '');
    registry.record(cityB, 'ns-b', '');
    pods.set('ns-b', [pod('native', 'native')]);
    expect(await resolve(request('is-running', ['native']))).toMatchObject({ source: 'session', config: { cityDir: cityB } });
  });

  it('one session name in two cities is refused, naming both and the way out', async () => {
    registry.record(cityA, 'ns-a', '');
    registry.record(cityB, 'ns-b', '');
    pods.set('ns-a', [pod('mayor', 'mayor', cityA)]);
    pods.set('ns-b', [pod('mayor', 'mayor', cityB)]);
    await expect(resolve(request('peek', ['mayor']))).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/exists in 2 cities .*alpha.*beta.*gc-k8s link/),
    });
  });

  it('GC_CITY in the caller environment wins over everything, then a script inside a city', async () => {
    registry.record(cityA, 'ns-a', '');
    pods.set('ns-a', [pod('mayor', 'mayor', cityA)]);
    expect(await resolve(request('peek', ['mayor'], { env: { GC_CITY: cityB } }))).toMatchObject({
      source: 'env',
      config: { cityDir: cityB },
    });
    mkdirSync(join(cityB, '.gc-k8s', 'bin'), { recursive: true });
    const link = join(cityB, '.gc-k8s', 'bin', 'gc-session-k8s');
    symlinkSync('/nonexistent/gc-session-k8s', link);
    expect(await resolve(request('list-running', [''], { env: { GC_K8S_INVOKED_AS: link } }))).toMatchObject({
      source: 'script',
      config: { cityDir: cityB },
    });
    expect(lookups).toBe(0); // neither needed the cluster
  });

  it('list-running: the only known city; refused when several are known and nothing tells which', async () => {
    registry.record(cityA, 'ns-a', '');
    expect(await resolve(request('list-running', ['']))).toMatchObject({ source: 'only known city', config: { cityDir: cityA } });
    registry.record(cityB, 'ns-b', '');
    await expect(resolve(request('list-running', ['']))).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/cannot tell which city is asking: 2 cities/),
    });
  });

  it('a city.toml above the working directory is used when nothing else names the city', async () => {
    const sub = join(cityA, 'rigs', 'r1');
    mkdirSync(sub, { recursive: true });
    expect(await resolve(request('list-running', [''], { cwd: sub }))).toMatchObject({ source: 'cwd', config: { cityDir: cityA } });
  });

  it('no city at all: defaults with a loud warning, unless the caller set the namespace itself', async () => {
    const r = await resolve(request('is-running', ['x']));
    expect(r.source).toBe('none');
    expect(r.config.pod.namespace).toBe('gc');
    expect(r.warning).toMatch(/cannot tell which city this is-running belongs to .*namespace gc/);
    const quiet = await resolve(request('is-running', ['x'], { env: { GC_K8S_NAMESPACE: 'mine' } }));
    expect(quiet).toMatchObject({ source: 'none', config: { pod: { namespace: 'mine' } } });
    expect(quiet.warning).toBeUndefined();
  });

  it('a deleted city is forgotten', () => {
    registry.record(cityA, 'ns-a', '');
    registry.record(cityB, 'ns-b', '');
    rmSync(cityB, { recursive: true });
    expect(registry.list().map((c) => c.dir)).toEqual([cityA]);
  });
});

describe('ConfigCache', () => {
  it('parses a city once, and again after city.toml changes', () => {
    const cache = new ConfigCache();
    const toml = join(cityA, 'city.toml');
    const first = cache.load(toml, {});
    expect(cache.load(toml, {})).toBe(first);
    expect(cache.load(toml, { GC_K8S_IMAGE: 'other' })).not.toBe(first); // env is part of the key
    expect(cache.load(toml, { UNRELATED: 'x' })).toBe(first); // only the table's variables are
    writeFileSync(toml, '[session.k8s]\nnamespace = "changed"\n');
    utimesSync(toml, new Date(), new Date(Date.now() + 5_000));
    expect(cache.load(toml, {}).pod.namespace).toBe('changed');
  });
});
