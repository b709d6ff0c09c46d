// `gc-k8s beads ready-count` (a pool's scale_check) on a real cluster, real Dolt and runner: it
// follows beads being created, blocked and closed, with every filter and the clamp, answered
// from Dolt directly (the runner may be gone) and through bd in the runner
// (GC_K8S_BEADS_DIRECT_READS=false, and a store with a waits-for gate, which only bd decides).
// Every count is checked against the `ready` op's own answer, filtered here. Then a stand-in
// for gc's pool loop starts and stops sessions to match the count as beads come and go.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireBead as Bead } from '../../src/beads/wire.js';
import { BeadsHarness } from './beads-helpers.js';
import { ROOT } from './harness.js';

const h = new BeadsHarness();
const VIA_BD = { GC_K8S_BEADS_DIRECT_READS: 'false' };
type Via = Record<string, string>;

async function ok(argv: string[], stdin = '', extra: Via = {}): Promise<string> {
  const r = await h.beads(argv, stdin, extra);
  expect(r.code, `${argv.join(' ')}: ${r.err}`).toBe(0);
  return r.out;
}

async function create(fields: object): Promise<string> {
  return (JSON.parse(await ok(['create'], JSON.stringify(fields))) as Bead).id;
}

/** `gc-k8s beads ready-count …` as gc's scale_check runs it (sh -c, the city's env). */
function readyCountRun(args: readonly string[], extra: Via = {}): ReturnType<typeof h.run> {
  return h.run(process.execPath, [join(ROOT, 'bin', 'gc-k8s.js'), 'beads', 'ready-count', ...args], '', h.env(h.storeEnv(extra)));
}

async function readyCount(args: readonly string[], extra: Via = {}): Promise<number> {
  const r = await readyCountRun(args, extra);
  expect(r.code, `ready-count ${args.join(' ')}: ${r.err}`).toBe(0);
  expect(r.out).toMatch(/^\d+\n$/);
  return Number(r.out);
}

/** The same count from the `ready` op's beads (one integer per filter set). */
async function fromReady(f: { type?: string; label?: string; assignee?: string }, extra: Via = {}): Promise<number> {
  const ready = JSON.parse(await ok(['ready'], '', extra)) as Bead[];
  return ready.filter(
    (b) =>
      (f.type === undefined || b.type === f.type) &&
      (f.label === undefined || b.labels.includes(f.label)) &&
      (f.assignee === undefined || b.assignee === f.assignee),
  ).length;
}

const FILTERS: { args: string[]; f: { type?: string; label?: string; assignee?: string } }[] = [
  { args: [], f: {} },
  { args: ['--type', 'task'], f: { type: 'task' } },
  { args: ['--type=bug'], f: { type: 'bug' } },
  { args: ['--label', 'gpu'], f: { label: 'gpu' } },
  { args: ['--assignee', 'alice'], f: { assignee: 'alice' } },
  { args: ['--type', 'task', '--label', 'gpu'], f: { type: 'task', label: 'gpu' } },
];

/** Every filter, both ways, equal to each other, to `ready`, and to what the test expects. */
async function expectCounts(expected: number[]): Promise<void> {
  const got: number[][] = [];
  for (const { args, f } of FILTERS) {
    const direct = await readyCount(args);
    const viaBd = await readyCount(args, VIA_BD);
    got.push([direct, viaBd, await fromReady(f)]);
  }
  expect(got).toEqual(expected.map((n) => [n, n, n]));
}

async function runnerExists(): Promise<boolean> {
  return (await h.k(['get', 'pod', 'gc-beads-runner', '-o', 'name'])).code === 0;
}

async function deleteRunner(): Promise<void> {
  expect((await h.k(['delete', 'pod', 'gc-beads-runner', '--wait=true'])).code).toBe(0);
}

const ids: Record<string, string> = {};

beforeAll(async () => {
  await h.setup();
  await h.deployDolt();
  await ok(['init', h.city, 'gc']);
});
afterAll(async () => {
  await h.teardown();
});

