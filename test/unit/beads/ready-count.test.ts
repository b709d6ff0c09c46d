// `ready-count` (a pool's scale_check): its arguments (strict, refused before anything runs), the
// filters and the clamp over the ready set, and that both bead sources answer it through the one
// `ready` read, so the count can only mean what `ready` means.
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { answer, readRequest, readyCount, readyCountQuery, READY_COUNT_LIMIT, type BeadReader } from '../../../src/beads/reads.js';
import type { WireBead } from '../../../src/beads/wire.js';

function bead(id: string, fields: Partial<WireBead> = {}): WireBead {
  return {
    id,
    title: id,
    status: 'open',
    type: 'task',
    created_at: '2026-01-01T00:00:00Z',
    assignee: '',
    from: '',
    parent_id: '',
    ref: '',
    needs: [],
    description: '',
    labels: [],
    ...fields,
  };
}

const READY = [
  bead('a'),
  bead('b', { labels: ['gpu'] }),
  bead('c', { type: 'bug', labels: ['gpu', 'urgent'] }),
  bead('d', { assignee: 'alice' }),
  bead('e', { type: 'feature', assignee: 'alice', labels: ['gpu'] }),
];

describe('ready-count arguments', () => {
  it('takes each filter and bound as --flag value or --flag=value; min 0 and no max by default', () => {
    expect(readyCountQuery([])).toEqual({ min: 0 });
    expect(readyCountQuery(['--type', 'task', '--label=gpu', '--assignee', 'alice', '--min=1', '--max', '4'])).toEqual({
      type: 'task',
      label: 'gpu',
      assignee: 'alice',
      min: 1,
      max: 4,
    });
    expect(readyCountQuery(['--min', '3', '--max', '3'])).toEqual({ min: 3, max: 3 });
    expect(readyCountQuery(['--max', '0'])).toEqual({ min: 0, max: 0 });
    expect(readyCountQuery([`--max=${READY_COUNT_LIMIT}`])).toEqual({ min: 0, max: READY_COUNT_LIMIT });
    // a value may contain = and spaces; only its flag is parsed
    expect(readyCountQuery(['--label=a=b c'])).toEqual({ label: 'a=b c', min: 0 });
  });

  it("a type means what it means to bd's --type (its aliases)", () => {
    expect(readyCountQuery(['--type', 'feat']).type).toBe('feature');
    expect(readyCountQuery(['--type=enhancement']).type).toBe('feature');
    expect(readyCountQuery(['--type', 'task']).type).toBe('task');
  });

  it.each([
    [['--min', '5', '--max', '2'], 'ready-count: --min 5 is more than --max 2'],
    [['--min', '-1'], 'ready-count: --min must be an integer from 0 to 1000000, got "-1"'],
    [['--min=-1'], 'ready-count: --min must be an integer from 0 to 1000000, got "-1"'],
    [['--max', '1.5'], 'ready-count: --max must be an integer from 0 to 1000000, got "1.5"'],
    [['--max', '+2'], 'ready-count: --max must be an integer from 0 to 1000000, got "+2"'],
    [['--max', '1e3'], 'ready-count: --max must be an integer from 0 to 1000000, got "1e3"'],
    [['--max', ' 3'], 'ready-count: --max must be an integer from 0 to 1000000, got " 3"'],
    [['--max', '1000001'], 'ready-count: --max must be an integer from 0 to 1000000, got "1000001"'],
    [['--max', '99999999999999999999'], 'ready-count: --max must be an integer from 0 to 1000000, got "99999999999999999999"'],
    [['--type='], 'ready-count: --type has an empty value'],
    [['--label', ''], 'ready-count: --label has an empty value'],
    [['--assignee'], 'ready-count: --assignee needs a value'],
    [['--type', '--label', 'x'], 'ready-count: --type needs a value'],
    [['--type', 'a', '--type', 'b'], 'ready-count: --type given twice'],
    [['--status', 'open'], 'ready-count: unsupported argument: --status'],
    [['--include-ephemeral'], 'ready-count: unsupported argument: --include-ephemeral'],
    [['-t', 'task'], 'ready-count: unsupported argument: -t'],
    [['task'], 'ready-count: unsupported argument: task'],
    [['--TYPE', 'task'], 'ready-count: unsupported argument: --TYPE'],
  ])('%j is refused: %s', (argv, message) => {
    expect(() => readyCountQuery(argv)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', message }));
  });

  it('never echoes unbounded input: a long or multi-line argument is cut to one short line', () => {
    for (const argv of [['-'.repeat(10_000)], ['--max', '9'.repeat(10_000)], [`--x${'\n'.repeat(50)}y`]]) {
      let message = '';
      try {
        readyCountQuery(argv);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^ready-count: /);
      expect(message).not.toContain('\n');
      expect(message.length).toBeLessThan(200);
    }
  });

  it('is a read request of its own (and ready still refuses its flags)', () => {
    expect(readRequest('ready-count', ['--type', 'bug', '--max', '2'])).toEqual({
      op: 'ready-count',
      query: { type: 'bug', min: 0, max: 2 },
    });
    expect(() => readRequest('ready', ['--type', 'bug'])).toThrow('ready: unsupported argument: --type');
  });
});

describe('ready-count over the ready set', () => {
  it('counts the beads matching every given filter', () => {
    expect(readyCount(READY, { min: 0 })).toBe(5);
    expect(readyCount(READY, { type: 'task', min: 0 })).toBe(3);
    expect(readyCount(READY, { type: 'bug', min: 0 })).toBe(1);
    expect(readyCount(READY, { type: 'epic', min: 0 })).toBe(0);
    expect(readyCount(READY, { label: 'gpu', min: 0 })).toBe(3);
    expect(readyCount(READY, { assignee: 'alice', min: 0 })).toBe(2);
    expect(readyCount(READY, { type: 'task', label: 'gpu', min: 0 })).toBe(1);
    expect(readyCount(READY, { assignee: 'alice', label: 'gpu', min: 0 })).toBe(1);
    expect(readyCount(READY, { assignee: 'bob', min: 0 })).toBe(0);
    // exact matches, as bd's filters are
    expect(readyCount(READY, { label: 'gp', min: 0 })).toBe(0);
    expect(readyCount(READY, { assignee: 'Alice', min: 0 })).toBe(0);
  });

  it('clamps the count to [min, max]', () => {
    expect(readyCount(READY, { min: 0, max: 4 })).toBe(4);
    expect(readyCount(READY, { min: 0, max: 0 })).toBe(0);
    expect(readyCount(READY, { min: 7 })).toBe(7);
    expect(readyCount(READY, { min: 5, max: 5 })).toBe(5);
    expect(readyCount([], { min: 2, max: 4 })).toBe(2);
    expect(readyCount(READY, { type: 'bug', min: 2, max: 4 })).toBe(2);
    expect(readyCount(READY, { type: 'task', min: 1, max: 4 })).toBe(3);
  });

  it("is answered from the reader's ready set without wisps, or left to bd when the reader cannot decide", async () => {
    const asked: boolean[] = [];
    const reader = (ready: WireBead[] | undefined): BeadReader => ({
      get: () => Promise.reject(new Error('not used')),
      list: () => Promise.reject(new Error('not used')),
      ready: (includeEphemeral) => {
        asked.push(includeEphemeral);
        return Promise.resolve(ready);
      },
      children: () => Promise.reject(new Error('not used')),
      byLabel: () => Promise.reject(new Error('not used')),
      depList: () => Promise.reject(new Error('not used')),
    });
    const req = readRequest('ready-count', ['--label', 'gpu', '--max', '2']);
    if (req === undefined) throw new Error('ready-count is a read');
    expect(await answer(reader(READY), req)).toBe(2);
    expect(await answer(reader(undefined), req)).toBeUndefined();
    expect(asked).toEqual([false, false]);
  });
});

describe('gc-k8s beads ready-count', () => {
  function io(argv: string[]): { run: () => Promise<number>; out: () => string; err: () => string } {
    let out = '';
    let err = '';
    const sink = (add: (d: string) => void) =>
      ({ write: (d: string | Uint8Array) => (add(String(d)), true) }) as unknown as NodeJS.WritableStream;
    return {
      run: () =>
        main({
          argv,
          // a socket nobody serves and no autostart: reaching the daemon would fail differently
          env: { GC_K8S_SOCKET: '/nonexistent/gc-k8s.sock', GC_K8S_NO_AUTOSTART: '1', PATH: '/usr/bin:/bin' },
          cwd: '/nonexistent',
          stdin: process.stdin,
          stdout: sink((d) => (out += d)),
          stderr: sink((d) => (err += d)),
        }),
      out: () => out,
      err: () => err,
    };
  }

  it.each([
    [['--min', '5', '--max', '2'], '--min 5 is more than --max 2'],
    [['--max', '-3'], '--max must be an integer from 0 to 1000000, got "-3"'],
    [['--min', 'two'], '--min must be an integer'],
    [['--frobnicate'], 'unsupported argument: --frobnicate'],
    [['--type='], '--type has an empty value'],
  ])('%j: exit 2, the cause on one line and the usage, before the daemon is asked', async (argv, cause) => {
    const r = io(['beads', 'ready-count', ...argv]);
    expect(await r.run()).toBe(2);
    expect(r.out()).toBe('');
    const [first, usage, ...more] = r.err().split('\n');
    expect(first).toContain(`gc-k8s beads ready-count: ${cause}`);
    expect(usage).toBe('usage: gc-k8s beads ready-count [--type T] [--label L] [--assignee A] [--min N] [--max M]');
    expect(more).toEqual(['']);
  });

  it('good arguments go on to the daemon (here: none answers, so exit 1 saying so)', async () => {
    const r = io(['beads', 'ready-count', '--type', 'task', '--max', '4']);
    expect(await r.run()).toBe(1);
    expect(r.err()).not.toContain('usage:');
  });
});
