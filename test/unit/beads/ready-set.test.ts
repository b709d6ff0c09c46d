// bd ready's rules, computed from rows: what blocks, what a closed or pinned blocker does, what
// happens to children of blocked and deferred beads, and when only bd can decide.
import { describe, expect, it } from 'vitest';
import { readyIds, type DepRow, type ReadyIssueRow } from '../../../src/beads/dolt/ready-set.js';

function issue(id: string, over: Partial<ReadyIssueRow> = {}): ReadyIssueRow {
  return { id, status: 'open', issueType: 'task', pinned: false, ephemeral: false, deferred: false, ...over };
}

const dep = (issueId: string, dependsOnId: string, type = 'blocks'): DepRow => ({ issueId, dependsOnId, type });

describe('readyIds', () => {
  it('an open blocker blocks; a closed or pinned one does not', () => {
    const issues = [
      issue('a'),
      issue('b'),
      issue('c'),
      issue('done', { status: 'closed' }),
      issue('d'),
      issue('pin', { status: 'pinned' }),
    ];
    expect(readyIds(issues, [dep('b', 'a'), dep('c', 'done'), dep('d', 'pin')])).toEqual(['a', 'c', 'd']);
  });

  it('conditional-blocks counts like blocks; related and other edges do not block', () => {
    const issues = [issue('a'), issue('b'), issue('c')];
    expect(readyIds(issues, [dep('b', 'a', 'conditional-blocks'), dep('c', 'a', 'related'), dep('c', 'a', 'discovered-from')])).toEqual([
      'a',
      'c',
    ]);
  });

  it('a blocker that does not exist (an external ref) does not block', () => {
    expect(readyIds([issue('a')], [dep('a', 'external:rig:x')])).toEqual(['a']);
  });

  it('direct children of a blocked or of a deferred bead are not ready; grandchildren are', () => {
    const issues = [
      issue('blocker'),
      issue('parent'),
      issue('child'),
      issue('grandchild'),
      issue('later', { deferred: true }),
      issue('laterChild'),
    ];
    const deps = [
      dep('parent', 'blocker'),
      dep('child', 'parent', 'parent-child'),
      dep('grandchild', 'child', 'parent-child'),
      dep('laterChild', 'later', 'parent-child'),
    ];
    expect(readyIds(issues, deps)).toEqual(['blocker', 'grandchild']);
  });

  it('only open, unpinned, non-ephemeral work types count', () => {
    const issues = [
      issue('ok'),
      issue('wip', { status: 'in_progress' }),
      issue('blockedStatus', { status: 'blocked' }),
      issue('pinned', { pinned: true }),
      issue('wisp', { ephemeral: true }),
      ...['merge-request', 'gate', 'molecule', 'message', 'agent', 'role', 'rig'].map((t) => issue(t, { issueType: t })),
      issue('epic', { issueType: 'epic' }),
      issue('session', { issueType: 'session' }),
    ];
    expect(readyIds(issues, [])).toEqual(['ok', 'epic', 'session']);
  });

  it('an in-progress blocker still blocks', () => {
    expect(readyIds([issue('a', { status: 'in_progress' }), issue('b')], [dep('b', 'a')])).toEqual([]);
  });

  it('an active waits-for gate leaves the answer to bd; one on a closed bead does not', () => {
    expect(readyIds([issue('a'), issue('b')], [dep('a', 'b', 'waits-for')])).toBeUndefined();
    expect(readyIds([issue('a', { status: 'closed' }), issue('b')], [dep('a', 'b', 'waits-for')])).toEqual(['b']);
  });
});
