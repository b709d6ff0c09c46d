// The read ops of the exec beads protocol answered from Dolt directly (sql-reads.ts), finished
// exactly like their bd counterparts in ops.ts: same conversion, order, filters and limits.

import { toWire } from './bd-json.js';
import { finishByLabel, finishChildren, finishList, finishReady, inCreationOrder, notFound, type ListQuery } from './ops.js';
import type { SqlReads } from './sql-reads.js';
import type { WireBead, WireDep } from './wire.js';

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

export async function getBead(reads: SqlReads, id: string): Promise<WireBead> {
  const issue = await reads.get(id);
  if (issue === undefined) throw notFound(id);
  return toWire(issue);
}

export async function listBeads(reads: SqlReads, q: ListQuery): Promise<WireBead[]> {
  const issues = await reads.list({
    ...(q.assignee === undefined ? {} : { assignee: q.assignee }),
    ...(q.type === undefined ? {} : { type: normalizeIssueType(q.type) }),
  });
  return finishList(inCreationOrder(issues), q);
}

/** undefined: the store needs bd to decide (see ready-set.ts). */
export async function readyBeads(reads: SqlReads): Promise<WireBead[] | undefined> {
  const issues = await reads.ready();
  return issues === undefined ? undefined : finishReady(inCreationOrder(issues));
}

export async function childrenOf(reads: SqlReads, parentId: string): Promise<WireBead[]> {
  return finishChildren(inCreationOrder(await reads.list({ parent: parentId })), parentId);
}

export async function byLabel(reads: SqlReads, label: string, limit: number): Promise<WireBead[]> {
  return finishByLabel(inCreationOrder(await reads.list({ label })), label, limit);
}

/** undefined: `id` is no bead of this store, so bd decides (it also resolves partial ids). */
export async function depList(reads: SqlReads, id: string, direction: 'down' | 'up'): Promise<WireDep[] | undefined> {
  const deps = await reads.deps(id, direction);
  return deps?.map((d) => (direction === 'down' ? { issue_id: id, depends_on_id: d.other, type: d.type } : { issue_id: d.other, depends_on_id: id, type: d.type }));
}
