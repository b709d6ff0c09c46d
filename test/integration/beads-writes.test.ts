// Writes answered inside gc-bd-serve (beads' storage API in the runner's long-lived channel
// process) must leave Dolt exactly as bd leaves it. The same script of creates, updates,
// set-metadata calls, closes and bad requests runs twice on one store: the default way and with
// GC_K8S_BEADS_FAST_WRITES=false (bd per call). Then, for every bead it made, every row bd's
// schema holds about it — the issue or wisp row, labels, dependencies, events, child counters —
// the Dolt commits and bd's audit-log lines each step made are compared, with ids and timestamps
// made symbolic.
// The outputs gc sees, exit codes and error text included, must match too; and the daemon log
// must show gc-bd-serve serving the store and handing exactly the bad requests to bd.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doltPool, type DoltSql, type SqlRow } from '../../src/beads/dolt/mysql.js';
import { runnerWorkdir } from '../../src/beads/scope.js';
import type { WireBead as Bead } from '../../src/beads/wire.js';
import { BeadsHarness } from './beads-helpers.js';

const h = new BeadsHarness();
const VIA_BD = { GC_K8S_BEADS_FAST_WRITES: 'false' };
const Q = 10_000;
let pool: DoltSql | undefined;
function sqlPool(): DoltSql {
  if (pool === undefined) throw new Error('no Dolt pool (setup failed)');
  return pool;
}
let tables: Set<string>;

type Names = Map<string, string>; // real id → symbolic name

const TIME = /\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?/g;

/** gc-k8s's hidden creation-order key (src/beads/bd/args.ts ORDER_METADATA_KEY): a clock value */
const ORDER = /o\d{17}/g;

function norm(value: unknown, names: Names): unknown {
  if (typeof value !== 'string') return value;
  let s = value.replace(TIME, '<time>').replace(ORDER, '<order>');
  // longest first: a child id contains its parent's
  for (const [id, name] of [...names].sort((a, b) => b[0].length - a[0].length)) s = s.replaceAll(id, `<${name}>`);
  return s;
}

function normRow(row: SqlRow, names: Names, drop: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) if (!drop.includes(k)) out[k] = norm(v, names);
  return out;
}

