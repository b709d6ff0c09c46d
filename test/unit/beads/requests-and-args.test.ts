// Request parsing (strict: bad input is refused before anything runs) and the op → bd argv
// mapping: every value one argv element, nothing upstream dropped.
import { describe, expect, it } from 'vitest';
import * as args from '../../../src/beads/bd/args.js';
import { isEmptyUpdate, parseCreateRequest, parseUpdateRequest } from '../../../src/beads/wire.js';

describe('create request', () => {
  it('defaults type to task and keeps every field', () => {
    expect(parseCreateRequest('{"title":"t"}')).toEqual({ title: 't', type: 'task', labels: [], needs: [], metadata: {} });
    const full = parseCreateRequest(
      JSON.stringify({
        title: 't',
        type: 'bug',
        priority: 0,
        labels: ['a'],
        parent_id: 'p',
        ref: 'r',
        needs: ['n'],
        description: 'd',
        assignee: 'as',
        from: 'f',
        metadata: { k: 'v' },
      }),
    );
    expect(full).toEqual({
      title: 't',
      type: 'bug',
      priority: 0,
      labels: ['a'],
      parentId: 'p',
      ref: 'r',
      needs: ['n'],
      description: 'd',
      assignee: 'as',
      from: 'f',
      metadata: { k: 'v' },
    });
  });

  it.each([
    ['', /empty input/],
    ['{bad', /invalid JSON/],
    ['[]', /expected a JSON object/],
    ['{"title":""}', /"title" is required/],
    ['{"title":5}', /"title" must be a string/],
    ['{"title":"t","priority":1.5}', /"priority" must be an integer/],
    ['{"title":"t","labels":"a"}', /"labels" must be an array/],
    ['{"title":"t","metadata":{"k":1}}', /"metadata.k" must be a string/],
    ['{"title":"a\\u0000b"}', /NUL/],
  ])('refuses %j', (text, message) => {
    expect(() => parseCreateRequest(text)).toThrow(message);
  });

  it("1.x create fields: ephemeral, no_history, defer_until (Go's zero time is unset) become bd flags", () => {
    const req = parseCreateRequest('{"title":"t","ephemeral":true,"no_history":true,"defer_until":"2026-03-01T10:00:00Z"}');
    expect(req).toMatchObject({ ephemeral: true, noHistory: true, deferUntil: '2026-03-01T10:00:00Z' });
    expect(args.createArgs(req, 'o1')).toEqual(expect.arrayContaining(['--ephemeral', '--no-history', '--defer=2026-03-01T10:00:00Z']));
    expect(parseCreateRequest('{"title":"t","defer_until":"0001-01-01T00:00:00Z","ephemeral":false}')).not.toHaveProperty('deferUntil');
    expect(args.createArgs(parseCreateRequest('{"title":"t","ephemeral":false}'), 'o1')).not.toContain('--ephemeral');
    expect(() => parseCreateRequest('{"title":"t","defer_until":"2026-13-01"}')).toThrow(/"defer_until" must be an RFC 3339 time/);
  });

  it('treats null like absent, as Go does', () => {
    expect(parseCreateRequest('{"title":"t","labels":null,"assignee":null}')).toEqual({
      title: 't',
      type: 'task',
      labels: [],
      needs: [],
      metadata: {},
    });
  });
});

describe('update request', () => {
  it('keeps explicit empty strings (clearing) and detects empty updates', () => {
    const u = parseUpdateRequest('{"assignee":"","parent_id":""}');
    expect(u).toMatchObject({ assignee: '', parentId: '' });
    expect(isEmptyUpdate(u)).toBe(false);
    expect(isEmptyUpdate(parseUpdateRequest('{}'))).toBe(true);
  });

  it('refuses statuses gc does not have', () => {
    expect(() => parseUpdateRequest('{"status":"blocked"}')).toThrow(/open, in_progress or closed/);
  });
});

describe('bd argv', () => {
  it('create: flags with =value (a title like a flag stays a value), from in metadata, needs as labels, CSV-quoted labels', () => {
    const argv = args.createArgs(
      parseCreateRequest(
        JSON.stringify({
          title: '--rm -rf',
          type: 'bug',
          priority: 2,
          labels: ['a,b', 'c'],
          needs: ['x-1'],
          parent_id: 'p-1',
          ref: 'r',
          assignee: 'm',
          from: 'f',
          description: '$(x)',
          metadata: { k: 'v' },
        }),
      ),
      'o1',
    );
    expect(argv).toEqual([
      'create',
      '--json',
      '--title=--rm -rf',
      '--type=bug',
      '--priority=2',
      '--description=$(x)',
      '--assignee=m',
      '--parent=p-1',
      '--no-inherit-labels',
      '--external-ref=r',
      '--labels="a,b",c,needs:x-1',
      '--metadata={"k":"v","from":"f","gc.order":"o1"}',
    ]);
  });

  it('update: every field gc sends, the id after --', () => {
    const u = parseUpdateRequest(
      JSON.stringify({
        title: 't',
        status: 'closed',
        type: 'task',
        priority: 1,
        description: 'd',
        parent_id: '',
        assignee: 'a',
        labels: ['l'],
        remove_labels: ['r'],
        metadata: { b: '2', a: '1' },
      }),
    );
    expect(args.updateArgs('-id', u)).toEqual([
      'update',
      '--json',
      '--title=t',
      '--status=closed',
      '--type=task',
      '--priority=1',
      '--description=d',
      '--parent=',
      '--assignee=a',
      '--add-label=l',
      '--remove-label=r',
      '--set-metadata=a=1',
      '--set-metadata=b=2',
      '--',
      '-id',
    ]);
    expect(args.updateArgs('x', parseUpdateRequest('{}'))).toBeUndefined();
  });

  it('reads list everything (all statuses, infra, gates, no limit); ids never parse as flags', () => {
    expect(args.listArgs({ assignee: 'a', type: 't' })).toEqual([
      'list',
      '--json',
      '--all',
      '--include-infra',
      '--include-gates',
      '--limit=0',
      '--flat',
      '--assignee=a',
      '--type=t',
    ]);
    expect(args.childrenArgs('p')).toContain('--parent=p');
    expect(args.labelArgs('role:w')).toContain('--label=role:w');
    expect(args.showArgs('-x')).toEqual(['show', '--json', '--id=-x']);
    expect(args.closeArgs('-x')).toEqual(['close', '--json', '--force', '--', '-x']);
    expect(args.deleteArgs('-x')).toEqual(['delete', '--json', '--force', '--', '-x']);
    expect(args.setMetadataArgs('i', 'k', 'a=b\n')).toEqual(['update', '--json', '--set-metadata=k=a=b\n', '--', 'i']);
    expect(args.depAddArgs('a', 'b', 'tracks')).toEqual(['dep', 'add', '--json', '--type=tracks', '--', 'a', 'b']);
    expect(args.depListArgs('a', 'up')).toEqual(['dep', 'list', '--json', '--direction=up', '--', 'a']);
  });

  it('creation keys increase strictly, even within one millisecond', () => {
    const a = args.nextOrderKey(1000);
    const b = args.nextOrderKey(1000);
    expect(b > a).toBe(true);
    expect(a).toMatch(/^o\d{17}$/);
  });
});
