// gc's beads conformance scenarios (internal/beads/beadstest: RunStoreTests, RunMetadataTests,
// RunCreationOrderTests, RunDepTests), ported to TypeScript and run through the real
// gc-beads-k8s script with gc's exec-store client semantics (beads-exec-store.ts): the Go suite
// cannot be built here. Each scenario gets a fresh, empty store (its own root and prefix, so its
// own Dolt database), as the Go factory does.
//
// One deliberate difference: gc's dependency scenarios use ids of beads that do not exist ("a",
// "b"); bd refuses dependencies on unknown issues, so these create real beads a, b, c first.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BeadsHarness } from './beads-helpers.js';
import { ExecStore, NotFoundError, QueryRequiresScanError, type Bead } from './beads-exec-store.js';

const h = new BeadsHarness();
let stores = 0;

function newStore(): ExecStore {
  const n = ++stores;
  const root = join(h.city, 'conformance', `s${n}`);
  mkdirSync(root, { recursive: true });
  const env = { GC_STORE_ROOT: root, GC_STORE_SCOPE: 'rig', GC_BEADS_PREFIX: `cf${n}` };
  return new ExecStore((argv, stdin) => h.beads(argv, stdin ?? '', env));
}

const titles = (bs: Bead[]): string[] => bs.map((b) => b.title).sort();

beforeAll(async () => {
  await h.setup();
  await h.deployDolt();
  const r = await h.beads(['start']);
  if (r.code !== 0) throw new Error(`start: ${r.err}`);
});
afterAll(async () => {
  await h.teardown();
});