describe('ready-count follows the ready beads', () => {
  it('an empty store: 0, or the minimum', async () => {
    expect(await readyCount([])).toBe(0);
    expect(await readyCount(['--min', '1', '--max', '4'])).toBe(1);
    expect(await readyCount(['--min=2'], VIA_BD)).toBe(2);
  });

  it('counts what ready lists, with each filter, both ways', async () => {
    ids['t1'] = await create({ title: 'task one' });
    ids['t2'] = await create({ title: 'task two', labels: ['gpu'] });
    ids['t3'] = await create({ title: 'task three', assignee: 'alice' });
    ids['bug'] = await create({ title: 'a bug', type: 'bug', labels: ['gpu'] });
    ids['msg'] = await create({ title: 'a message', type: 'message', labels: ['gpu'] }); // never ready work
    ids['blocker'] = await create({ title: 'the blocker', type: 'bug' });
    ids['blocked'] = await create({ title: 'blocked task', labels: ['gpu'] });
    ids['busy'] = await create({ title: 'in progress', assignee: 'alice' });
    await ok(['dep-add', ids['blocked'] ?? '', ids['blocker'] ?? '', 'blocks']);
    await ok(['update', ids['busy'] ?? ''], '{"status":"in_progress"}');
    // ready: t1 t2 t3 bug blocker  | all, task, bug, gpu, alice, task+gpu
    await expectCounts([5, 3, 2, 2, 1, 1]);
  });

  it('clamps to [min, max]', async () => {
    for (const via of [{}, VIA_BD]) {
      expect(await readyCount(['--max', '2'], via)).toBe(2);
      expect(await readyCount(['--type', 'task', '--min', '0', '--max', '4'], via)).toBe(3);
      expect(await readyCount(['--type', 'task', '--min', '5', '--max', '6'], via)).toBe(5);
      expect(await readyCount(['--label', 'none-has-it', '--min', '1'], via)).toBe(1);
      expect(await readyCount(['--max', '0'], via)).toBe(0);
    }
  });

  it('follows closes and new beads: closing the blocker makes the blocked task ready', async () => {
    await ok(['close', ids['t1'] ?? '']);
    await expectCounts([4, 2, 2, 2, 1, 1]);
    await ok(['close', ids['blocker'] ?? '']);
    // ready: t2 t3 bug blocked
    await expectCounts([4, 3, 1, 3, 1, 2]);
    ids['t4'] = await create({ title: 'task four', labels: ['gpu'], assignee: 'alice' });
    await expectCounts([5, 4, 1, 4, 2, 3]);
  });

  it('the script gives the same integer (gc-beads-k8s ready-count); bad input is refused before the daemon', async () => {
    expect(await ok(['ready-count', '--type', 'task'])).toBe('4\n');
    const usage = await readyCountRun(['--min', '5', '--max', '2']);
    expect(usage.code).toBe(2);
    expect(usage.out).toBe('');
    expect(usage.err).toMatch(/^gc-k8s beads ready-count: --min 5 is more than --max 2\nusage: gc-k8s beads ready-count /);
    const viaScript = await h.beads(['ready-count', '--max=-1']);
    expect(viaScript.code).toBe(1);
    expect(viaScript.err.trim().split('\n')).toHaveLength(1);
    expect(viaScript.err).toContain('--max must be an integer from 0 to 1000000');
  });

  it('direct: answers from Dolt with the runner gone (and does not bring it back)', async () => {
    await deleteRunner();
    expect(await readyCount(['--type', 'task'])).toBe(4);
    expect(await readyCount(['--label', 'gpu', '--max', '3'])).toBe(3);
    expect(await runnerExists()).toBe(false);
  });

  it('GC_K8S_BEADS_DIRECT_READS=false: bd in the runner answers (the runner comes back)', async () => {
    expect(await readyCount(['--type', 'task'], VIA_BD)).toBe(4);
    expect(await runnerExists()).toBe(true);
  });

  it('a waits-for gate: the store needs bd to decide, so bd answers even with direct reads on', async () => {
    const r = await h.k(['exec', 'gc-beads-runner', '--', 'bd', 'dep', 'add', ids['t3'] ?? '', ids['t2'] ?? '', '--type=waits-for']);
    expect(r.code, r.err).toBe(0);
    const viaBd = await readyCount(['--type', 'task'], VIA_BD);
    expect(viaBd).toBe(await fromReady({ type: 'task' }, VIA_BD));
    await deleteRunner();
    expect(await readyCount(['--type', 'task'])).toBe(viaBd);
    expect(await runnerExists(), 'bd answered, so the runner is back').toBe(true);
    expect((await h.k(['exec', 'gc-beads-runner', '--', 'bd', 'dep', 'remove', ids['t3'] ?? '', ids['t2'] ?? ''])).code).toBe(0);
  });
});

