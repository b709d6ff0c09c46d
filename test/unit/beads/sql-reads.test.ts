// Rows from Dolt → bd's --json shape: timestamps as bd prints them, identifiers quoted, labels and
// parents attached, metadata kept as its JSON text, a store without wisps tables, and the Dolt
// database named as our init names it for bd.
import { describe, expect, it } from 'vitest';
import { toWire } from '../../../src/beads/bd/json.js';
import type { SqlRow } from '../../../src/beads/dolt/mysql.js';
import { ident, rfc3339, SqlReads, type Sql } from '../../../src/beads/dolt/queries.js';
import { initDatabase } from '../../../src/beads/bd/store-init.js';
import { GcK8sError } from '../../../src/errors.js';

describe('helpers', () => {
  it('rfc3339 prints DATETIMEs the way bd (Go time, UTC) does', () => {
    expect(rfc3339('2026-11-22 09:01:02')).toBe('2026-11-22T09:01:02Z');
    expect(rfc3339('2026-11-22 09:01:02.250000')).toBe('2026-11-22T09:01:02.25Z');
    expect(rfc3339('2026-11-22 09:01:02.000000')).toBe('2026-11-22T09:01:02Z');
    expect(rfc3339('')).toBe('');
  });

  it('ident quotes a database name', () => {
    expect(ident('gc')).toBe('`gc`');
    expect(ident('we`ird')).toBe('`we``ird`');
  });

  it('initDatabase: the database gc named, else the prefix with - and . made _, else beads', () => {
    const rec = { workdir: '/w', prefix: 'my-rig.v2', database: '', host: 'h', port: '3307', user: 'root', customTypes: [] };
    expect(initDatabase(rec)).toBe('my_rig_v2');
    expect(initDatabase({ ...rec, database: 'custom' })).toBe('custom');
    expect(initDatabase({ ...rec, prefix: '' })).toBe('beads');
  });
});

