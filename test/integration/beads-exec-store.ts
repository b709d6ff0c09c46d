// A TypeScript stand-in for gc's exec beads store client (internal/beads/exec): the same argv,
// stdin, exit-code and not-found rules, and the same client-side query handling, so gc's
// conformance scenarios can run against our script without building gc (the Go module proxy
// here refuses gascity).

import type { Run } from './harness.js';

export interface Bead {
  id: string;
  title: string;
  status: string;
  type: string;
  priority?: number;
  createdAt: Date;
  assignee: string;
  from: string;
  parentId: string;
  ref: string;
  needs: string[];
  description: string;
  labels: string[];
  metadata?: Record<string, string>;
}

export interface Dep {
  issue_id: string;
  depends_on_id: string;
  type: string;
}

export interface UpdateOpts {
  title?: string;
  status?: string;
  priority?: number;
  description?: string;
  parentId?: string;
  assignee?: string;
  labels?: string[];
  removeLabels?: string[];
  metadata?: Record<string, string>;
}

export interface ListQuery {
  status?: string;
  assignee?: string;
  type?: string;
  label?: string;
  parentId?: string;
  metadata?: Record<string, string>;
  limit?: number;
  allowScan?: boolean;
}

export class NotFoundError extends Error {}
export class QueryRequiresScanError extends Error {}

/** Types gc's Ready drops client-side (infrastructure beads are never work). */
const READY_EXCLUDED = new Set(['merge-request', 'gate', 'molecule', 'message', 'session', 'agent', 'role', 'rig']);

type Runner = (argv: readonly string[], stdin?: string) => Promise<Run>;

interface Wire {
  id: string;
  title?: string;
  status?: string;
  type?: string;
  priority?: number;
  created_at?: string;
  assignee?: string;
  from?: string;
  parent_id?: string;
  ref?: string;
  needs?: string[] | null;
  description?: string;
  labels?: string[] | null;
  metadata?: Record<string, unknown> | null;
}

