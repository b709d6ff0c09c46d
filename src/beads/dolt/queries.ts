// The read ops of a store straight from its Dolt database, without starting bd: the same rows bd
// reads (beads v1.0.0 schema: issues + labels + dependencies, and the wisps tables where bd keeps
// ephemeral and infra beads), shaped like bd's --json output so the one bd → wire conversion
// (bd/json.ts) serves both paths. Queries touch one table each, as bd's own do (Dolt's join
// iterators have panicked on correlated cross-table subqueries), and filter in SQL where bd does,
// so comparisons follow the database's collation exactly like bd's.

import { GcK8sError, hasCode } from '../../errors.js';
import type { SqlRow } from './mysql.js';
import { readyIds, type DepRow } from './ready-set.js';

export type Sql = (sql: string, params?: readonly (string | number)[]) => Promise<SqlRow[]>;

type Obj = Record<string, unknown>;

interface Tables {
  readonly main: string;
  readonly labels: string;
  readonly deps: string;
}

const ISSUES: Tables = { main: 'issues', labels: 'labels', deps: 'dependencies' };
const WISPS: Tables = { main: 'wisps', labels: 'wisp_labels', deps: 'wisp_dependencies' };

const DEFERRED = '(defer_until IS NOT NULL AND defer_until > UTC_TIMESTAMP()) AS deferred';
const COLUMNS = `id, title, description, status, priority, issue_type, assignee, created_at, updated_at, external_ref, metadata, is_template, pinned, ephemeral, no_history, defer_until, ${DEFERRED}`;
/** IN lists stay bounded, like bd's (a store can hold tens of thousands of beads). */
const BATCH = 500;

