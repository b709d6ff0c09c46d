// The pool both channel owners keep: LRU eviction that spares busy channels, replacement, and a
// drop that only removes the channel the caller saw fail (a newer one under the key stays).
import { describe, expect, it, vi } from 'vitest';
import { ChannelPool } from '../../../src/exec/channel-pool.js';
import type { FramedChannel } from '../../../src/exec/framed-channel.js';

function fakeChannel(lastUsed: number, busy = false): FramedChannel & { closedWith: string | undefined } {
  const ch = {
    alive: true,
    idle: !busy,
    lastUsed,
    closedWith: undefined as string | undefined,
    close(reason: string) {
      ch.alive = false;
      ch.closedWith = reason;
    },
  };
  return ch as unknown as FramedChannel & { closedWith: string | undefined };
}

describe('ChannelPool', () => {
  it('at its cap evicts the least recently used idle channel, never a busy one', () => {
    const pool = new ChannelPool({ idleMs: 60_000, max: 2 });
    try {
      const oldBusy = pool.add('a', fakeChannel(1, true));
      const idle = pool.add('b', fakeChannel(2));
      pool.add('c', fakeChannel(3));
      expect(idle.alive).toBe(false);
      expect(oldBusy.alive).toBe(true);
      expect(pool.open).toBe(2);
      // all busy: the cap is passed rather than cutting a call
      pool.add('d', fakeChannel(4, true));
      pool.add('e', fakeChannel(5, true));
      expect(pool.open).toBeGreaterThanOrEqual(3);
    } finally {
      pool.close();
    }
  });

  it('replaces under a key, drops only the channel that failed, and get never returns a dead one', () => {
    const pool = new ChannelPool({ idleMs: 60_000 });
    try {
      const first = pool.add('k', fakeChannel(1));
      const second = pool.add('k', fakeChannel(2));
      expect(first.closedWith).toBe('replaced');
      pool.drop('k', 'failed', first); // a caller of the old one reporting late
      expect(pool.get('k')).toBe(second);
      second.close('broke');
      expect(pool.get('k')).toBeUndefined();
      pool.closeIdle(0);
      expect(pool.open).toBe(0);
    } finally {
      pool.close();
    }
  });

  it('closes idle channels last used before the cutoff, and everything on close', () => {
    const pool = new ChannelPool({ idleMs: 60_000 });
    const old = pool.add('old', fakeChannel(100));
    const busy = pool.add('busy', fakeChannel(100, true));
    const fresh = pool.add('fresh', fakeChannel(10_000));
    pool.closeIdle(5_000);
    expect([old.alive, busy.alive, fresh.alive]).toEqual([false, true, true]);
    pool.close();
    expect([busy.closedWith, fresh.closedWith]).toEqual(['closed', 'closed']);
  });

  it('reaps by its injected clock, not the wall clock', async () => {
    let now = 1_000_000;
    const pool = new ChannelPool({ idleMs: 40, now: () => now });
    try {
      const ch = pool.add('k', fakeChannel(now));
      await new Promise((r) => setTimeout(r, 120)); // several reaper rounds: the clock stood still
      expect(ch.alive).toBe(true);
      now += 41;
      await vi.waitFor(() => {
        expect(ch.closedWith).toBe('idle');
      });
    } finally {
      pool.close();
    }
  });
});
