// bd --json → gc bead wire, on output captured from the real bd v1.0.0 against a local
// `dolt sql-server` (fixtures/); see fixtures/README.md for how they were made.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { byCreation, issuesOf, normalizeStatus, parseBdJson, toOrdered, toWire, toWireDeps } from '../../../src/beads/bd/json.js';

const fixture = (name: string): string => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
const issues = (name: string) => issuesOf(parseBdJson(fixture(name), name));

describe('bd show --json → wire', () => {
  const bead = toWire(issues('show.json')[0]!);

  it('maps every field gc reads; type from issue_type, never issue_type on the wire', () => {
    expect(bead).toEqual({
      id: 'fx-45q.1',
      title: 'child',
      status: 'in_progress',
      type: 'bug',
      priority: 1,
      created_at: '2026-11-22T04:42:15Z',
      assignee: 'mayor',
      from: 'priya',
      parent_id: 'fx-45q',
      ref: 'step-1',
      needs: ['fx-zzz'],
      description: 'multi\nline',
      labels: ['has,comma', 'role:worker'],
      metadata: { empty: '', k: 'v', n: '42' },
      updated_at: '2026-11-22T04:42:16Z',
    });
    expect(bead).not.toHaveProperty('issue_type');
  });

  it('keeps an empty metadata value (present, not absent) and types numbers as their JSON text', () => {
    expect(bead.metadata).toHaveProperty('empty', '');
    expect(bead.metadata?.['n']).toBe('42');
  });

  it('hides the reserved keys but orders by them', () => {
    expect(bead.metadata).not.toHaveProperty('gc.order');
    expect(bead.metadata).not.toHaveProperty('from');
    expect(toOrdered(issues('show.json')[0]!).order).toBe('o00000000000000001');
  });
});

describe('Gas City 1.x bead fields', () => {
  it("status_detail keeps a status finer than gc's three; updated_at, ephemeral, no_history, defer_until pass through", () => {
    const w = toWire({
      id: 'gc-1',
      status: 'blocked',
      updated_at: '2026-01-02T03:04:05Z',
      ephemeral: true,
      no_history: true,
      defer_until: '2026-02-01T00:00:00Z',
    });
    expect(w).toMatchObject({
      status: 'open',
      status_detail: 'blocked',
      updated_at: '2026-01-02T03:04:05Z',
      ephemeral: true,
      no_history: true,
      defer_until: '2026-02-01T00:00:00Z',
    });
  });

  it('adds nothing a v0.15.1 bead did not have when the fields are unset', () => {
    const w = toWire({ id: 'gc-1', status: 'in_progress', ephemeral: false });
    for (const key of ['status_detail', 'updated_at', 'ephemeral', 'no_history', 'defer_until']) expect(w).not.toHaveProperty(key);
  });
});

describe('other bd outputs', () => {
  it('create prints one object; list an array with native parent', () => {
    expect(issuesOf(parseBdJson(fixture('create-parent.json'), 'create'))).toHaveLength(1);
    const list = issues('list.json').map(toWire);
    expect(list.map((b) => b.id).sort()).toEqual(['fx-45q', 'fx-45q.1']);
    expect(list.find((b) => b.id === 'fx-45q.1')?.parent_id).toBe('fx-45q');
    expect(list.find((b) => b.id === 'fx-45q')?.type).toBe('molecule');
  });

  it('update --json prints an array of the updated issue', () => {
    expect(toWire(issues('update.json')[0]!).status).toBe('in_progress');
  });

  it('an empty ready list is []', () => {
    expect(issues('ready.json')).toEqual([]);
  });

  it('dep list prints related issues with dependency_type; oriented by direction', () => {
    expect(toWireDeps(parseBdJson(fixture('dep-list-up.json'), 'dep'), 'fx-45q.1', 'up')).toEqual([
      { issue_id: 'fx-45q', depends_on_id: 'fx-45q.1', type: 'blocks' },
    ]);
    const down = toWireDeps(parseBdJson(fixture('dep-list-down.json'), 'dep'), 'fx-45q', 'down');
    expect(down).toContainEqual({ issue_id: 'fx-45q', depends_on_id: 'fx-45q.1', type: 'blocks' });
  });

  it('not-found errors carry the wording gc maps', () => {
    expect(fixture('show-missing.stderr')).toMatch(/no issue found/);
    expect(fixture('close-missing.stdout')).toMatch(/no issue found/);
  });
});

describe('normalization', () => {
  it('folds bd statuses into open / in_progress / closed', () => {
    expect(['open', 'blocked', 'deferred', 'hooked', 'review', 'testing', undefined].map(normalizeStatus)).toEqual(Array(7).fill('open'));
    expect(normalizeStatus('in_progress')).toBe('in_progress');
    expect(normalizeStatus('closed')).toBe('closed');
  });

  it("reads upstream gc-beads-k8s's labels: parent:, needs:, meta:k=v (native metadata wins)", () => {
    const b = toWire({ id: 'x-1', labels: ['parent:x-0', 'needs:x-9', 'meta:a=1', 'meta:b=2', 'plain'], metadata: { b: 'native' } });
    expect(b).toMatchObject({ parent_id: 'x-0', needs: ['x-9'], labels: ['plain'], metadata: { a: '1', b: 'native' }, type: 'task' });
  });

  it('orders by created_at, then the hidden creation key, then id', () => {
    const mk = (id: string, created: string, order: string) =>
      toOrdered({ id, created_at: created, metadata: order === '' ? {} : { 'gc.order': order } });
    const sorted = [mk('c', 's1', 'o2'), mk('a', 's1', 'o3'), mk('b', 's0', ''), mk('d', 's1', 'o1')].sort(byCreation);
    expect(sorted.map((o) => o.bead.id)).toEqual(['b', 'd', 'c', 'a']);
  });

  it('takes the JSON after a warning line', () => {
    expect(parseBdJson('warning: something\n[{"id":"a-1"}]', 'x')).toEqual([{ id: 'a-1' }]);
    expect(() => parseBdJson('not json at all', 'x')).toThrow(/not JSON/);
  });
});