function marks(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

/** An identifier, quoted for MySQL (database names come from the store's metadata, not users). */
export function ident(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/** The wisps tables appear with a later bd migration; a store without them has no wisps. */
function missingTable(err: unknown): boolean {
  return hasCode(err, 'DOLT_QUERY') && /table not found|doesn't exist|unknown table/i.test(err.message);
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return '';
}

function flag(v: unknown): boolean {
  return v !== null && v !== undefined && Number(text(v) || 0) !== 0;
}

/** bd prints DATETIMEs as RFC 3339 UTC; the server gives 'YYYY-MM-DD HH:MM:SS[.ffffff]'. */
export function rfc3339(datetime: string): string {
  if (datetime === '') return '';
  const [date, time = '00:00:00'] = datetime.split(' ');
  const [hms = '', frac = ''] = time.split('.');
  const nanos = frac.replace(/0+$/, '');
  return `${date ?? ''}T${hms}${nanos === '' ? '' : `.${nanos}`}Z`;
}

export class SqlReads {
  private readonly db: string;

  constructor(
    private readonly sql: Sql,
    database: string,
  ) {
    if (database === '') throw new GcK8sError('INTERNAL', 'SqlReads: empty database name');
    this.db = ident(database);
  }

  /** One bead in bd's --json shape, or undefined when neither table has it. */
  async get(id: string): Promise<Obj | undefined> {
    for (const t of [ISSUES, WISPS]) {
      const rows = await this.rows(t, `SELECT ${COLUMNS} FROM ${this.db}.${t.main} WHERE id = ?`, [id]);
      if (rows.length > 0) return (await this.hydrate(t, rows))[0];
    }
    return undefined;
  }

  /** `bd list --all --include-infra --include-gates --limit=0` with optional exact filters. */
  async list(filter: { assignee?: string; type?: string; label?: string; parent?: string } = {}): Promise<Obj[]> {
    const out: Obj[] = [];
    const seen = new Set<string>();
    for (const t of [ISSUES, WISPS]) {
      const where = ['(is_template = 0 OR is_template IS NULL)'];
      const params: string[] = [];
      if (filter.assignee !== undefined) {
        where.push('assignee = ?');
        params.push(filter.assignee);
      }
      if (filter.type !== undefined) {
        where.push('issue_type = ?');
        params.push(filter.type);
      }
      if (filter.label !== undefined) {
        where.push(`id IN (SELECT issue_id FROM ${this.db}.${t.labels} WHERE label = ?)`);
        params.push(filter.label);
      }
      if (filter.parent !== undefined) {
        where.push(`id IN (SELECT issue_id FROM ${this.db}.${t.deps} WHERE type = 'parent-child' AND depends_on_id = ?)`);
        params.push(filter.parent);
      }
      // an id in both tables (a wisp being promoted) is listed once, from issues, as bd does
      const rows = (await this.rows(t, `SELECT ${COLUMNS} FROM ${this.db}.${t.main} WHERE ${where.join(' AND ')}`, params)).filter(
        (r) => !seen.has(text(r['id'])),
      );
      for (const r of rows) seen.add(text(r['id']));
      out.push(...(await this.hydrate(t, rows)));
    }
    return out;
  }

  /** `bd ready --limit=0`, or undefined when the store has a gate only bd can evaluate. */
  async ready(): Promise<Obj[] | undefined> {
    // Only what the rules need for every bead; full rows just for the ready ones (as bd does).
    const rows = await this.sql(`SELECT id, status, issue_type, pinned, ephemeral, ${DEFERRED} FROM ${this.db}.issues`);
    const depRows = await this.sql(
      `SELECT issue_id, depends_on_id, type FROM ${this.db}.dependencies WHERE type IN ('blocks', 'conditional-blocks', 'waits-for', 'parent-child')`,
    );
    const deps: DepRow[] = depRows.map((d) => ({
      issueId: text(d['issue_id']),
      dependsOnId: text(d['depends_on_id']),
      type: text(d['type']),
    }));
    const ids = readyIds(
      rows.map((r) => ({
        id: text(r['id']),
        status: text(r['status']),
        issueType: text(r['issue_type']),
        pinned: flag(r['pinned']),
        ephemeral: flag(r['ephemeral']),
        deferred: flag(r['deferred']),
      })),
      deps,
    );
    if (ids === undefined) return undefined;
    const full: SqlRow[] = [];
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      full.push(...(await this.sql(`SELECT ${COLUMNS} FROM ${this.db}.issues WHERE id IN (${marks(batch)})`, batch)));
    }
    return this.hydrate(ISSUES, full);
  }

  /**
   * `bd dep list <id> --direction=…`: the related beads that exist, with the dependency type, in
   * table order. undefined when `id` is no bead here (bd would try it as a partial id).
   */
  async deps(id: string, direction: 'down' | 'up'): Promise<{ readonly other: string; readonly type: string }[] | undefined> {
    const isWisp = (await this.rows(WISPS, `SELECT id FROM ${this.db}.wisps WHERE id = ?`, [id])).length > 0;
    if (!isWisp && (await this.sql(`SELECT id FROM ${this.db}.issues WHERE id = ?`, [id])).length === 0) return undefined;
    const found: { other: string; type: string }[] = [];
    if (direction === 'down') {
      const t = isWisp ? WISPS : ISSUES;
      for (const r of await this.sql(`SELECT depends_on_id, type FROM ${this.db}.${t.deps} WHERE issue_id = ? ORDER BY depends_on_id`, [
        id,
      ])) {
        found.push({ other: text(r['depends_on_id']), type: text(r['type']) });
      }
    } else {
      for (const t of [ISSUES, WISPS]) {
        for (const r of await this.rows(t, `SELECT issue_id, type FROM ${this.db}.${t.deps} WHERE depends_on_id = ? ORDER BY issue_id`, [
          id,
        ])) {
          found.push({ other: text(r['issue_id']), type: text(r['type']) });
        }
      }
    }
    if (found.length === 0) return [];
    // Only beads that exist are listed (a dependency may point at a deleted or external id).
    const existing = new Set<string>();
    const ids = [...new Set(found.map((f) => f.other))];
    for (const t of [ISSUES, WISPS]) {
      for (let i = 0; i < ids.length; i += BATCH) {
        const batch = ids.slice(i, i + BATCH);
        for (const r of await this.rows(t, `SELECT id FROM ${this.db}.${t.main} WHERE id IN (${marks(batch)})`, batch))
          existing.add(text(r['id']));
      }
    }
    return found.filter((f) => existing.has(f.other));
  }

  private async rows(t: Tables, query: string, params: readonly string[]): Promise<SqlRow[]> {
    try {
      return await this.sql(query, params);
    } catch (err) {
      if (t === WISPS && missingTable(err)) return [];
      throw err;
    }
  }

  /** Rows of one table → bd-shaped issues with their labels (sorted like bd) and parent. */
  private async hydrate(t: Tables, rows: readonly SqlRow[]): Promise<Obj[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => text(r['id']));
    const labels = new Map<string, string[]>();
    const parents = new Map<string, string>();
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      // two connections of the pool: labels and parents in one round trip
      const [ls, ps] = await Promise.all([
        this.sql(`SELECT issue_id, label FROM ${this.db}.${t.labels} WHERE issue_id IN (${marks(batch)}) ORDER BY issue_id, label`, batch),
        this.sql(
          `SELECT issue_id, depends_on_id FROM ${this.db}.${t.deps} WHERE type = 'parent-child' AND issue_id IN (${marks(batch)})`,
          batch,
        ),
      ]);
      for (const l of ls) {
        const id = text(l['issue_id']);
        const list = labels.get(id) ?? [];
        list.push(text(l['label']));
        labels.set(id, list);
      }
      for (const p of ps) {
        const id = text(p['issue_id']);
        if (!parents.has(id)) parents.set(id, text(p['depends_on_id']));
      }
    }
    return rows.map((r) => {
      const id = text(r['id']);
      const issue: Obj = {
        id,
        title: text(r['title']),
        description: text(r['description']),
        status: text(r['status']),
        priority: Number(text(r['priority']) || 0),
        issue_type: text(r['issue_type']),
        assignee: text(r['assignee']),
        created_at: rfc3339(text(r['created_at'])),
        updated_at: rfc3339(text(r['updated_at'])),
        external_ref: text(r['external_ref']),
        labels: labels.get(id) ?? [],
        parent: parents.get(id) ?? '',
      };
      const meta = text(r['metadata']);
      if (meta !== '') issue['metadata'] = meta;
      // bd prints these only when set (omitempty), so an unset one reads the same both ways
      if (flag(r['ephemeral'])) issue['ephemeral'] = true;
      if (flag(r['no_history'])) issue['no_history'] = true;
      const deferUntil = text(r['defer_until']);
      if (deferUntil !== '') issue['defer_until'] = rfc3339(deferUntil);
      return issue;
    });
  }
}
