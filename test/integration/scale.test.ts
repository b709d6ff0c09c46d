// Issue #17's scale run in small (the 100-session run is the Scale section of `npm run bench`):
// 20 sessions started a few at a time through the real scripts and daemon, a gc-like patrol
// (list-running, then is-running and peek of every session) for three ticks, then all stopped.
// Correctness only: every op answered right, the patrol's API requests do not grow with the
// sessions (the cache answers, peeks go over channels), no pod left behind, and the daemon's exec
// channels and sockets back to where they were. No wall-clock assertion.
import { readdirSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, until } from './harness.js';

const h = new Harness();
const N = 20;
const PARALLEL = 5;
const TICKS = 3;
const names = Array.from({ length: N }, (_, i) => `scale-${i}`);

/** Runs `fn` over `items` with at most `limit` at once. */
async function bounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

interface Status {
  readonly pid: number;
  readonly execChannels: number;
}
async function status(): Promise<Status> {
  const r = await h.script('gc-k8s', ['status']);
  expect(r, r.err).toMatchObject({ code: 0 });
  return JSON.parse(r.out) as Status;
}

async function apiRequests(): Promise<number> {
  const r = await h.script('gc-k8s', ['stats']);
  expect(r, r.err).toMatchObject({ code: 0 });
  return Object.values(JSON.parse(r.out) as Record<string, { total: number }>).reduce((a, s) => a + s.total, 0);
}

/** The daemon's open sockets (its /proc/<pid>/fd entries that are sockets). */
function sockets(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed between the listing and the readlink
    }
  }
  return n;
}

async function agentPods(): Promise<string[]> {
  const r = await h.k(['get', 'pods', '-l', 'app=gc-agent', '-o', 'name']);
  expect(r, r.err).toMatchObject({ code: 0 });
  return r.out.split('\n').filter(Boolean);
}

let baseline: { pid: number; channels: number; sockets: number };

beforeAll(async () => {
  await h.setup();
  // the first op starts the daemon and its namespace watch: the baseline is that daemon at rest
  expect((await h.session(['list-running', 'scale-'])).code).toBe(0);
  const s = await status();
  baseline = { pid: s.pid, channels: s.execChannels, sockets: sockets(s.pid) };
});
afterAll(async () => {
  await bounded(names, PARALLEL, async (name) => {
    await h.session(['stop', name]);
  });
  await h.teardown();
});

describe(`a city of ${N} sessions`, () => {
  it(`starts all ${N}, ${PARALLEL} at a time, each answered`, async () => {
    const failed: string[] = [];
    await bounded(names, PARALLEL, async (name) => {
      const r = await h.session(['start', name], JSON.stringify({ command: 'bash' }));
      if (r.code !== 0) failed.push(`${name}: ${r.err.trim()}`);
    });
    expect(failed).toEqual([]);
    expect(await agentPods()).toHaveLength(N);
  }, 600_000);

  it(`patrols them ${TICKS} times: every op answered right, API requests per tick independent of the ${N} sessions`, async () => {
    for (let tick = 0; tick < TICKS; tick++) {
      const before = await apiRequests();
      const listed = (await h.session(['list-running', 'scale-'])).out.split('\n').filter(Boolean);
      expect(listed.sort()).toEqual([...names].sort());
      for (const name of names) {
        const running = await h.session(['is-running', name]);
        expect(running, `${name}: ${running.err}`).toMatchObject({ code: 0, out: 'true' });
        const peek = await h.session(['peek', name, '20']);
        expect(peek, `${name}: ${peek.err}`).toMatchObject({ code: 0 });
      }
      // a session that is not there is answered too
      expect((await h.session(['is-running', 'scale-none'])).out).toBe('false');
      // 2N+2 ops; one API request per session would be >= N. The cache answers is-running and
      // list-running (at most a verifying LIST when the watch has been quiet), peeks go over channels.
      expect((await apiRequests()) - before).toBeLessThan(N / 2);
    }
    expect((await status()).execChannels).toBe(baseline.channels + N);
  }, 600_000);

  it('stops all: no pod left, exec channels and sockets back to the baseline', async () => {
    const failed: string[] = [];
    await bounded(names, PARALLEL, async (name) => {
      const r = await h.session(['stop', name]);
      if (r.code !== 0) failed.push(`${name}: ${r.err.trim()}`);
    });
    expect(failed).toEqual([]);
    expect((await h.session(['list-running', 'scale-'])).out).toBe('');
    await until(async () => (await agentPods()).length === 0, 'every session pod gone', 1200);
    await until(async () => (await status()).execChannels === baseline.channels, 'exec channels back to the baseline', 300);
    const s = await status();
    expect(s.pid).toBe(baseline.pid); // the same daemon throughout
    // a keep-alive connection or two may be open or not, but nothing per session is left
    await until(() => Promise.resolve(sockets(s.pid) <= baseline.sockets + 2), 'daemon sockets back near the baseline', 300);
  }, 600_000);
});
