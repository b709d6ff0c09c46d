// [session.k8s] of city.toml applies when gc runs the scripts as its supervisor does: from `/`,
// with no GC_CITY and no GC_K8S_* in the environment, the city only in start's payload. Two
// cities with their own namespaces share one daemon without seeing each other's sessions, also
// after the daemon restarts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podNameFor } from '../../src/session/names.js';
import { AGENT_IMAGE, Harness, ROOT } from './harness.js';

const h = new Harness();
const nsB = `${h.namespace}-b`;
const cities = mkdtempSync(join(tmpdir(), 'gck8s-cities-'));

function makeCity(name: string, namespace: string, cpuRequest: string, memLimit: string): string {
  const dir = join(cities, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'city.toml'),
    `[workspace]\nname = "${name}"\n\n[session]\nprovider = "exec:gc-session-k8s"\n\n[session.k8s]\nnamespace = "${namespace}"\nimage = "${AGENT_IMAGE}"\ncpu_request = "${cpuRequest}"\nmem_request = "32Mi"\ncpu_limit = "1"\nmem_limit = "${memLimit}"\n`,
  );
  return dir;
}

const cityA = makeCity('alpha', h.namespace, '21m', '200Mi');
const cityB = makeCity('beta', nsB, '22m', '210Mi');
const payload = (city: string, agent: string) =>
  JSON.stringify({ command: 'bash', work_dir: city, env: { GC_CITY: city, GC_CITY_PATH: city, GC_AGENT: agent } });
const session = (argv: readonly string[], stdin = '', extra: Record<string, string> = {}) =>
  h.asSupervisor('gc-session-k8s', argv, stdin, extra);

interface PodJson {
  metadata: { annotations: Record<string, string> };
  spec: { containers: { resources: { requests: Record<string, string>; limits: Record<string, string> } }[] };
}

async function podJson(namespace: string, pod: string): Promise<PodJson | undefined> {
  const r = await h.run(h.kubectl, ['-n', namespace, 'get', 'pod', pod, '-o', 'json'], '', h.env());
  return r.code === 0 ? (JSON.parse(r.out) as PodJson) : undefined;
}

beforeAll(async () => {
  await h.setup();
  const r = await h.k(['create', 'namespace', nsB]);
  if (r.code !== 0) throw new Error(r.err);
});
afterAll(async () => {
  await h.k(['delete', 'namespace', nsB, '--wait=false']);
  await h.teardown();
  rmSync(cities, { recursive: true, force: true });
});

describe('city settings under a gc-like supervisor (cwd /, no city env)', () => {
  it('start reads the city from its payload: namespace, image and resources of that city.toml', async () => {
    const a = await session(['start', 'mayor'], payload(cityA, 'mayor'));
    expect(a, a.err).toMatchObject({ code: 0, err: '' });
    const b = await session(['start', 'worker'], payload(cityB, 'worker'));
    expect(b, b.err).toMatchObject({ code: 0, err: '' });
    const podA = await podJson(h.namespace, podNameFor('mayor'));
    const podB = await podJson(nsB, podNameFor('worker'));
    expect(podA?.spec.containers[0]?.resources).toMatchObject({ requests: { cpu: '21m' }, limits: { memory: '200Mi' } });
    expect(podB?.spec.containers[0]?.resources).toMatchObject({ requests: { cpu: '22m' }, limits: { memory: '210Mi' } });
    expect(podA?.metadata.annotations['gc-k8s.io/city']).toBe(cityA);
    expect(podB?.metadata.annotations['gc-k8s.io/city']).toBe(cityB);
    // each city's namespace holds only its own session
    expect(await podJson(nsB, podNameFor('mayor'))).toBeUndefined();
    expect(await podJson(h.namespace, podNameFor('worker'))).toBeUndefined();
  });

  it('every later op on a session follows the city recorded at start, with no warning', async () => {
    for (const [name, other] of [
      ['mayor', 'worker'],
      ['worker', 'mayor'],
    ] as const) {
      expect(await session(['is-running', name])).toMatchObject({ code: 0, out: 'true', err: '' });
      expect(await session(['set-meta', name, 'WHO'], name)).toMatchObject({ code: 0, err: '' });
      expect(await session(['get-meta', name, 'WHO'])).toMatchObject({ code: 0, out: name, err: '' });
      expect(await session(['nudge', name], `echo from-${name}`)).toMatchObject({ code: 0, err: '' });
      let peek = '';
      for (let i = 0; i < 50 && !peek.includes(`from-${name}\n`); i++) peek = (await session(['peek', name, '5'])).out;
      expect(peek).toContain(`from-${name}`);
      expect(peek).not.toContain(`from-${other}`);
    }
  });

  it("list-running through a city's linked scripts lists that city only; with nothing to tell the cities apart it refuses instead of mixing them", async () => {
    for (const [city, expected] of [
      [cityA, 'mayor\n'],
      [cityB, 'worker\n'],
    ] as const) {
      const link = await h.run(process.execPath, [join(ROOT, 'bin', 'gc-k8s.js'), 'link', city], '', h.supervisorEnv(), '/');
      expect(link, link.err).toMatchObject({ code: 0 });
      const r = await h.asSupervisor('gc-session-k8s', ['list-running', ''], '', {}, join(city, '.gc-k8s', 'bin', 'gc-session-k8s'));
      expect(r).toMatchObject({ code: 0, out: expected, err: '' });
    }
    const unknown = await session(['list-running', '']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/cannot tell which city is asking: 2 cities .*gc-k8s link/);
  });

  it('a restarted daemon still routes each session to its city', async () => {
    expect((await h.asSupervisor('gc-k8s', ['stop-daemon'], '', {}, join(ROOT, 'bin', 'gc-k8s.js'))).code).toBe(0);
    // (the first call starts the daemon again, and may say so on stderr)
    const worker = await session(['is-running', 'worker']);
    expect(worker).toMatchObject({ code: 0, out: 'true' });
    expect(worker.err).not.toMatch(/warning/);
    expect(await session(['get-meta', 'mayor', 'WHO'])).toMatchObject({ code: 0, out: 'mayor', err: '' });
  });

  it("gc stop's sequence (list-running through each city's link, then stop each) leaves no pod in either namespace", async () => {
    for (const city of [cityA, cityB]) {
      const script = join(city, '.gc-k8s', 'bin', 'gc-session-k8s');
      const listed = await h.asSupervisor('gc-session-k8s', ['list-running', ''], '', {}, script);
      for (const name of listed.out.split('\n').filter(Boolean))
        expect((await h.asSupervisor('gc-session-k8s', ['stop', name], '', {}, script)).code).toBe(0);
    }
    for (const ns of [h.namespace, nsB]) {
      const left = await h.run(h.kubectl, ['-n', ns, 'get', 'pods', '-l', 'app=gc-agent', '-o', 'name'], '', h.env());
      expect(left.out.trim()).toBe('');
    }
  });

  it('an op that cannot tell its city says so on stderr and uses the defaults', async () => {
    const r = await h.asSupervisor('gc-session-k8s', ['is-running', 'nobody'], '', { GC_K8S_SOCKET: join(h.dir, 'other.sock') });
    expect(r.out).toBe('false');
    expect(r.err).toMatch(/warning: gc-k8s: cannot tell which city this is-running belongs to/);
    await h.asSupervisor('gc-k8s', ['stop-daemon'], '', { GC_K8S_SOCKET: join(h.dir, 'other.sock') }, join(ROOT, 'bin', 'gc-k8s.js'));
  });
});
