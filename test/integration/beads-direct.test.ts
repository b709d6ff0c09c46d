// Reads from Dolt directly must answer exactly what bd answers. One store with everything a
// read has to get right — every status bd knows, infra types bd keeps in its wisps tables,
// blockers open and closed, a blocked parent, a deferred bead, a pinned one, labels that need
// collation and quoting, numeric metadata, parents — and then every read op is asked twice: the
// default way (direct) and with GC_K8S_BEADS_DIRECT_READS=false (bd in the runner). The outputs
// must be byte-identical. dep-list is compared the same way.
import { mkdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireBead as Bead } from '../../src/beads/wire.js';
import { BeadsHarness } from './beads-helpers.js';

const h = new BeadsHarness();
const VIA_BD = { GC_K8S_BEADS_DIRECT_READS: 'false' };

async function ok(argv: string[], stdin = '', extra: Record<string, string> = {}): Promise<string> {
  const r = await h.beads(argv, stdin, extra);
  expect(r.code, `${argv.join(' ')}: ${r.err}`).toBe(0);
  return r.out;
}

async function create(fields: object): Promise<Bead> {
  return JSON.parse(await ok(['create'], JSON.stringify(fields))) as Bead;
}

/** bd run in the runner for what the exec protocol cannot express (defer, pin, waits-for). */
async function bd(...args: string[]): Promise<void> {
  const r = await h.k(['exec', 'gc-beads-runner', '--', 'bd', ...args]);
  expect(r.code, `bd ${args.join(' ')}: ${r.err}`).toBe(0);
}

async function same(argv: string[]): Promise<string> {
  const direct = await ok(argv);
  const viaBd = await ok(argv, '', VIA_BD);
  expect(direct, argv.join(' ')).toBe(viaBd);
  return direct;
}

let all: Bead[] = [];
/** whether the daemon reaches this Dolt (always on the local cluster) */
let reachable = false;
const ids: Record<string, string> = {};

beforeAll(async () => {
  await h.setup();
  await h.deployDolt();
  await ok(['init', h.city, 'gc']);
  const make = async (name: string, fields: object): Promise<void> => {
    ids[name] = (await create(fields)).id;
  };
  await make('epic', { title: 'an epic', type: 'epic', priority: 0, labels: ['zeta', 'Alpha', 'älpha', 'a,b', 'emoji 🙂'] });
  await make('child', {
    title: 'its child',
    parent_id: ids['epic'],
    assignee: 'ann',
    priority: 1,
    metadata: { n: '7', nested: '{"a":1}' },
  });
  await make('bug', {
    title: 'a bug',
    type: 'bug',
    assignee: 'bob',
    from: 'mayor',
    ref: 'gh-1',
    description: 'two\nlines "quoted"',
    labels: ['Alpha'],
  });
  await make('feature', { title: 'a feature', type: 'feature', priority: 4, needs: ['gc-later'] });
  await make('message', { title: 'a message', type: 'message', labels: ['mail'] });
  await make('agent', { title: 'an agent', type: 'agent', assignee: 'ann' });
  await make('session', { title: 'a session', type: 'session' });
  await make('blocker', { title: 'the blocker' });
  await make('blocked', { title: 'blocked by the blocker' });
  await make('doneBlocker', { title: 'a closed blocker' });
  await make('unblocked', { title: 'blocked only by a closed bead' });
  await make('blockedParent', { title: 'a blocked parent' });
  await make('childOfBlocked', { title: 'child of a blocked parent', parent_id: ids['blockedParent'] });
  await make('inProgress', { title: 'in progress' });
  await make('closed', { title: 'closed' });
  await make('deferred', { title: 'deferred to later' });
  await make('childOfDeferred', { title: 'child of a deferred bead', parent_id: ids['deferred'] });
  await make('pinned', { title: 'pinned' });
  await make('p0', { title: 'urgent', priority: 0, assignee: 'ann' });
  await make('gone', { title: 'deleted later' });
  // Gas City 1.x: fields create takes, and a bead closed then reopened
  await make('wisp', { title: 'an ephemeral task', ephemeral: true });
  await make('noHistory', { title: 'kept without history', no_history: true });
  await make('deferredByGc', { title: 'deferred by gc', defer_until: '2099-06-01T12:00:00Z' });
  await make('reopened', { title: 'closed, then reopened' });

  await ok(['dep-add', ids['blocked'] ?? '', ids['blocker'] ?? '', 'blocks']);
  await ok(['dep-add', ids['unblocked'] ?? '', ids['doneBlocker'] ?? '', 'blocks']);
  await ok(['dep-add', ids['blockedParent'] ?? '', ids['blocker'] ?? '', 'blocks']);
  await ok(['dep-add', ids['message'] ?? '', ids['bug'] ?? '', 'tracks']); // from a wisp
  await ok(['dep-add', ids['bug'] ?? '', ids['message'] ?? '', 'related']); // to a wisp
  await ok(['dep-add', ids['bug'] ?? '', ids['gone'] ?? '', 'blocks']);
  await ok(['delete', ids['gone'] ?? '']); // its dependents keep a row pointing nowhere
  delete ids['gone'];
  await ok(['close', ids['doneBlocker'] ?? '']);
  await ok(['close', ids['closed'] ?? '']);
  await ok(['close', ids['reopened'] ?? '']);
  await ok(['reopen', ids['reopened'] ?? '']);
  await ok(['update', ids['inProgress'] ?? ''], '{"status":"in_progress"}');
  await bd('update', ids['deferred'] ?? '', '--defer=2099-01-01');
  await bd('update', ids['pinned'] ?? '', '--status=pinned');
  all = JSON.parse(await ok(['list'])) as Bead[];
});
afterAll(async () => {
  await h.teardown();
});

