// The op table is the one place an op is declared: the daemon has a handler for each and none
// more, the README lists them as the table says, and over-limit input names the limit.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { adminHandlers } from '../../../src/daemon/handlers/admin.js';
import { BEADS_HANDLERS } from '../../../src/daemon/handlers/beads.js';
import { EVENTS_HANDLERS } from '../../../src/daemon/handlers/events.js';
import { SESSION_HANDLERS } from '../../../src/daemon/handlers/session.js';
import { formatBytes, OPS, opsMarkdown, stdinTooLarge } from '../../../src/protocol/ops/index.js';

describe('the op table', () => {
  it('has exactly one daemon handler per op of every provider', () => {
    const admin = adminHandlers({
      startedAt: 0,
      version: 't',
      pid: 1,
      readiness: { reasons: () => Promise.resolve([]) },
      runtimes: { stats: () => Promise.resolve({}) },
      shutdown: () => undefined,
    });
    const handlers = { session: SESSION_HANDLERS, events: EVENTS_HANDLERS, beads: BEADS_HANDLERS, admin };
    for (const provider of ['session', 'events', 'beads', 'admin'] as const) {
      expect(Object.keys(handlers[provider]).sort(), provider).toEqual(Object.keys(OPS[provider]).sort());
    }
  });

  it('is what the README lists', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('<!-- ops:begin -->'), readme.indexOf('<!-- ops:end -->'));
    expect(section).toContain(opsMarkdown());
    expect(opsMarkdown()).toContain('| `dep-list` | `<id> down\\|up` |');
    // every row has the header's five cells: no unescaped | inside a cell
    for (const row of opsMarkdown()
      .split('\n')
      .filter((l) => l.startsWith('|')))
      expect(row.replaceAll('\\|', '').split('|').length, row).toBe(7);
  });

  it('names the limit when input is over it, and says "more than" for far too much', () => {
    expect(stdinTooLarge('session', 'nudge', 4 * 1024 * 1024)).toBeUndefined();
    expect(stdinTooLarge('session', 'nudge', 4 * 1024 * 1024 + 1)).toBe('nudge: input is 4194305 bytes; nudge accepts at most 4 MiB');
    expect(stdinTooLarge('session', 'set-meta', 200_000)).toBe(
      'set-meta: input is more than 160000 bytes; set-meta accepts at most 16000 bytes',
    );
    expect(stdinTooLarge('session', 'frobnicate', 10 ** 9)).toBeUndefined();
    expect([formatBytes(64 * 1024), formatBytes(3 * 1024 * 1024), formatBytes(1000)]).toEqual(['64 KiB', '3 MiB', '1000 bytes']);
  });
});