/** A scripted server: answers by table, and records every query. */
function server(tables: Record<string, SqlRow[]>, missing: string[] = []) {
  const seen: string[] = [];
  const sql: Sql = (query, params = []) => {
    seen.push(query);
    const table = /FROM `gc`\.(\w+)/.exec(query)?.[1] ?? '';
    if (missing.includes(table)) return Promise.reject(new GcK8sError('DOLT_QUERY', `dolt x: table not found: ${table}`));
    const rows = tables[table] ?? [];
    if (/WHERE id = \?/.test(query)) return Promise.resolve(rows.filter((r) => r['id'] === params[0]));
    if (/WHERE id IN \(/.test(query)) return Promise.resolve(rows.filter((r) => params.includes(r['id'] as string)));
    const byColumn = /WHERE (issue_id|depends_on_id) = \?/.exec(query)?.[1];
    if (byColumn !== undefined) return Promise.resolve(rows.filter((r) => r[byColumn] === params[0]));
    return Promise.resolve(rows);
  };
  return { sql, seen };
}

const row = (id: string, over: Record<string, unknown> = {}): SqlRow => ({
  id,
  title: `t ${id}`,
  description: '',
  status: 'open',
  priority: 2,
  issue_type: 'task',
  assignee: null,
  created_at: '2026-11-22 09:00:00',
  external_ref: null,
  metadata: '{}',
  is_template: 0,
  pinned: 0,
  ephemeral: 0,
  deferred: 0,
  ...over,
});

describe('SqlReads', () => {
  it('get shapes a bead like bd show: labels, parent, metadata text, numeric priority', async () => {
    const { sql } = server({
      issues: [row('gc-2', { priority: 0, assignee: 'ann', external_ref: 'gh-1', metadata: '{"from":"mayor","n":7}' })],
      labels: [
        { issue_id: 'gc-2', label: 'Alpha' },
        { issue_id: 'gc-2', label: 'needs:gc-9' },
      ],
      dependencies: [{ issue_id: 'gc-2', depends_on_id: 'gc-1' }],
    });
    const issue = await new SqlReads(sql, 'gc').get('gc-2');
    expect(issue).toMatchObject({
      id: 'gc-2',
      priority: 0,
      assignee: 'ann',
      external_ref: 'gh-1',
      created_at: '2026-11-22T09:00:00Z',
      labels: ['Alpha', 'needs:gc-9'],
      parent: 'gc-1',
    });
    expect(toWire(issue ?? {})).toMatchObject({
      from: 'mayor',
      needs: ['gc-9'],
      labels: ['Alpha'],
      parent_id: 'gc-1',
      metadata: { n: '7' },
      priority: 0,
    });
  });

  it('get falls through to the wisps tables, and a store without them has no wisps', async () => {
    const withWisps = server({
      wisps: [row('gc-wisp-1', { issue_type: 'message' })],
      wisp_labels: [{ issue_id: 'gc-wisp-1', label: 'mail' }],
    });
    expect(await new SqlReads(withWisps.sql, 'gc').get('gc-wisp-1')).toMatchObject({ issue_type: 'message', labels: ['mail'] });
    const without = server({}, ['wisps']);
    expect(await new SqlReads(without.sql, 'gc').get('gc-1')).toBeUndefined();
  });

  it('other query failures are not hidden', async () => {
    const broken = server({}, ['issues']);
    await expect(new SqlReads(broken.sql, 'gc').get('gc-1')).rejects.toMatchObject({ code: 'DOLT_QUERY' });
  });

  it('list merges issues and wisps once each, and filters in SQL', async () => {
    const { sql, seen } = server({ issues: [row('gc-1')], wisps: [row('gc-1'), row('gc-wisp-2')] });
    const list = await new SqlReads(sql, 'gc').list({ assignee: 'ann', label: 'x' });
    expect(list.map((i) => i['id'])).toEqual(['gc-1', 'gc-wisp-2']);
    expect(seen[0]).toMatch(/is_template = 0 .*assignee = \? .*FROM `gc`\.labels WHERE label = \?/);
  });

  it('ready reads the rule columns of every bead, then full rows of the ready ones only', async () => {
    const { sql, seen } = server({
      issues: [row('gc-1'), row('gc-2'), row('gc-3', { status: 'closed' }), row('gc-4', { deferred: 1 })],
      dependencies: [{ issue_id: 'gc-2', depends_on_id: 'gc-1', type: 'blocks' }],
    });
    const ready = await new SqlReads(sql, 'gc').ready();
    expect(ready?.map((i) => i['id'])).toEqual(['gc-1']);
    expect(seen[0]).toMatch(/^SELECT id, status, issue_type, pinned, ephemeral, \(defer_until/);
    expect(seen.some((q) => /SELECT id, title, .* WHERE id IN \(\?\)/.test(q))).toBe(true);
  });

  it('ready is undefined when a waits-for gate needs bd', async () => {
    const { sql } = server({
      issues: [row('gc-1'), row('gc-2')],
      dependencies: [{ issue_id: 'gc-1', depends_on_id: 'gc-2', type: 'waits-for' }],
    });
    expect(await new SqlReads(sql, 'gc').ready()).toBeUndefined();
  });

  it('deps lists related beads that exist, down and up (wisps too); an unknown id is left to bd', async () => {
    const { sql } = server({
      issues: [row('gc-1'), row('gc-2')],
      wisps: [row('gc-wisp-3')],
      dependencies: [
        { issue_id: 'gc-1', depends_on_id: 'gc-2', type: 'blocks' },
        { issue_id: 'gc-1', depends_on_id: 'gc-deleted', type: 'blocks' },
      ],
      wisp_dependencies: [{ issue_id: 'gc-wisp-3', depends_on_id: 'gc-2', type: 'tracks' }],
    });
    const reads = new SqlReads(sql, 'gc');
    expect(await reads.deps('gc-1', 'down')).toEqual([{ other: 'gc-2', type: 'blocks' }]);
    expect(await reads.deps('gc-2', 'up')).toEqual([
      { other: 'gc-1', type: 'blocks' },
      { other: 'gc-wisp-3', type: 'tracks' },
    ]);
    expect(await reads.deps('gc-wisp-3', 'down')).toEqual([{ other: 'gc-2', type: 'tracks' }]);
    expect(await reads.deps('gc-2', 'down')).toEqual([]);
    expect(await reads.deps('gc-9', 'down')).toBeUndefined();
  });

  it('an empty database name is a bug, not a query', () => {
    expect(() => new SqlReads(server({}).sql, '')).toThrow(/empty database/);
  });
});
