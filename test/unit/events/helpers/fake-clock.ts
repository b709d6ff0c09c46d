// A controllable Clock. Short sleeps (retry backoff) resolve on the next macrotask without moving
// time, so retries never make a deadline pass by accident; long sleeps (watch gap timeouts) wait
// until the test calls advance(). Tests can wait for a long sleeper to appear instead of timing.

import type { Clock } from '../../../../src/kube/ports.js';
import { abortError } from '../../../../src/util/abort.js';

interface Sleeper {
  readonly until: number;
  readonly resolve: () => void;
}

export class FakeClock implements Clock {
  private readonly sleepers = new Set<Sleeper>();
  private readonly onSleeper = new Set<() => void>();
  shortSleeps = 0;

  constructor(
    public nowMs = Date.UTC(2025, 5, 15, 12, 0, 0),
    private readonly shortSleepMs = 10_000,
  ) {}

  now(): number {
    return this.nowMs;
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(abortError(signal, 'sleep'));
        return;
      }
      if (ms <= this.shortSleepMs) {
        this.shortSleeps++;
        setImmediate(() => {
          if (signal.aborted) reject(abortError(signal, 'sleep'));
          else resolve();
        });
        return;
      }
      const sleeper: Sleeper = {
        until: this.nowMs + ms,
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.sleepers.delete(sleeper);
        reject(abortError(signal, 'sleep'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.sleepers.add(sleeper);
      for (const f of [...this.onSleeper]) f();
    });
  }

  /** Moves time forward and wakes every long sleeper that is due. */
  advance(ms: number): void {
    this.nowMs += ms;
    for (const s of [...this.sleepers]) {
      if (s.until <= this.nowMs) {
        this.sleepers.delete(s);
        s.resolve();
      }
    }
  }

  get longSleepers(): number {
    return this.sleepers.size;
  }

  /** Resolves once at least one long sleep is pending. */
  waitForLongSleeper(): Promise<void> {
    if (this.sleepers.size > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const f = (): void => {
        this.onSleeper.delete(f);
        resolve();
      };
      this.onSleeper.add(f);
    });
  }
}