describe('direct reads answer what bd answers', () => {
  it('the daemon reads this Dolt directly (else this file would compare bd with itself)', async () => {
    const health = await h.beads(['health']);
    expect(health.code, health.err).toBe(0);
    reachable = /dolt \S+ answers/.test(health.err);
    // On a cluster whose Services the daemon cannot reach, this file has nothing to compare: it fails.
    expect(reachable, `the daemon does not reach Dolt directly here: ${health.err}`).toBe(true);
    expect(all.length).toBe(Object.keys(ids).length);
    // infra types live in bd's wisps tables and are listed too
    expect(all.map((b) => b.type)).toEqual(expect.arrayContaining(['message', 'agent', 'session', 'epic', 'bug']));
  });

  it('get, for every bead and for an unknown id', async () => {
    for (const b of all) await same(['get', b.id]);
    const direct = await h.beads(['get', 'gc-nope']);
    const viaBd = await h.beads(['get', 'gc-nope'], '', VIA_BD);
    expect([direct.code, direct.err]).toEqual([viaBd.code, viaBd.err]);
    expect(direct.err).toMatch(/not found/);
  });

  it('list and its filters', async () => {
    expect(JSON.parse(await same(['list']))).toHaveLength(all.length);
    for (const status of ['open', 'in_progress', 'closed']) await same(['list', `--status=${status}`]);
    await same(['list', '--assignee=ann']);
    await same(['list', '--assignee', 'nobody']);
    for (const type of ['bug', 'message', 'agent', 'task', 'feat']) await same(['list', `--type=${type}`]);
    await same(['list', '--limit=3']);
    await same(['list-by-status', 'open', '2']);
  });

  it('Gas City 1.x fields read the same both ways: status_detail, updated_at, ephemeral, no_history, defer_until', async () => {
    const byId = (id: string | undefined): Bead => all.find((b) => b.id === id) as Bead;
    for (const b of all) expect(Date.parse(b.updated_at ?? ''), b.id).not.toBeNaN();
    expect(byId(ids['wisp'])).toMatchObject({ ephemeral: true, status: 'open' });
    expect(byId(ids['noHistory'])).toMatchObject({ no_history: true });
    expect(byId(ids['deferredByGc'])).toMatchObject({ defer_until: '2099-06-01T12:00:00Z' });
    expect(byId(ids['deferred']).defer_until).toMatch(/^2099-01-01T/);
    expect(byId(ids['pinned'])).toMatchObject({ status: 'open', status_detail: 'pinned' });
    expect(byId(ids['reopened'])).toMatchObject({ status: 'open' });
    expect(byId(ids['bug'])).not.toHaveProperty('status_detail');
    // deferred until 2099: not ready, whoever deferred it; the wisp only with --include-ephemeral
    const ready = (JSON.parse(await same(['ready'])) as Bead[]).map((b) => b.id);
    expect(ready).not.toContain(ids['deferredByGc']);
    expect(ready).toContain(ids['reopened']);
    expect(ready).not.toContain(ids['wisp']);
    const withWisps = (JSON.parse(await same(['ready', '--include-ephemeral'])) as Bead[]).map((b) => b.id);
    expect(withWisps).toContain(ids['wisp']);
  });

  it('ready: blockers, closed blockers, blocked parents, deferred, pinned, in progress, infra types', async () => {
    const ready = (JSON.parse(await same(['ready'])) as Bead[]).map((b) => b.id);
    expect(ready).toEqual(expect.arrayContaining([ids['unblocked'], ids['blocker'], ids['p0'], ids['epic']]));
    for (const absent of [
      'blocked',
      'blockedParent',
      'childOfBlocked',
      'deferred',
      'childOfDeferred',
      'pinned',
      'inProgress',
      'closed',
      'message',
      'agent',
    ]) {
      expect(ready, absent).not.toContain(ids[absent]);
    }
  });

  it('ready with a waits-for gate (answered by bd) and after the blocker closes', async () => {
    await bd('dep', 'add', ids['p0'] ?? '', ids['epic'] ?? '', '--type=waits-for');
    await same(['ready']);
    await ok(['close', ids['blocker'] ?? '']);
    const ready = (JSON.parse(await same(['ready'])) as Bead[]).map((b) => b.id);
    expect(ready).toEqual(expect.arrayContaining([ids['blocked'], ids['blockedParent'], ids['childOfBlocked']]));
  });

  it('children and list-by-label', async () => {
    for (const parent of ['epic', 'blockedParent', 'deferred', 'bug']) await same(['children', ids[parent] ?? '']);
    await same(['children', 'gc-nope']);
    for (const label of ['Alpha', 'alpha', 'älpha', 'a,b', 'emoji 🙂', 'mail', 'zeta', 'none']) await same(['list-by-label', label]);
    await same(['list-by-label', 'Alpha', '1']);
  });

  it('dep-list, both directions, for every bead (wisps and a deleted target included) and an unknown id', async () => {
    let seen = 0;
    for (const b of all) {
      for (const direction of ['down', 'up']) seen += (JSON.parse(await same(['dep-list', b.id, direction])) as unknown[]).length;
    }
    expect(seen).toBeGreaterThanOrEqual(12);
    await same(['dep-list', 'gc-nope', 'down']);
    await same(['dep-list', ids['bug'] ?? '']);
  });

  it('create reads the new bead back the same way', async () => {
    const direct = await create({ title: 'made direct', labels: ['x'], parent_id: ids['epic'], metadata: { k: 'v' } });
    const viaBd = JSON.parse(
      await ok(['create'], JSON.stringify({ title: 'made via bd', labels: ['x'], parent_id: ids['epic'], metadata: { k: 'v' } }), VIA_BD),
    ) as Bead;
    const strip = (b: Bead): object => ({ ...b, id: '', title: '', created_at: '', updated_at: '' });
    expect(strip(direct)).toEqual(strip(viaBd));
    expect(direct.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('a restarted daemon reads directly at once, the database derived as bd init names it (prefix rig-x.v2 → rig_x_v2)', async () => {
    const rigRoot = `${h.city}/rigs/hyphenated`;
    mkdirSync(rigRoot, { recursive: true });
    const rig = { GC_STORE_ROOT: rigRoot, GC_STORE_SCOPE: 'rig', GC_BEADS_PREFIX: 'rig-x.v2' };
    const made = JSON.parse(await ok(['create'], JSON.stringify({ title: 'in a hyphenated rig' }), rig)) as Bead;
    expect((await h.script('gc-k8s', ['stop-daemon'])).code).toBe(0);
    expect((await h.k(['delete', 'pod', 'gc-beads-runner', '--wait=true'])).code).toBe(0);
    expect(JSON.parse(await ok(['get', made.id], '', rig))).toMatchObject({ title: 'in a hyphenated rig' });
    expect(JSON.parse(await ok(['get', ids['bug'] ?? '']))).toMatchObject({ title: 'a bug' });
    const runner = await h.k(['get', 'pod', 'gc-beads-runner', '-o', 'name']);
    expect(runner.code === 0, 'a read brought the runner back').toBe(!reachable);
  });

  it('and no read above quietly fell back to bd', () => {
    const log = readFileSync(h.socket.replace(/\.sock$/, '.log'), 'utf8');
    expect(log).toContain('"component":"beads"');
    const fallbacks = log.split('\n').filter((l) => /direct Dolt read failed|not reachable from the daemon/.test(l));
    expect(reachable ? fallbacks : [], fallbacks.join('\n')).toEqual([]);
  });
});
