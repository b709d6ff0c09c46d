// The daemon's guard against an unhandled rejection: logged where the daemon logs (bounded), one
// graceful shutdown however many follow, exit status failed; disposed, it no longer listens.
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { guardProcess } from '../../../src/daemon/crash-guard.js';
import { createLogger } from '../../../src/log/logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger({ destination }) };
}

describe('the crash guard', () => {
  it('an unhandled rejection is logged (bounded), shuts the daemon down gracefully once, and fails the exit', async () => {
    const target = new EventEmitter();
    const { lines, log } = capture();
    const reasons: string[] = [];
    const guard = guardProcess(target, log, (r) => reasons.push(r));
    expect(guard.failed).toBe(false);
    target.emit('unhandledRejection', new Error(`boom ${'x'.repeat(5000)}`));
    target.emit('unhandledRejection', 'again');
    await new Promise((r) => setTimeout(r, 20));
    expect(guard.failed).toBe(true);
    expect(reasons).toEqual(['unhandled rejection']);
    const fatal = lines.filter((l) => l['level'] === 60);
    expect(fatal).toHaveLength(2);
    expect(fatal[0]?.['msg']).toMatch(/unhandled rejection \(a bug\): shutting down/);
    expect(String(fatal[0]?.['err'])).toHaveLength(500);
    expect(String(fatal[0]?.['stack'])).toMatch(/crash-guard\.test/);
    expect(String(fatal[0]?.['stack'])).not.toMatch(/xxx/);
    guard.dispose();
    expect(target.listenerCount('unhandledRejection')).toBe(0);
  });
});
