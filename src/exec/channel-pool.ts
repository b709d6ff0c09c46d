// The open channels of one owner, by key: closed once unused for a while (each holds an exec
// stream through the API server and a kubelet; re-opening costs one handshake), optionally capped
// (the least recently used idle one goes first; when all are busy the cap is passed briefly).

import type { FramedChannel } from './framed-channel.js';

export interface ChannelPoolOptions {
  /** a channel unused this long, with nothing in flight, is closed */
  readonly idleMs: number;
  /** at most this many open (default: no cap) */
  readonly max?: number;
  /** ms epoch (default Date.now): the same clock the channels' lastUsed comes from */
  readonly now?: () => number;
}

export class ChannelPool {
  private readonly channels = new Map<string, FramedChannel>();
  private readonly reaper: NodeJS.Timeout;

  constructor(private readonly options: ChannelPoolOptions) {
    this.reaper = setInterval(
      () => {
        this.closeIdle((options.now ?? Date.now)() - options.idleMs);
      },
      Math.max(10, Math.floor(options.idleMs / 4)),
    );
    this.reaper.unref();
  }

  /** The live channel under `key`, or undefined. */
  get(key: string): FramedChannel | undefined {
    const ch = this.channels.get(key);
    return ch?.alive === true ? ch : undefined;
  }

  /** Keeps `channel` under `key`, closing the one it replaces and, at the cap, the LRU idle one. */
  add<C extends FramedChannel>(key: string, channel: C): C {
    this.drop(key, 'replaced');
    if (this.options.max !== undefined && this.channels.size >= this.options.max) {
      let lru: [string, FramedChannel] | undefined;
      for (const entry of this.channels) {
        if ((entry[1].idle || !entry[1].alive) && (lru === undefined || entry[1].lastUsed < lru[1].lastUsed)) lru = entry;
      }
      if (lru !== undefined) this.drop(lru[0], 'evicted');
    }
    this.channels.set(key, channel);
    return channel;
  }

  /** Closes and forgets the channel under `key` (only if it is still `which`, when given). */
  drop(key: string, reason: string, which?: FramedChannel): void {
    const ch = this.channels.get(key);
    if (ch === undefined || (which !== undefined && ch !== which)) return;
    ch.close(reason);
    this.channels.delete(key);
  }

  /** Closes every channel whose key matches. */
  dropWhere(matches: (key: string) => boolean, reason: string): void {
    for (const key of [...this.channels.keys()]) if (matches(key)) this.drop(key, reason);
  }

  /** Channels still open. */
  get open(): number {
    let n = 0;
    for (const ch of this.channels.values()) if (ch.alive) n++;
    return n;
  }

  /** Closes dead channels, and idle ones last used before `before` (ms epoch). */
  closeIdle(before: number): void {
    for (const [key, ch] of [...this.channels]) {
      if (!ch.alive || (ch.idle && ch.lastUsed < before)) this.drop(key, 'idle');
    }
  }

  close(): void {
    clearInterval(this.reaper);
    this.dropWhere(() => true, 'closed');
  }
}
