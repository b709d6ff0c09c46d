// Gas City's events provider conformance suite (internal/events/eventstest RunProviderTests at
// v0.15.1), ported test for test and run through gc-events-k8s with the semantics of gc's exec
// events adapter: a fresh, empty provider per test (its own namespace), record is fire-and-forget,
// watch is a long-running `watch <afterSeq>` process read line by line and killed on cancel.
// The Go original cannot be built here (the module proxy refuses the gascity module).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GcEvent as Ev } from '../../src/events/event-json.js';
import { Harness, ROOT } from './harness.js';
import { scriptCommand } from './in-cluster.js';

const harnesses: Harness[] = [];
const ZERO = '0001-01-01T00:00:00Z';

/** A fresh provider: its own namespace, the shared daemon. */
async function provider() {
  const h = new Harness();
  harnesses.push(h);
  await h.setup();
  const call = async (args: string[], stdin = ''): Promise<string> => {
    const r = await h.script('gc-events-k8s', args, stdin);
    if (r.code === 2) return '';
    if (r.code !== 0) throw new Error(`exec events gc-events-k8s ${args.join(' ')}: ${r.err.trim()}`);
    return r.out.replace(/\n+$/, '');
  };
  await call(['ensure-running']);
  return {
    // Go's json.Marshal of events.Event: ts always present (zero when unset), omitempty rest
    record: (e: Partial<Ev>) =>
      call(
        ['record'],
        JSON.stringify({
          seq: 0,
          type: e.type ?? '',
          ts: e.ts ?? ZERO,
          actor: e.actor ?? '',
          ...(e.subject ? { subject: e.subject } : {}),
          ...(e.message ? { message: e.message } : {}),
        }),
      ).catch(() => ''),
    list: async (f: { Type?: string; Actor?: string; Since?: string; AfterSeq?: number } = {}): Promise<Ev[]> => {
      const out = await call(
        ['list'],
        JSON.stringify({ Type: f.Type ?? '', Actor: f.Actor ?? '', Since: f.Since ?? ZERO, AfterSeq: f.AfterSeq ?? 0 }),
      );
      return out === '' ? [] : (JSON.parse(out) as Ev[]);
    },
    latestSeq: async () => Number((await call(['latest-seq'])) || '0'),
    watch(after: number) {
      const where = scriptCommand(h.kubectl, join(ROOT, 'bin/gc-events-k8s'), ['watch', String(after)], h.env());
      const child = spawn(where.cmd, where.args, { env: h.env() });
      const lines: Ev[] = [];
      let buf = '';
      const waiters: (() => void)[] = [];
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          lines.push(JSON.parse(buf.slice(0, nl)) as Ev);
          buf = buf.slice(nl + 1);
        }
        waiters.splice(0).forEach((w) => {
          w();
        });
      });
      const exited = new Promise<void>((r) =>
        child.on('exit', () => {
          r();
        }),
      );
      return {
        /** the next event, or rejects after `ms` (the Go tests use a 2 s context) */
        async next(ms = 2000): Promise<Ev> {
          const deadline = Date.now() + ms;
          while (lines.length === 0) {
            if (Date.now() > deadline) throw new Error('watch: no event before the deadline');
            await new Promise<void>((r) => {
              waiters.push(r);
              setTimeout(r, 50);
            });
          }
          return lines.shift()!;
        },
        async cancel(): Promise<void> {
          child.kill('SIGKILL');
          await exited;
        },
      };
    },
  };
}

afterAll(async () => {
  for (const h of harnesses) await h.teardown();
});