describe('a pool scaled by ready-count (a stand-in for gc’s pool loop)', () => {
  const PREFIX = 'rc-worker-';
  const SCALE_CHECK = ['--type', 'task', '--min', '0', '--max', '4'];

  async function running(): Promise<string[]> {
    const r = await h.session(['list-running', PREFIX]);
    expect(r.code, r.err).toBe(0);
    return r.out.split('\n').filter((n) => n !== '');
  }

  /** The pool's sessions right after a tick, which must be `wanted` many (the pods shown if not). */
  async function poolOf(wanted: number): Promise<string[]> {
    const now = await running();
    if (now.length !== wanted) {
      const pods = await h.k(['get', 'pods', '-o', 'wide']);
      expect(now, `list-running ${PREFIX} after scaling to ${wanted}; pods:\n${pods.out}${pods.err}`).toHaveLength(wanted);
    }
    return now;
  }

  /** One tick: the wanted count from scale_check, then start or stop sessions to match it. */
  async function tick(extra: Via = {}): Promise<number> {
    const wanted = await readyCount(SCALE_CHECK, extra);
    const now = await running();
    const starts: Promise<unknown>[] = [];
    for (let i = 0, have = now.length; have < wanted; i++) {
      const name = `${PREFIX}${i}`;
      if (now.includes(name)) continue;
      starts.push(h.sessionOk(['start', name], JSON.stringify({ command: 'bash', work_dir: '/tmp' })));
      have++;
    }
    // scale down from the highest-numbered session, as a drained pool would
    const surplus = [...now]
      .sort((a, b) => Number(b.slice(PREFIX.length)) - Number(a.slice(PREFIX.length)))
      .slice(0, Math.max(0, now.length - wanted));
    const stops = surplus.map((name) => h.sessionOk(['stop', name]));
    await Promise.all([...starts, ...stops]);
    return wanted;
  }

  it('starts sessions for ready tasks, up to max, and stops them as tasks close', async () => {
    // four ready tasks now (t2 t3 blocked t4)
    expect(await tick()).toBe(4);
    await poolOf(4);
    // more work than the pool may take: still four
    ids['t5'] = await create({ title: 'task five' });
    expect(await tick()).toBe(4);
    await poolOf(4);
    // close three: 5 → 2 ready tasks, two sessions stopped
    for (const id of ['t2', 't3', 't5']) await ok(['close', ids[id] ?? '']);
    expect(await tick()).toBe(2);
    expect(await poolOf(2)).toEqual([`${PREFIX}0`, `${PREFIX}1`]);
    // a new task, counted through bd this time: three
    ids['t6'] = await create({ title: 'task six' });
    expect(await tick(VIA_BD)).toBe(3);
    expect(await poolOf(3)).toEqual([`${PREFIX}0`, `${PREFIX}1`, `${PREFIX}2`]);
    // a non-task bead does not grow a task pool
    await create({ title: 'another bug', type: 'bug' });
    expect(await tick()).toBe(3);
    await poolOf(3);
    // all closed: the pool drains to zero
    for (const id of ['blocked', 't4', 't6']) await ok(['close', ids[id] ?? '']);
    expect(await tick()).toBe(0);
    expect(await poolOf(0)).toEqual([]);
  });
});
