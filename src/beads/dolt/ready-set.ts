// Which beads `bd ready` (beads v1.0.0, GetReadyWork with status "open") would return, computed
// from plain rows so the daemon can answer without starting bd. The rules, as bd applies them:
// an issue is blocked when a `blocks` or `conditional-blocks` dependency points from it to another
// issue while both are active (not closed, not pinned); children (parent-child) of a blocked or of
// a future-deferred issue are excluded too; pinned, ephemeral and workflow/identity types never
// count as ready work. `waits-for` gates depend on child closure history bd evaluates itself, so
// a store that has any active one is answered by bd (`undefined` here).

export interface ReadyIssueRow {
  readonly id: string;
  readonly status: string;
  readonly issueType: string;
  readonly pinned: boolean;
  readonly ephemeral: boolean;
  /** defer_until is set and still in the future (evaluated by the server's clock, as bd does) */
  readonly deferred: boolean;
}

export interface DepRow {
  readonly issueId: string;
  readonly dependsOnId: string;
  readonly type: string;
}

/** Types bd leaves out of ready work unless asked for by --type. */
export const NOT_WORK_TYPES: ReadonlySet<string> = new Set(['merge-request', 'gate', 'molecule', 'message', 'agent', 'role', 'rig']);

/** ids of ready issues in input order, or undefined when only bd can decide. */
export function readyIds(issues: readonly ReadyIssueRow[], deps: readonly DepRow[]): string[] | undefined {
  const active = new Set(issues.filter((i) => i.status !== 'closed' && i.status !== 'pinned').map((i) => i.id));
  const blocked = new Set<string>();
  for (const d of deps) {
    if (d.type === 'waits-for') {
      if (active.has(d.issueId)) return undefined;
    } else if (d.type === 'blocks' || d.type === 'conditional-blocks') {
      if (active.has(d.issueId) && active.has(d.dependsOnId)) blocked.add(d.issueId);
    }
  }
  const deferred = new Set(issues.filter((i) => i.deferred).map((i) => i.id));
  const excluded = new Set(blocked);
  for (const d of deps) {
    if (d.type === 'parent-child' && (blocked.has(d.dependsOnId) || deferred.has(d.dependsOnId))) excluded.add(d.issueId);
  }
  return issues
    .filter(
      (i) => i.status === 'open' && !i.pinned && !i.ephemeral && !NOT_WORK_TYPES.has(i.issueType) && !i.deferred && !excluded.has(i.id),
    )
    .map((i) => i.id);
}