describe('RunProviderTests', () => {
  it('RecordAndListRoundTrip', async () => {
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human', subject: 'gc-1', message: 'Build Tower of Hanoi' });
    const got = await p.list();
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ type: 'bead.created', actor: 'human', subject: 'gc-1', message: 'Build Tower of Hanoi' });
  });

  it('RecordAutoFillsSeq', async () => {
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human' });
    await p.record({ type: 'bead.closed', actor: 'human' });
    const got = await p.list();
    expect(got).toHaveLength(2);
    expect(got[0]!.seq).toBeGreaterThan(0);
    expect(got[1]!.seq).toBeGreaterThan(got[0]!.seq);
  });

  it('RecordAutoFillsTimestamp', async () => {
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human' });
    const got = await p.list();
    expect(got).toHaveLength(1);
    expect(got[0]!.ts).not.toBe(ZERO);
    expect(Math.abs(Date.now() - Date.parse(got[0]!.ts))).toBeLessThan(5000);
  });

  it('RecordPreservesExplicitTimestamp', async () => {
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human', ts: '2025-06-15T12:00:00Z' });
    const got = await p.list();
    expect(Date.parse(got[0]!.ts)).toBe(Date.parse('2025-06-15T12:00:00Z'));
  });

  it('RecordPreservesAllFields', async () => {
    const p = await provider();
    await p.record({ type: 'session.woke', actor: 'controller', subject: 'worker-1', message: 'agent started successfully' });
    expect((await p.list())[0]).toMatchObject({
      type: 'session.woke',
      actor: 'controller',
      subject: 'worker-1',
      message: 'agent started successfully',
    });
  });

  it('RecordMultipleEvents', async () => {
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human' });
    await p.record({ type: 'bead.closed', actor: 'human' });
    await p.record({ type: 'session.woke', actor: 'gc' });
    expect(await p.list()).toHaveLength(3);
  });

  it('ListEmptyFilter', async () => {
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human' });
    await p.record({ type: 'bead.closed', actor: 'human' });
    expect(await p.list({})).toHaveLength(2);
  });

  it('ListFilterByType', async () => {
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human' });
    await p.record({ type: 'bead.closed', actor: 'human' });
    await p.record({ type: 'session.woke', actor: 'gc' });
    const got = await p.list({ Type: 'bead.created' });
    expect(got.map((e) => e.type)).toEqual(['bead.created']);
  });

  it('ListFilterByActor', async () => {
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human' });
    await p.record({ type: 'session.woke', actor: 'gc' });
    await p.record({ type: 'bead.closed', actor: 'human' });
    expect((await p.list({ Actor: 'gc' })).map((e) => e.actor)).toEqual(['gc']);
  });

  it('ListFilterByAfterSeq', async () => {
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human' });
    await p.record({ type: 'bead.closed', actor: 'human' });
    await p.record({ type: 'session.woke', actor: 'gc' });
    const all = await p.list();
    const got = await p.list({ AfterSeq: all[0]!.seq });
    expect(got).toHaveLength(2);
    for (const e of got) expect(e.seq).toBeGreaterThan(all[0]!.seq);
  });

  it('ListFilterBySince', async () => {
    const p = await provider();
    const now = Date.now();
    await p.record({ type: 'bead.created', actor: 'human', ts: new Date(now - 2 * 3600_000).toISOString() });
    await p.record({ type: 'session.woke', actor: 'gc' });
    const got = await p.list({ Since: new Date(now - 3600_000).toISOString() });
    expect(got.map((e) => e.type)).toEqual(['session.woke']);
  });

  it('ListFilterCombined', async () => {
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human' });
    await p.record({ type: 'bead.closed', actor: 'human' });
    await p.record({ type: 'bead.created', actor: 'gc' });
    const all = await p.list();
    const got = await p.list({ Type: 'bead.created', AfterSeq: all[0]!.seq });
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ type: 'bead.created', actor: 'gc' });
  });

  it('ListNoMatch', async () => {
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human' });
    expect(await p.list({ Type: 'nonexistent.type' })).toHaveLength(0);
  });

  it('ListEmptyProvider', async () => {
    const p = await provider();
    expect(await p.list()).toHaveLength(0);
  });

  it('LatestSeqEmpty', async () => {
    const p = await provider();
    expect(await p.latestSeq()).toBe(0);
  });

  it('LatestSeqAfterRecords', async () => {
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human' });
    await p.record({ type: 'bead.closed', actor: 'human' });
    const all = await p.list();
    expect(await p.latestSeq()).toBe(all.at(-1)!.seq);
  });

  it('LatestSeqMonotonic', async () => {
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human' });
    const s1 = await p.latestSeq();
    await p.record({ type: 'bead.closed', actor: 'human' });
    expect(await p.latestSeq()).toBeGreaterThan(s1);
  });

  it('WatchExistingEvents', async () => {
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human', subject: 'gc-1' });
    const w = p.watch(0);
    try {
      expect((await w.next()).subject).toBe('gc-1');
    } finally {
      await w.cancel();
    }
  });

  it('WatchNewEvents', async () => {
    const p = await provider();
    const w = p.watch(0);
    try {
      await new Promise((r) => setTimeout(r, 50));
      await p.record({ type: 'bead.created', actor: 'human', subject: 'gc-new' });
      expect((await w.next()).subject).toBe('gc-new');
    } finally {
      await w.cancel();
    }
  });

  it('WatchAfterSeq', async () => {
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human', subject: 'gc-old' });
    const last = await p.latestSeq();
    const w = p.watch(last);
    try {
      await new Promise((r) => setTimeout(r, 50));
      await p.record({ type: 'session.woke', actor: 'gc', subject: 'worker-1' });
      const e = await w.next();
      expect(e.subject).toBe('worker-1');
      expect(e.seq).toBeGreaterThan(last);
    } finally {
      await w.cancel();
    }
  });

  it('WatchContextCancel', async () => {
    const p = await provider();
    const w = p.watch(0);
    await w.cancel();
    await expect(w.next(200)).rejects.toThrow(/no event/);
  });

  it('CloseNoError', async () => {
    // the exec adapter's Close is a no-op; the provider stays usable afterwards
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human' });
    expect(await p.list()).toHaveLength(1);
  });
});

