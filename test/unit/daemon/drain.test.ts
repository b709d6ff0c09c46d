import { describe, expect, it } from 'vitest';
import { InFlight } from '../../../src/daemon/drain.js';
import type { Request } from '../../../src/protocol/messages.js';

const request = (provider: string, op: string): Request => ({ v: 1, provider, op, args: [], env: {}, cwd: '/' }) as unknown as Request;
const io = (signal = new AbortController().signal) => ({ out: () => undefined, err: () => undefined, signal });

describe('InFlight', () => {
  it('counts requests while they run and says when none is left', async () => {
    const inFlight = new InFlight();
    let finish!: () => void;
    const handler = inFlight.track(
      () =>
        new Promise<number>(
          (r) =>
            (finish = () => {
              r(0);
            }),
        ),
    );
    const running = handler(request('session', 'start'), io());
    expect(inFlight.size).toBe(1);
    expect(await inFlight.idle(10)).toBe(false);
    const idle = inFlight.idle(5_000);
    finish();
    expect(await running).toBe(0);
    expect(await idle).toBe(true);
    expect(inFlight.size).toBe(0);
  });

  it('an event watch is not waited for: drain cancels it at once', async () => {
    const inFlight = new InFlight();
    const handler = inFlight.track(
      (_r, { signal }) =>
        new Promise<number>((resolve) => {
          signal.addEventListener(
            'abort',
            () => {
              resolve(1);
            },
            { once: true },
          );
        }),
    );
    const watch = handler(request('events', 'watch'), io());
    expect(inFlight.size).toBe(0);
    inFlight.drain();
    expect(await watch).toBe(1);
  });
});
