// The persistent bd channel run locally with both programs the runner end can be: the bash loop
// and the real gc-bd-serve (the image has it; bdOnly forces the loop). Either way arguments reach
// bd exactly (no shell ever parses them), replies come back in order and intact, and a channel
// that timed out or whose exec ended is dead for good.
import { Writable } from 'node:stream';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { openBdChannel, runBd } from '../../../src/beads/bd/channel.js';
import { encodeRequest } from '../../../src/beads/bd/program.js';
import type { FramedChannel } from '../../../src/exec/framed-channel.js';
import { FrameParser } from '../../../src/exec/framing.js';
import { createLogger, silentLogger } from '../../../src/log/logger.js';
import { bdServeBinary } from './helpers/bd-serve.js';
import { localPod, type LocalPod } from './helpers/local-exec.js';

let pod: LocalPod;
let ch: FramedChannel;
let serve: string;
const signal = (): AbortSignal => AbortSignal.timeout(5_000);

beforeAll(() => {
  serve = bdServeBinary();
}, 600_000);

function logLines(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger({ destination }), lines };
}

describe('the runner end of the channel', () => {
  it('is gc-bd-serve where the image has it, the bash loop with bdOnly; both log what gc-bd-serve reports', async () => {
    for (const bdOnly of [false, true]) {
      const p = localPod({ bdServe: serve });
      const { logger, lines } = logLines();
      const c = openBdChannel(p.exec, { pod: 'runner', container: 'beads', workdir: '/workspace', bdOnly }, logger);
      expect((await runBd(c, ['echo', 'x'], signal())).stdout).toBe('x\0');
      // gc-bd-serve's report goes to stderr, which may arrive after the reply on stdout: wait for
      // it before closing (the bash loop has nothing to report, so a second call flushes both)
      if (!bdOnly)
        await vi.waitFor(() => {
          expect(
            lines.some((l) => l.includes('gc-bd-serve: serving')),
            lines.join(''),
          ).toBe(true);
        });
      expect((await runBd(c, ['echo', 'y'], signal())).stdout).toBe('y\0');
      c.close();
      p.cleanup();
      expect(
        lines.some((l) => l.includes('gc-bd-serve: serving')),
        lines.join(''),
      ).toBe(!bdOnly);
    }
  });
});

describe.each([
  { program: 'bash loop', bdOnly: true },
  { program: 'gc-bd-serve', bdOnly: false },
])('bd channel ($program)', ({ bdOnly }) => {
  beforeEach(() => {
    pod = localPod({ bdServe: serve });
    ch = openBdChannel(pod.exec, { pod: 'runner', container: 'beads', workdir: '/workspace/rigs/a', bdOnly }, silentLogger());
  });
  afterEach(() => {
    ch.close();
    pod.cleanup();
  });

  it('passes hostile arguments through byte for byte', async () => {
    const hostile = [
      '',
      ' ',
      'two words',
      "it's",
      '"q"',
      '$(touch /tmp/pwned)',
      '`id`',
      '*',
      '-rf',
      '--json',
      'a\nb\n',
      '\\',
      'ünïcødé ✓',
      ';|&><',
    ];
    const r = await runBd(ch, ['echo', ...hostile], signal());
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(hostile);
  });

  it('runs in the store directory, created on demand', async () => {
    await runBd(ch, ['list'], signal());
    expect(pod.calls()[0]?.[0]).toBe('/workspace/rigs/a');
  });

  it('answers pipelined calls in order, with exit codes and stderr kept apart', async () => {
    const [a, b, c] = await Promise.all([
      runBd(ch, ['echo', 'one'], signal()),
      runBd(ch, ['fail'], signal()),
      runBd(ch, ['echo', 'three'], signal()),
    ]);
    expect(a).toEqual({ exitCode: 0, stdout: 'one\0', stderr: '' });
    expect(b).toEqual({ exitCode: 3, stdout: '', stderr: 'boom on stderr\n' });
    expect(c.stdout).toBe('three\0');
  });

  it('carries large replies split across many chunks', async () => {
    const r = await runBd(ch, ['big', String(3 * 1024 * 1024)], signal());
    expect(r.stdout.length).toBe(3 * 1024 * 1024);
    expect((await runBd(ch, ['echo', 'after'], signal())).stdout).toBe('after\0');
  });

  it('tells a directory with its own store from one below another store', async () => {
    expect((await runBd(ch, ['--gc-has-store'], signal())).exitCode).toBe(1);
    await runBd(ch, ['init'], signal());
    expect((await runBd(ch, ['--gc-has-store'], signal())).exitCode).toBe(0);
  });

  it('dies at a deadline: the late reply can never be taken for the next call', async () => {
    await expect(runBd(ch, ['sleep', '5'], AbortSignal.timeout(200))).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(ch.alive).toBe(false);
    await expect(runBd(ch, ['echo', 'x'], signal())).rejects.toMatchObject({
      code: 'EXEC_FAILED',
      message: expect.stringMatching(/abandoned/) as unknown,
    });
  });

  it('dies when its exec ends (pod deleted): pending and later calls fail with EXEC_FAILED', async () => {
    const pending = runBd(ch, ['sleep', '5'], signal());
    setTimeout(() => {
      pod.reset();
    }, 100);
    await expect(pending).rejects.toMatchObject({ code: 'EXEC_FAILED' });
    expect(ch.alive).toBe(false);
  });
});

describe('framing', () => {
  it('encodes count and arguments NUL-terminated and refuses NUL inside', () => {
    expect(encodeRequest(['a', '']).toString('latin1')).toBe('2\0a\0\0');
    expect(() => encodeRequest(['a\0b'])).toThrow(/NUL/);
  });

  it('parses replies fed byte by byte (a UTF-8 character split too) and refuses garbage', () => {
    const p = new FrameParser('gcbd');
    const wire = Buffer.concat([Buffer.from('\x1egcbd 0 3 4\nhé'), Buffer.from('err\n'), Buffer.from('\x1egcbd 1 0 0\n')]);
    const replies = [...wire]
      .flatMap((byte) => p.push(Buffer.from([byte])))
      .map((r) => ({ exitCode: r.exitCode, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') }));
    expect(replies).toEqual([
      { exitCode: 0, stdout: 'hé', stderr: 'err\n' },
      { exitCode: 1, stdout: '', stderr: '' },
    ]);
    expect(() => new FrameParser('gcbd').push(Buffer.from('oops\n'))).toThrow(/unexpected output/);
    // the other channel's replies are garbage here
    expect(() => new FrameParser('gcbd').push(Buffer.from('\x1egc 0 0 0\n'))).toThrow(/unexpected output/);
  });
});