/**
 * Gas City 1.x's exec events adapter still sends only {Type, Actor, Since, AfterSeq} and applies
 * the rest of the filter itself (Subject; Until, inclusive; Limit = the oldest N): this is that
 * client-side step, so the 1.x conformance cases below run as gc 1.x runs them against a script.
 */
function gcFilter(events: Ev[], f: { Subject?: string; Until?: string; Limit?: number }): Ev[] {
  let out = events.filter(
    (e) => (f.Subject === undefined || e.subject === f.Subject) && (f.Until === undefined || Date.parse(e.ts) <= Date.parse(f.Until)),
  );
  if (f.Limit !== undefined && f.Limit > 0) out = out.slice(0, f.Limit);
  return out;
}

describe('RunProviderTests, Gas City 1.x cases', () => {
  it('ListFilterBySubject', async () => {
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human', subject: 'gc-1' });
    await p.record({ type: 'bead.created', actor: 'human', subject: 'gc-2' });
    await p.record({ type: 'bead.closed', actor: 'human', subject: 'gc-1' });
    const got = gcFilter(await p.list(), { Subject: 'gc-1' });
    expect(got.map((e) => [e.type, e.subject])).toEqual([
      ['bead.created', 'gc-1'],
      ['bead.closed', 'gc-1'],
    ]);
  });

  it('ListFilterByUntil (inclusive)', async () => {
    const p = await provider();
    for (const ts of ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z'])
      await p.record({ type: 'tick', actor: 'gc', ts, message: ts });
    expect(gcFilter(await p.list(), { Until: '2026-01-02T00:00:00Z' }).map((e) => e.message)).toEqual([
      '2026-01-01T00:00:00Z',
      '2026-01-02T00:00:00Z',
    ]);
  });

  it('ListFilterByLimit (the oldest N, in seq order)', async () => {
    const p = await provider();
    for (let i = 1; i <= 5; i++) await p.record({ type: 'tick', actor: 'gc', message: `m${i}` });
    const all = await p.list();
    expect(all.map((e) => e.seq)).toEqual([...all.map((e) => e.seq)].sort((a, b) => a - b));
    expect(gcFilter(all, { Limit: 2 }).map((e) => e.message)).toEqual(['m1', 'm2']);
  });

  it('ListFilterCombined (type and actor sent, subject, until and limit applied by gc)', async () => {
    const p = await provider();
    await p.record({ type: 'bead.created', actor: 'human', subject: 'a', ts: '2026-01-01T00:00:00Z' });
    await p.record({ type: 'bead.created', actor: 'gc', subject: 'a', ts: '2026-01-01T00:00:01Z' });
    await p.record({ type: 'bead.closed', actor: 'human', subject: 'a', ts: '2026-01-01T00:00:02Z' });
    await p.record({ type: 'bead.created', actor: 'human', subject: 'b', ts: '2026-01-01T00:00:03Z' });
    await p.record({ type: 'bead.created', actor: 'human', subject: 'a', ts: '2026-01-01T00:00:04Z' });
    await p.record({ type: 'bead.created', actor: 'human', subject: 'a', ts: '2026-01-01T00:00:05Z' });
    const sent = await p.list({ Type: 'bead.created', Actor: 'human' });
    expect(sent.every((e) => e.type === 'bead.created' && e.actor === 'human')).toBe(true);
    const got = gcFilter(sent, { Subject: 'a', Until: '2026-01-01T00:00:04Z', Limit: 5 });
    expect(got.map((e) => e.ts)).toEqual(['2026-01-01T00:00:00Z', '2026-01-01T00:00:04Z']);
  });

  it('WatchReplaysRetainedHistoryOnce, in order, then follows', async () => {
    const p = await provider();
    for (let i = 1; i <= 6; i++) await p.record({ type: 'tick', actor: 'gc', message: `m${i}` });
    const all = await p.list();
    const after = all[1]!.seq;
    const w = p.watch(after);
    try {
      const replayed: Ev[] = [];
      for (let i = 0; i < 4; i++) replayed.push(await w.next());
      expect(replayed.map((e) => e.message)).toEqual(['m3', 'm4', 'm5', 'm6']);
      await p.record({ type: 'tick', actor: 'gc', message: 'm7' });
      expect((await w.next()).message).toBe('m7');
      // nothing delivered twice: no further line arrives
      await expect(w.next(500)).rejects.toThrow(/no event/);
    } finally {
      await w.cancel();
    }
  });

  it('a retried record (same stamped event, a new process) is stored once', async () => {
    const p = await provider();
    const e = { type: 'bead.created', actor: 'gc', subject: 'gc-9', ts: '2026-12-02T04:00:00.123456789Z' };
    await p.record(e);
    await p.record(e);
    await p.record({ ...e, ts: '2026-12-02T04:00:00.123456790Z' });
    expect((await p.list()).map((x) => x.ts)).toEqual(['2026-12-02T04:00:00.123456789Z', '2026-12-02T04:00:00.123456790Z']);
  });
});