function toBead(w: Wire): Bead {
  let metadata: Record<string, string> | undefined;
  if (w.metadata !== undefined && w.metadata !== null && Object.keys(w.metadata).length > 0) {
    metadata = Object.fromEntries(Object.entries(w.metadata).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  }
  return {
    id: w.id,
    title: w.title ?? '',
    status: w.status ?? '',
    type: w.type ?? '',
    ...(w.priority === undefined ? {} : { priority: w.priority }),
    createdAt: new Date(w.created_at ?? 0),
    assignee: w.assignee ?? '',
    from: w.from ?? '',
    parentId: w.parent_id ?? '',
    ref: w.ref ?? '',
    needs: w.needs ?? [],
    description: w.description ?? '',
    labels: w.labels ?? [],
    ...(metadata === undefined ? {} : { metadata }),
  };
}

export class ExecStore {
  constructor(private readonly runner: Runner) {}

  /** Exit 2 is success with no output; anything else non-zero is an error carrying stderr. */
  private async run(argv: readonly string[], stdin?: string): Promise<string> {
    const r = await this.runner(argv, stdin);
    if (r.code === 2) return '';
    if (r.code !== 0) throw new Error(`exec beads gc-beads-k8s ${argv.join(' ')}: ${r.err.trim() || `exit ${r.code}`}`);
    return r.out.replace(/\n+$/, '');
  }

  private async mapNotFound<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      const m = (err as Error).message.toLowerCase();
      if (m.includes('not found') || m.includes('no issue found')) throw new NotFoundError((err as Error).message);
      throw err;
    }
  }

  private static list(out: string): Bead[] {
    return out === '' ? [] : (JSON.parse(out) as Wire[]).map(toBead);
  }

  async create(b: Partial<Bead> & { title: string }): Promise<Bead> {
    const req: Record<string, unknown> = { title: b.title, type: b.type === undefined || b.type === '' ? 'task' : b.type };
    if (b.priority !== undefined) req['priority'] = b.priority;
    if (b.labels !== undefined && b.labels.length > 0) req['labels'] = b.labels;
    if (b.parentId) req['parent_id'] = b.parentId;
    if (b.ref) req['ref'] = b.ref;
    if (b.needs !== undefined && b.needs.length > 0) req['needs'] = b.needs;
    if (b.description) req['description'] = b.description;
    if (b.assignee) req['assignee'] = b.assignee;
    if (b.from) req['from'] = b.from;
    if (b.metadata !== undefined && Object.keys(b.metadata).length > 0) req['metadata'] = b.metadata;
    return toBead(JSON.parse(await this.run(['create'], JSON.stringify(req))) as Wire);
  }

  async get(id: string): Promise<Bead> {
    return toBead(JSON.parse(await this.mapNotFound(this.run(['get', id]))) as Wire);
  }

  async update(id: string, o: UpdateOpts): Promise<void> {
    const req: Record<string, unknown> = {};
    if (o.title !== undefined) req['title'] = o.title;
    if (o.status !== undefined) req['status'] = o.status;
    if (o.priority !== undefined) req['priority'] = o.priority;
    if (o.description !== undefined) req['description'] = o.description;
    if (o.parentId !== undefined) req['parent_id'] = o.parentId;
    if (o.assignee !== undefined) req['assignee'] = o.assignee;
    if (o.labels !== undefined && o.labels.length > 0) req['labels'] = o.labels;
    if (o.removeLabels !== undefined && o.removeLabels.length > 0) req['remove_labels'] = o.removeLabels;
    if (o.metadata !== undefined && Object.keys(o.metadata).length > 0) req['metadata'] = o.metadata;
    await this.mapNotFound(this.run(['update', id], JSON.stringify(req)));
  }

  async close(id: string): Promise<void> {
    await this.mapNotFound(this.run(['close', id]));
  }

  /** Store.List(ListQuery): the script narrows, the client applies the whole query. */
  async list(q: ListQuery = { allowScan: true }): Promise<Bead[]> {
    const hasFilter = Boolean(
      q.status || q.assignee || q.type || q.label || q.parentId || (q.metadata && Object.keys(q.metadata).length > 0),
    );
    if (!hasFilter && q.allowScan !== true) throw new QueryRequiresScanError('query requires a filter or AllowScan');
    let out: Bead[];
    if (q.parentId) out = ExecStore.list(await this.run(['children', q.parentId]));
    else if (q.label) out = ExecStore.list(await this.run(['list-by-label', q.label, '0']));
    else {
      const flags = [q.status && `--status=${q.status}`, q.assignee && `--assignee=${q.assignee}`, q.type && `--type=${q.type}`].filter(
        (f): f is string => Boolean(f),
      );
      out = ExecStore.list(await this.run(['list', ...flags]));
    }
    out = out.filter(
      (b) =>
        (!q.status || b.status === q.status) &&
        (!q.assignee || b.assignee === q.assignee) &&
        (!q.type || b.type === q.type) &&
        (!q.label || b.labels.includes(q.label)) &&
        (!q.parentId || b.parentId === q.parentId) &&
        Object.entries(q.metadata ?? {}).every(([k, v]) => b.metadata?.[k] === v),
    );
    return q.limit !== undefined && q.limit > 0 ? out.slice(0, q.limit) : out;
  }

  listOpen(): Promise<Bead[]> {
    return this.list({ allowScan: true }).then((all) => all.filter((b) => b.status !== 'closed'));
  }

  async ready(): Promise<Bead[]> {
    return ExecStore.list(await this.run(['ready'])).filter((b) => !READY_EXCLUDED.has(b.type));
  }

  async children(parentId: string): Promise<Bead[]> {
    return ExecStore.list(await this.run(['children', parentId]));
  }

  async listByLabel(label: string, limit: number): Promise<Bead[]> {
    const all = ExecStore.list(await this.run(['list-by-label', label, '0']));
    return limit > 0 ? all.slice(0, limit) : all;
  }

  /** list-by-status, falling back to list + filter when the script does not know it (exit 2). */
  async listByStatus(status: string, limit: number): Promise<Bead[]> {
    const out = await this.run(['list-by-status', status, String(limit)]);
    if (out !== '') return ExecStore.list(out);
    const all = (await this.list({ allowScan: true })).filter((b) => b.status === status);
    return limit > 0 ? all.slice(0, limit) : all;
  }

  async setMetadata(id: string, key: string, value: string): Promise<void> {
    await this.mapNotFound(this.run(['set-metadata', id, key], value));
  }

  async setMetadataBatch(id: string, kvs: Record<string, string>): Promise<void> {
    for (const [k, v] of Object.entries(kvs)) await this.setMetadata(id, k, v);
  }

  async ping(): Promise<void> {
    await this.run(['list']);
  }

  async depAdd(issue: string, dependsOn: string, type: string): Promise<void> {
    await this.run(['dep-add', issue, dependsOn, type]);
  }

  async depRemove(issue: string, dependsOn: string): Promise<void> {
    await this.run(['dep-remove', issue, dependsOn]);
  }

  async depList(id: string, direction: 'down' | 'up'): Promise<Dep[]> {
    const out = await this.run(['dep-list', id, direction]);
    return out.trim() === '' ? [] : (JSON.parse(out) as Dep[]);
  }
}
