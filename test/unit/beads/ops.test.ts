// Store ops against a scripted bd: which bd calls each op makes, and how bd's failures become
// gc's wording. Replies are shaped like real bd output (see fixtures/).
import { describe, expect, it } from 'vitest';
import type { BdReply } from '../../../src/beads/bd/program.js';
import * as ops from '../../../src/beads/bd/ops.js';
import { parseCreateRequest, parseUpdateRequest } from '../../../src/beads/wire.js';

type Script = (argv: readonly string[]) => Partial<BdReply>;

function bd(script: Script): { run: ops.BdRun; calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    run: (argv) => {
      calls.push([...argv]);
      return Promise.resolve({ exitCode: 0, stdout: '', stderr: '', ...script(argv) });
    },
  };
}

const issue = (id: string, extra: object = {}) =>
  JSON.stringify([{ id, title: 't', status: 'open', issue_type: 'task', created_at: '2026-01-01T00:00:00Z', ...extra }]);
const notFound = {
  exitCode: 1,
  stdout: '{"error":"no issues found matching the provided IDs"}',
  stderr: 'Error fetching x: no issue found matching "x"',
};

describe('ops', () => {
  it('create creates, then reads the stored bead back (labels and parent are only in show)', async () => {
    const b = bd((a) => (a[0] === 'create' ? { stdout: '{"id":"gc-1"}' } : { stdout: issue('gc-1', { labels: ['x'], parent: 'gc-0' }) }));
    const bead = await ops.createBead(b.run, parseCreateRequest('{"title":"t","labels":["x"],"parent_id":"gc-0"}'));
    expect(b.calls.map((c) => c[0])).toEqual(['create', 'show']);
    expect(bead).toMatchObject({ id: 'gc-1', labels: ['x'], parent_id: 'gc-0' });
  });

  it('get maps bd not-found to "bead <id> not found"', async () => {
    await expect(ops.getBead(bd(() => notFound).run, 'x')).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'bead x not found' });
    await expect(ops.getBead(bd(() => ({ stdout: '[]' })).run, 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('an empty update still checks the id exists', async () => {
    const b = bd(() => notFound);
    await expect(ops.updateBead(b.run, 'x', parseUpdateRequest('{}'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(b.calls.map((c) => c[0])).toEqual(['show']);
  });

  it('close is idempotent: a failure on a closed bead is success, on an unknown id not-found', async () => {
    const closed = bd((a) =>
      a[0] === 'close'
        ? { exitCode: 1, stderr: 'Error closing gc-1: issue not found: gc-1' }
        : { stdout: issue('gc-1', { status: 'closed' }) },
    );
    await expect(ops.closeBead(closed.run, 'gc-1')).resolves.toBeUndefined();
    await expect(ops.closeBead(bd(() => notFound).run, 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('reopen: bd reopen; an already open bead is success; a failure on a closed one says why', async () => {
    const b = bd(() => ({}));
    await ops.reopenBead(b.run, 'gc-1');
    expect(b.calls).toEqual([['reopen', '--json', '--', 'gc-1']]);
    const open = bd((a) => (a[0] === 'reopen' ? { exitCode: 1, stderr: 'Error: gc-1 is not closed' } : { stdout: issue('gc-1') }));
    await expect(ops.reopenBead(open.run, 'gc-1')).resolves.toBeUndefined();
    const stuck = bd((a) =>
      a[0] === 'reopen' ? { exitCode: 1, stderr: 'Error: database is read only' } : { stdout: issue('gc-1', { status: 'closed' }) },
    );
    await expect(ops.reopenBead(stuck.run, 'gc-1')).rejects.toThrow('bd reopen: Error: database is read only');
    await expect(ops.reopenBead(bd(() => notFound).run, 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('set-metadata refuses keys bd would split', async () => {
    await expect(ops.setMetadata(bd(() => ({})).run, 'gc-1', 'a=b', 'v')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('dep-add with another type replaces the dependency (bd refuses to change it in place)', async () => {
    const down = JSON.stringify([{ id: 'gc-2', dependency_type: 'blocks' }]);
    const b = bd((a) => (a[1] === 'list' ? { stdout: down } : {}));
    await ops.depAdd(b.run, 'gc-1', 'gc-2', 'tracks');
    expect(b.calls.map((c) => c.slice(0, 2).join(' '))).toEqual(['dep list', 'dep remove', 'dep add']);
    const same = bd((a) => (a[1] === 'list' ? { stdout: down } : {}));
    await ops.depAdd(same.run, 'gc-1', 'gc-2', 'blocks');
    expect(same.calls).toHaveLength(1);
  });

  it('dep-remove and dep-list of unknown ids are not errors', async () => {
    await expect(ops.depRemove(bd(() => notFound).run, 'x', 'y')).resolves.toBeUndefined();
    await expect(ops.depList(bd(() => notFound).run, 'x', 'down')).resolves.toEqual([]);
  });

  it('list filters on the normalized status and limits after ordering', async () => {
    const rows = [
      { id: 'a', status: 'blocked', created_at: '2026-01-01T00:00:02Z' },
      { id: 'b', status: 'in_progress', created_at: '2026-01-01T00:00:01Z' },
      { id: 'c', status: 'open', created_at: '2026-01-01T00:00:00Z' },
    ];
    const b = bd(() => ({ stdout: JSON.stringify(rows) }));
    expect((await ops.listBeads(b.run, { status: 'open' })).map((x) => x.id)).toEqual(['c', 'a']);
    expect((await ops.listBeads(b.run, { limit: 2 })).map((x) => x.id)).toEqual(['c', 'b']);
  });

  it("bd failures other than not-found carry bd's message", async () => {
    const b = bd(() => ({ exitCode: 1, stderr: 'Error: failed to connect to dolt server at dolt:3307: connection refused' }));
    await expect(ops.listBeads(b.run, {})).rejects.toMatchObject({
      code: 'EXEC_NONZERO',
      message: expect.stringContaining('connection refused') as string,
    });
  });

  it("an error names bd's JSON error, not its deprecation chatter", () => {
    const reply = {
      exitCode: 1,
      stdout:
        '{\n  "error": "failed to open database: Dolt server unreachable at dolt:3307: connect: connection refused\\n\\nThe Dolt server may not be running."\n}',
      stderr:
        'Warning: dolt_server_port in metadata.json is deprecated (can cause cross-project data leakage).\n  The port file (.beads/dolt-server.port) is now the primary source.\n',
    };
    expect(ops.bdError(reply)).toBe('failed to open database: Dolt server unreachable at dolt:3307: connect: connection refused');
    expect(ops.bdError({ exitCode: 2, stdout: '', stderr: 'Warning: x is deprecated\nError: real problem\n' })).toBe('Error: real problem');
  });
});
