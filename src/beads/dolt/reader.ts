// The read ops of the exec beads protocol answered from Dolt directly (queries.ts), finished
// exactly like their bd counterparts in bd/ops.ts: same conversion, order, filters and limits.

import { toWire } from '../bd/json.js';
import { finishByLabel, finishChildren, finishList, finishReady, inCreationOrder, notFound, type ListQuery } from '../bd/ops.js';
import type { BeadReader } from '../reads.js';
import type { SqlReads } from './queries.js';
import type { WireBead, WireDep } from '../wire.js';

/** bd's --type aliases (utils.NormalizeIssueType), so a filter means what it means to bd. */
const TYPE_ALIASES: Readonly<Record<string, string>> = {
  mr: 'merge-request',
  feat: 'feature',
  mol: 'molecule',
  enhancement: 'feature',
  dec: 'decision',
  adr: 'decision',
};

export function normalizeIssueType(type: string): string {
  return TYPE_ALIASES[type.toLowerCase()] ?? type;
}

/** The read ops from Dolt directly; undefined where only bd can answer. */
export class DirectReader implements BeadReader {
  constructor(private readonly reads: SqlReads) {}

  async get(id: string): Promise<WireBead> {
    const issue = await this.reads.get(id);
    if (issue === undefined) throw notFound(id);
    return toWire(issue);
  }

  async list(q: ListQuery): Promise<WireBead[]> {
    const issues = await this.reads.list({
      ...(q.assignee === undefined ? {} : { assignee: q.assignee }),
      ...(q.type === undefined ? {} : { type: normalizeIssueType(q.type) }),
    });
    return finishList(inCreationOrder(issues), q);
  }

  /** undefined: the store needs bd to decide (see ready-set.ts), as do wisps (--include-ephemeral). */
  async ready(includeEphemeral: boolean): Promise<WireBead[] | undefined> {
    if (includeEphemeral) return undefined;
    const issues = await this.reads.ready();
    return issues === undefined ? undefined : finishReady(inCreationOrder(issues));
  }

  async children(parentId: string): Promise<WireBead[]> {
    return finishChildren(inCreationOrder(await this.reads.list({ parent: parentId })), parentId);
  }

  async byLabel(label: string, limit: number): Promise<WireBead[]> {
    return finishByLabel(inCreationOrder(await this.reads.list({ label })), label, limit);
  }

  /** undefined: `id` is no bead of this store, so bd decides (it also resolves partial ids). */
  async depList(id: string, direction: 'down' | 'up'): Promise<WireDep[] | undefined> {
    const deps = await this.reads.deps(id, direction);
    return deps?.map((d) =>
      direction === 'down'
        ? { issue_id: id, depends_on_id: d.other, type: d.type }
        : { issue_id: d.other, depends_on_id: id, type: d.type },
    );
  }
}