describe('RunStoreTests', () => {
  it('CreateAssignsUniqueNonEmptyID', async () => {
    const s = newStore();
    const b1 = await s.create({ title: 'first' });
    const b2 = await s.create({ title: 'second' });
    expect(b1.id).not.toBe('');
    expect(b2.id).not.toBe('');
    expect(b1.id).not.toBe(b2.id);
  });

  it('CreateSetsStatusOpen / CreateDefaultsTypeToTask / CreatePreservesTitle / CreateSetsCreatedAt', async () => {
    const s = newStore();
    const b = await s.create({ title: 'Build a Tower of Hanoi app' });
    expect(b.status).toBe('open');
    expect(b.type).toBe('task');
    expect(b.title).toBe('Build a Tower of Hanoi app');
    expect(Math.abs(Date.now() - b.createdAt.getTime())).toBeLessThan(3_600_000);
  });

  it('CreatePreservesExplicitType', async () => {
    expect((await newStore().create({ title: 'test', type: 'bug' })).type).toBe('bug');
  });

  it('CreateAssigneeRoundTrips', async () => {
    const s = newStore();
    const created = await s.create({ title: 'test', assignee: 'mayor' });
    expect((await s.get(created.id)).assignee).toBe('mayor');
  });

  it('CreateFromRoundTrips', async () => {
    const s = newStore();
    const created = await s.create({ title: 'test', from: 'priya' });
    expect((await s.get(created.id)).from).toBe('priya');
  });

  it('GetExistingBead', async () => {
    const s = newStore();
    const created = await s.create({ title: 'round trip', type: 'bug' });
    const got = await s.get(created.id);
    expect(got).toMatchObject({
      id: created.id,
      title: created.title,
      status: created.status,
      type: created.type,
      assignee: created.assignee,
    });
    expect(Math.abs(got.createdAt.getTime() - created.createdAt.getTime())).toBeLessThan(3_600_000);
  });

  it('GetNotFound', async () => {
    const s = newStore();
    await s.create({ title: 'exists' });
    await expect(s.get('nonexistent-999')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('GetNotFoundEmptyStore', async () => {
    await expect(newStore().get('nonexistent-999')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('CloseSuccess', async () => {
    const s = newStore();
    const b = await s.create({ title: 'closeable' });
    await s.close(b.id);
    expect((await s.get(b.id)).status).toBe('closed');
  });

  it('CloseNotFound', async () => {
    await expect(newStore().close('nonexistent-999')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('CloseIdempotent', async () => {
    const s = newStore();
    const b = await s.create({ title: 'close twice' });
    await s.close(b.id);
    await s.close(b.id);
    expect((await s.get(b.id)).status).toBe('closed');
  });

  it('CloseRemovesFromReady', async () => {
    const s = newStore();
    const b1 = await s.create({ title: 'first' });
    await s.create({ title: 'second' });
    await s.close(b1.id);
    const ready = await s.ready();
    expect(ready).toHaveLength(1);
    expect(ready[0]!.title).toBe('second');
  });

  it('ListReturnsAllBeads', async () => {
    const s = newStore();
    await s.create({ title: 'first' });
    await s.create({ title: 'second' });
    expect(titles(await s.list())).toEqual(['first', 'second']);
  });

  it('ListEmptyStore', async () => {
    expect(await newStore().list()).toEqual([]);
  });

  it('ListCount (ListOpen)', async () => {
    const s = newStore();
    for (const t of ['alpha', 'beta', 'gamma']) await s.create({ title: t });
    expect(titles(await s.listOpen())).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('ListRejectsUnboundedQueryWithoutAllowScan', async () => {
    await expect(newStore().list({})).rejects.toBeInstanceOf(QueryRequiresScanError);
  });

  it('ListAllowsExplicitScan', async () => {
    const s = newStore();
    await s.create({ title: 'one' });
    expect(titles(await s.list({ allowScan: true }))).toEqual(['one']);
  });

  it('ListFiltersByQueryFields (Type + Label + ParentID + Metadata)', async () => {
    const s = newStore();
    const parent = await s.create({ title: 'parent', type: 'molecule' });
    const match = await s.create({ title: 'match', type: 'bug', labels: ['pick'], parentId: parent.id, metadata: { team: 'a' } });
    await s.create({ title: 'wrong type', type: 'task', labels: ['pick'], parentId: parent.id, metadata: { team: 'a' } });
    await s.create({ title: 'wrong label', type: 'bug', labels: ['other'], parentId: parent.id, metadata: { team: 'a' } });
    await s.create({ title: 'wrong parent', type: 'bug', labels: ['pick'], metadata: { team: 'a' } });
    await s.create({ title: 'wrong metadata', type: 'bug', labels: ['pick'], parentId: parent.id, metadata: { team: 'b' } });
    const got = await s.list({ type: 'bug', label: 'pick', parentId: parent.id, metadata: { team: 'a' } });
    expect(got.map((b) => b.id)).toEqual([match.id]);
  });

  it('ReadyReturnsOpenBeads', async () => {
    const s = newStore();
    await s.create({ title: 'first' });
    await s.create({ title: 'second' });
    expect(titles(await s.ready())).toEqual(['first', 'second']);
  });

  it('UpdateDescription', async () => {
    const s = newStore();
    const b = await s.create({ title: 'updatable', description: 'original' });
    await s.update(b.id, { description: 'updated description' });
    expect((await s.get(b.id)).description).toBe('updated description');
  });

  it('UpdateNotFound', async () => {
    await expect(newStore().update('nonexistent-999', { description: 'whatever' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('UpdateNilField', async () => {
    const s = newStore();
    const b = await s.create({ title: 'keep desc', description: 'original' });
    await s.update(b.id, {});
    expect((await s.get(b.id)).description).toBe('original');
  });

  it('ChildrenEmpty', async () => {
    expect(await newStore().children('nonexistent')).toEqual([]);
  });

  it('ChildrenReturnsMatching (creation order)', async () => {
    const s = newStore();
    const parent = await s.create({ title: 'parent', type: 'molecule' });
    const c1 = await s.create({ title: 'child-1', parentId: parent.id });
    const c2 = await s.create({ title: 'child-2', parentId: parent.id });
    await s.create({ title: 'other' });
    expect((await s.children(parent.id)).map((b) => b.id)).toEqual([c1.id, c2.id]);
  });

  it('ChildrenWrongParent', async () => {
    const s = newStore();
    const p1 = await s.create({ title: 'parent-1' });
    const p2 = await s.create({ title: 'parent-2' });
    await s.create({ title: 'child-of-1', parentId: p1.id });
    expect(await s.children(p2.id)).toEqual([]);
  });

  it('ReadyEmptyStore', async () => {
    expect(await newStore().ready()).toEqual([]);
  });

  it('ReadyCount', async () => {
    const s = newStore();
    for (const t of ['alpha', 'beta', 'gamma']) await s.create({ title: t });
    expect(titles(await s.ready())).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('ReadyExcludesInfraTypes', async () => {
    const s = newStore();
    await s.create({ title: 'work' });
    for (const type of ['molecule', 'message', 'gate', 'merge-request', 'session', 'agent', 'role', 'rig'])
      await s.create({ title: type, type });
    expect(titles(await s.ready())).toEqual(['work']);
  });

  it('ListByLabelMatch', async () => {
    const s = newStore();
    await s.create({ title: 'no-label' });
    const b2 = await s.create({ title: 'labeled', labels: ['role:worker'] });
    expect((await s.listByLabel('role:worker', 0)).map((b) => b.id)).toEqual([b2.id]);
  });

  it('ListByLabelNoMatch', async () => {
    const s = newStore();
    await s.create({ title: 'other', labels: ['role:worker'] });
    expect(await s.listByLabel('role:mayor', 0)).toEqual([]);
  });

  it('ListByLabelLimit', async () => {
    const s = newStore();
    for (const t of ['a', 'b', 'c']) await s.create({ title: t, labels: ['batch:1'] });
    expect(await s.listByLabel('batch:1', 2)).toHaveLength(2);
  });

  it('ListByLabelEmpty', async () => {
    expect(await newStore().listByLabel('anything', 0)).toEqual([]);
  });

  it('ListByStatusMatch', async () => {
    const s = newStore();
    await s.create({ title: 'open-1' });
    await s.create({ title: 'open-2' });
    const b3 = await s.create({ title: 'closed-1' });
    await s.close(b3.id);
    expect(titles(await s.listByStatus('open', 0))).toEqual(['open-1', 'open-2']);
    expect(titles(await s.listByStatus('closed', 0))).toEqual(['closed-1']);
  });

  it('ListByStatusLimit / Empty / NoMatch', async () => {
    const s = newStore();
    expect(await s.listByStatus('open', 0)).toEqual([]);
    for (const t of ['a', 'b', 'c']) await s.create({ title: t });
    expect(await s.listByStatus('open', 2)).toHaveLength(2);
    expect(await s.listByStatus('in_progress', 0)).toEqual([]);
  });
});

describe('RunMetadataTests', () => {
  it('MetadataAbsentVsEmpty', async () => {
    const s = newStore();
    const b = await s.create({ title: 'test' });
    await s.setMetadata(b.id, 'key', '');
    const got = await s.get(b.id);
    expect(got.metadata).toHaveProperty('key', '');
    expect(got.metadata).not.toHaveProperty('nonexistent');
  });
});

describe('RunCreationOrderTests', () => {
  it('ListOrder', async () => {
    const s = newStore();
    for (const t of ['alpha', 'beta', 'gamma']) await s.create({ title: t });
    expect((await s.list()).map((b) => b.title)).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('ReadyOrder', async () => {
    const s = newStore();
    for (const t of ['alpha', 'beta', 'gamma']) await s.create({ title: t });
    expect((await s.ready()).map((b) => b.title)).toEqual(['alpha', 'beta', 'gamma']);
  });
});

describe('RunDepTests', () => {
  async function abc(s: ExecStore): Promise<[string, string, string]> {
    const [a, b, c] = [await s.create({ title: 'a' }), await s.create({ title: 'b' }), await s.create({ title: 'c' })];
    return [a.id, b.id, c.id];
  }

  it('DepAddAndListDown', async () => {
    const s = newStore();
    const [a, b] = await abc(s);
    await s.depAdd(a, b, 'blocks');
    const deps = await s.depList(a, 'down');
    expect(deps).toHaveLength(1);
    expect(deps[0]!.depends_on_id).toBe(b);
  });

  it('DepAddIdempotent', async () => {
    const s = newStore();
    const [a, b] = await abc(s);
    await s.depAdd(a, b, 'blocks');
    await s.depAdd(a, b, 'blocks');
    expect(await s.depList(a, 'down')).toHaveLength(1);
  });

  it('DepAddUpdatesType', async () => {
    const s = newStore();
    const [a, b] = await abc(s);
    await s.depAdd(a, b, 'blocks');
    await s.depAdd(a, b, 'tracks');
    const deps = await s.depList(a, 'down');
    expect(deps).toHaveLength(1);
    expect(deps[0]!.type).toBe('tracks');
  });

  it('DepListUp', async () => {
    const s = newStore();
    const [a, b] = await abc(s);
    await s.depAdd(a, b, 'blocks');
    const deps = await s.depList(b, 'up');
    expect(deps).toHaveLength(1);
    expect(deps[0]!.issue_id).toBe(a);
  });

  it('DepRemove', async () => {
    const s = newStore();
    const [a, b, c] = await abc(s);
    await s.depAdd(a, b, 'blocks');
    await s.depAdd(a, c, 'blocks');
    await s.depRemove(a, b);
    const deps = await s.depList(a, 'down');
    expect(deps).toHaveLength(1);
    expect(deps[0]!.depends_on_id).toBe(c);
  });

  it('DepRemoveNonexistent', async () => {
    await expect(newStore().depRemove('x', 'y')).resolves.toBeUndefined();
  });

  it('DepListEmpty', async () => {
    expect(await newStore().depList('nonexistent', 'down')).toEqual([]);
  });

  it('SetMetadataBatch', async () => {
    const s = newStore();
    const b = await s.create({ title: 'batch-test' });
    const kvs = { key1: 'value1', key2: 'value2', key3: 'value3' };
    await s.setMetadataBatch(b.id, kvs);
    expect((await s.get(b.id)).metadata).toMatchObject(kvs);
  });

  it('SetMetadataBatchNotFound', async () => {
    await expect(newStore().setMetadataBatch('nonexistent-999', { k: 'v' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('SetMetadataBatchEmpty', async () => {
    const s = newStore();
    const b = await s.create({ title: 'empty-batch' });
    await expect(s.setMetadataBatch(b.id, {})).resolves.toBeUndefined();
  });

  it('Ping', async () => {
    await expect(newStore().ping()).resolves.toBeUndefined();
  });
});