async function rows(
  table: string,
  where: string,
  id: string,
  names: Names,
  drop: readonly string[] = [],
): Promise<Record<string, unknown>[]> {
  if (!tables.has(table)) return [];
  const found = await sqlPool().query(`SELECT * FROM \`${table}\` WHERE ${where} = ?`, [id], Q);
  return found.map((r) => normRow(r, names, drop)).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/**
 * Everything bd's schema holds about one bead. content_hash is left out: it hashes the metadata,
 * which holds the order key, a clock value; the storage code that computes it is the same.
 */
async function snapshot(id: string, names: Names): Promise<Record<string, unknown>> {
  return {
    issue: [...(await rows('issues', 'id', id, names, ['content_hash'])), ...(await rows('wisps', 'id', id, names, ['content_hash']))],
    labels: [...(await rows('labels', 'issue_id', id, names)), ...(await rows('wisp_labels', 'issue_id', id, names))],
    deps: [...(await rows('dependencies', 'issue_id', id, names)), ...(await rows('wisp_dependencies', 'issue_id', id, names))],
    // event ids are a shared auto-increment
    events: [...(await rows('events', 'issue_id', id, names, ['id'])), ...(await rows('wisp_events', 'issue_id', id, names, ['id']))],
    childCounter: await rows('child_counters', 'parent_id', id, names),
  };
}

async function commitCount(): Promise<number> {
  return Number((await sqlPool().query('SELECT COUNT(*) AS n FROM dolt_log', [], Q))[0]?.['n']);
}

async function newCommits(before: number, names: Names): Promise<unknown[]> {
  const n = (await commitCount()) - before;
  if (n <= 0) return [];
  const log = await sqlPool().query(`SELECT message, committer, email FROM dolt_log ORDER BY date DESC LIMIT ${n}`, [], Q);
  return log.map((r) => normRow(r, names)).reverse();
}

/** bd's audit log in the runner (.beads/interactions.jsonl): its lines so far. */
async function auditLines(): Promise<string[]> {
  const file = `${runnerWorkdir(h.city, h.city)}/.beads/interactions.jsonl`;
  const r = await h.k(['exec', 'gc-beads-runner', '--', 'sh', '-c', 'cat -- "$1" 2>/dev/null || true', 'sh', file]);
  return r.out.split('\n').filter((l) => l !== '');
}

/** New audit lines, without their random id and clock. */
function newAudit(before: string[], after: string[], names: Names): unknown[] {
  return after.slice(before.length).map((l) => {
    const { id: _id, created_at: _at, ...rest } = JSON.parse(l) as Record<string, unknown>;
    return JSON.parse(String(norm(JSON.stringify(rest), names))) as unknown;
  });
}

interface Step {
  readonly name: string;
  readonly argv: (ids: Record<string, string>) => string[];
  readonly stdin?: (ids: Record<string, string>) => string;
  /** the created bead's symbolic name */
  readonly creates?: string;
  /** run more than 1.5 s after the previous step, so its clock rounds to another second */
  readonly later?: boolean;
}

const STEPS: readonly Step[] = [
  { name: 'create minimal', argv: () => ['create'], stdin: () => '{"title":"minimal"}', creates: 'a' },
  {
    name: 'create with every field',
    argv: () => ['create'],
    stdin: () =>
      JSON.stringify({
        title: 'full',
        type: 'bug',
        priority: 1,
        assignee: 'ann',
        from: 'mayor',
        ref: 'gh-7',
        description: 'two\nlines "q"',
        labels: ['x', 'a,b', 'ü'],
        metadata: { k: 'v', n: '7' },
        needs: ['gc-later'],
      }),
    creates: 'b',
  },
  {
    name: 'create child',
    argv: () => ['create'],
    stdin: (ids) => JSON.stringify({ title: 'child', parent_id: ids['a'], labels: ['kid'] }),
    creates: 'c',
  },
  {
    name: 'create second child',
    argv: () => ['create'],
    stdin: (ids) => JSON.stringify({ title: 'child 2', parent_id: ids['a'] }),
    creates: 'd',
  },
  {
    name: 'create a wisp type',
    argv: () => ['create'],
    stdin: () => JSON.stringify({ title: 'mail', type: 'message', labels: ['mail'], assignee: 'ann' }),
    creates: 'm',
  },
  {
    name: 'create a custom type gc registers',
    argv: () => ['create'],
    stdin: () => JSON.stringify({ title: 'mol', type: 'molecule', priority: 0 }),
    creates: 'mol',
  },
  {
    name: 'update the type (bd normalizes it)',
    argv: (ids) => ['update', ids['mol'] ?? ''],
    stdin: () => JSON.stringify({ type: 'convoy', priority: 4 }),
  },
  {
    name: 'update every field',
    argv: (ids) => ['update', ids['b'] ?? ''],
    stdin: (ids) =>
      JSON.stringify({
        title: 'full 2',
        status: 'in_progress',
        priority: 3,
        assignee: 'bob',
        description: 'new',
        labels: ['y'],
        remove_labels: ['x'],
        metadata: { k: 'w', z: '1' },
        parent_id: ids['a'],
      }),
  },
  { name: 'reparent', argv: (ids) => ['update', ids['c'] ?? ''], stdin: (ids) => JSON.stringify({ parent_id: ids['b'] }) },
  {
    name: 'update a wisp',
    argv: (ids) => ['update', ids['m'] ?? ''],
    stdin: () => JSON.stringify({ status: 'in_progress', labels: ['seen'], metadata: { read: 'true' } }),
  },
  { name: 'set-metadata', argv: (ids) => ['set-metadata', ids['a'] ?? '', 'gc.routed_to'], stdin: () => 'x=1 "q"' },
  { name: 'set-metadata typed', argv: (ids) => ['set-metadata', ids['a'] ?? '', 'count'], stdin: () => '42' },
  { name: 'close by update', argv: (ids) => ['update', ids['d'] ?? ''], stdin: () => JSON.stringify({ status: 'closed' }) },
  { name: 'close a bead without a parent', argv: (ids) => ['close', ids['a'] ?? ''] },
  // A re-close changes the row only when its clock rounds to another second than the first close
  // (Dolt rounds datetimes and counts changed rows; otherwise bd answers "issue not found", which
  // gc-k8s takes as success for a closed bead): the step waits so both ways re-close for real.
  { name: 'close it again', argv: (ids) => ['close', ids['a'] ?? ''], later: true },
  { name: 'close a wisp', argv: (ids) => ['close', ids['m'] ?? ''] },
  { name: 'set-metadata on a closed bead', argv: (ids) => ['set-metadata', ids['a'] ?? '', 'after'], stdin: () => 'close' },
  { name: 'reopen a closed bead', argv: (ids) => ['reopen', ids['a'] ?? ''] },
  { name: 'reopen an open bead (bd leaves it)', argv: (ids) => ['reopen', ids['a'] ?? ''] },
  { name: 'reopen a closed wisp', argv: (ids) => ['reopen', ids['m'] ?? ''] },
  { name: 'reopen a bead closed by update', argv: (ids) => ['reopen', ids['d'] ?? ''] },
  { name: 'reopen an unknown id', argv: () => ['reopen', 'gc-nope'] },
  { name: 'close a child (bd: its molecule may close too)', argv: (ids) => ['close', ids['c'] ?? ''] },
  { name: 'close an unknown id', argv: () => ['close', 'gc-nope'] },
  { name: 'update an unknown id', argv: () => ['update', 'gc-nope'], stdin: () => '{"title":"x"}' },
  {
    name: 'create under an unknown parent',
    argv: () => ['create'],
    stdin: () => JSON.stringify({ title: 'orphan', parent_id: 'gc-nope' }),
  },
  { name: 'create an unknown type', argv: () => ['create'], stdin: () => JSON.stringify({ title: 'odd', type: 'no-such-type' }) },
];
/** the steps gc-bd-serve must hand to bd: a type change, a child's close, and the bad requests */
const HANDED_TO_BD = 7;

interface Outcome {
  readonly steps: unknown[];
  readonly beads: Record<string, unknown>;
}

async function script(extra: Record<string, string>): Promise<Outcome> {
  const ids: Record<string, string> = {};
  const names: Names = new Map();
  const raw: { name: string; code: number; out: string; err: string; commits: unknown[]; audit: unknown[] }[] = [];
  for (const step of STEPS) {
    const before = await commitCount();
    const auditBefore = await auditLines();
    if (step.later === true) await new Promise((resolve) => setTimeout(resolve, 1_600));
    const r = await h.beads(step.argv(ids), step.stdin?.(ids) ?? '', extra);
    if (step.creates !== undefined) {
      expect(r.code, `${step.name}: ${r.err}`).toBe(0);
      const id = (JSON.parse(r.out) as Bead).id;
      ids[step.creates] = id;
      names.set(id, step.creates);
    }
    raw.push({
      name: step.name,
      code: r.code,
      out: r.out,
      err: r.err,
      commits: await newCommits(before, names),
      audit: newAudit(auditBefore, await auditLines(), names),
    });
  }
  const beads: Record<string, unknown> = {};
  for (const [id, name] of names) beads[name] = await snapshot(id, names);
  const steps = raw.map((s) => ({ ...s, out: norm(s.out, names), err: norm(s.err, names) }));
  return { steps, beads };
}

let fast: Outcome;
let viaBd: Outcome;

beforeAll(async () => {
  await h.setup();
  await h.deployDolt();
  const init = await h.beads(['init', h.city, 'gc']);
  expect(init.code, init.err).toBe(0);
  const ip = (await h.k(['get', 'svc', 'dolt', '-o', 'jsonpath={.spec.clusterIP}'])).out.trim();
  pool = doltPool({ host: ip, port: 3307, user: 'root', password: `pw-${h.namespace}'"\\x` }, 5000, 'gc');
  tables = new Set((await sqlPool().query('SHOW TABLES', [], Q)).map((r) => String(Object.values(r)[0])));
  fast = await script({});
  viaBd = await script(VIA_BD);
});
afterAll(async () => {
  await pool?.close();
  await h.teardown();
});

describe('gc-bd-serve writes what bd writes', () => {
  it('the store really has the tables compared (else the comparison would be empty)', () => {
    for (const t of ['issues', 'wisps', 'labels', 'dependencies', 'events', 'child_counters']) expect(tables, t).toContain(t);
    expect(Object.keys(fast.beads).sort()).toEqual(['a', 'b', 'c', 'd', 'm', 'mol']);
  });

  it('gc-bd-serve served the store and handed only the bad requests to bd', () => {
    const log = readFileSync(h.socket.replace(/\.sock$/, '.log'), 'utf8').split('\n');
    const lines = log.filter((l) => l.includes('gc-bd-serve:'));
    expect(
      lines.some((l) => l.includes(`gc-bd-serve: serving ${runnerWorkdir(h.city, h.city)} `)),
      lines.join('\n'),
    ).toBe(true);
    const handed = lines.filter((l) => l.includes('ran bd'));
    expect(handed, handed.join('\n')).toHaveLength(HANDED_TO_BD);
  });

  it('each step answers gc the same: exit code, output, errors', () => {
    for (let i = 0; i < STEPS.length; i++) {
      const [f, b] = [fast.steps[i] as Record<string, unknown>, viaBd.steps[i] as Record<string, unknown>];
      expect({ code: f['code'], out: f['out'], err: f['err'] }, STEPS[i]?.name).toEqual({ code: b['code'], out: b['out'], err: b['err'] });
    }
    // the bad requests fail as gc expects, not silently
    const byName = (n: string): Record<string, unknown> => fast.steps[STEPS.findIndex((s) => s.name === n)] as Record<string, unknown>;
    expect(byName('update an unknown id')['err']).toMatch(/not found/);
    expect(byName('close an unknown id')['err']).toMatch(/not found/);
    expect(byName('close it again')['code']).toBe(0);
    expect(byName('reopen an unknown id')['err']).toMatch(/not found/);
    expect(byName('reopen an open bead (bd leaves it)')['code']).toBe(0);
    expect(byName('create under an unknown parent')['code']).not.toBe(0);
    expect(byName('create an unknown type')['code']).not.toBe(0);
  });

  it('each step makes the same Dolt commits', () => {
    for (let i = 0; i < STEPS.length; i++) {
      expect((fast.steps[i] as Record<string, unknown>)['commits'], STEPS[i]?.name).toEqual(
        (viaBd.steps[i] as Record<string, unknown>)['commits'],
      );
    }
    expect((fast.steps[0] as Record<string, unknown>)['commits']).toEqual([expect.objectContaining({ message: 'bd: create <a>' })]);
  });

  it("each step writes the same lines to bd's audit log", () => {
    for (let i = 0; i < STEPS.length; i++) {
      expect((fast.steps[i] as Record<string, unknown>)['audit'], STEPS[i]?.name).toEqual(
        (viaBd.steps[i] as Record<string, unknown>)['audit'],
      );
    }
    const all = fast.steps.flatMap((s) => (s as { audit: unknown[] }).audit);
    expect(all).toContainEqual(
      expect.objectContaining({
        kind: 'field_change',
        extra: expect.objectContaining({ field: 'status', new_value: 'closed', reason: 'Closed' }) as unknown,
      }),
    );
  });

  it('every row about every bead is the same', () => {
    for (const name of Object.keys(viaBd.beads)) expect(fast.beads[name], name).toEqual(viaBd.beads[name]);
    const b = fast.beads['b'] as { labels: { label: string }[]; events: unknown[]; issue: Record<string, unknown>[] };
    expect(b.labels.map((l) => l.label).sort()).toEqual(['a,b', 'needs:gc-later', 'y', 'ü']);
    expect(b.events.length).toBeGreaterThan(3);
    expect(b.issue[0]?.['title']).toBe('full 2');
    // reopened after its close, through the fast path and through bd alike
    expect((fast.beads['a'] as { issue: Record<string, unknown>[] }).issue[0]?.['status']).toBe('open');
  });
});
