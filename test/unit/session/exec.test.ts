// gc 1.x's exec, with its real wrapper script run on this machine through a real exec channel:
// exit codes pass through, output is combined and capped loudly, and neither a deadline nor a
// cancelled call leaves the command running.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChannelRunner } from '../../../src/exec/runner.js';
import type { Pod } from '../../../src/kube/types.js';
import { silentLogger } from '../../../src/log/logger.js';
import { runExec } from '../../../src/session/exec.js';
import { DEFAULT_SESSION_OPTIONS } from '../../../src/session/options.js';
import { SessionPods } from '../../../src/session/pods.js';
import { DEFAULT_POD_SETTINGS } from '../../../src/session/settings.js';
import { systemClock } from '../../../src/util/clock.js';
import { KeyedMutex } from '../../../src/util/keyed-mutex.js';
import { FakeCluster } from '../../fakes/fake-cluster.js';
import { LocalExec } from '../../fakes/local-exec.js';
import { MemoryCache } from '../../fakes/memory-cache.js';

const pod = { name: 'p', uid: 'u1' } as Pod;
let runner: ChannelRunner;
let pods: SessionPods;

beforeEach(() => {
  runner = new ChannelRunner(new LocalExec(), new MemoryCache<Pod>(), silentLogger());
  pods = new SessionPods({
    client: new FakeCluster(),
    settings: DEFAULT_POD_SETTINGS,
    options: DEFAULT_SESSION_OPTIONS,
    clock: systemClock,
    log: silentLogger(),
    locks: new KeyedMutex(),
    runner,
  });
});
afterEach(() => {
  runner.close();
});

const exec = (script: string, opts: { deadlineMs?: number; maxOutputBytes?: number; signal?: AbortSignal } = {}) =>
  runExec(pods, pod, script, {
    deadlineMs: opts.deadlineMs ?? 20_000,
    maxOutputBytes: opts.maxOutputBytes ?? 1 << 20,
    signal: opts.signal ?? AbortSignal.timeout(20_000),
  });

const running = (marker: string): boolean => spawnSync('pgrep', ['-f', marker]).status === 0;

describe('exec', () => {
  it.each([
    ['true', 0],
    ['exit 1', 1],
    ['exit 2', 2],
    ['kill -9 $$', 137],
  ])('passes the exit code of %s through (%i)', async (script, code) => {
    expect((await exec(script)).exitCode).toBe(code);
  });

  it('returns stdout and stderr combined in order, with no stdin of its own', async () => {
    const r = await exec('echo one; echo two >&2; echo three; cat; echo "after cat"');
    expect(r.output.toString()).toBe('one\ntwo\nthree\nafter cat\n');
  });

  it.each([
    ['as an argument', 100],
    ['on stdin over the channel', 300],
    ['larger than the channel carries', 10_000],
  ])('runs scripts %s, byte for byte (%i lines)', async (_, n) => {
    // each line: echo "line-<i> \$HOME 'q' \"d\"" (quotes and a dollar the shell must keep)
    const lines = Array.from({ length: n }, (_, i) => String.raw`echo "line-${i} \$HOME 'q' \"d\""`).join('\n');
    const r = await exec(lines);
    const out = r.output.toString().split('\n');
    expect(out).toHaveLength(n + 1);
    expect(out.at(-2)).toBe(`line-${n - 1} $HOME 'q' "d"`);
  });

  it('fails loudly on output over the cap instead of buffering it', async () => {
    await expect(exec('head -c 5000000 /dev/zero | tr "\\0" x', { maxOutputBytes: 1000 })).rejects.toMatchObject({
      code: 'OUTPUT_TOO_LARGE',
      message: expect.stringContaining('more than 1000 bytes') as unknown,
    });
    expect((await exec('echo still fine')).output.toString()).toBe('still fine\n');
  });

  it('kills a command that outlives the deadline, with a clear error', async () => {
    const marker = `gck8s-test-${randomBytes(4).toString('hex')}`;
    await expect(exec(`sleep 30 # ${marker}`, { deadlineMs: 3_000 })).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringContaining('did not finish within 1 s') as unknown,
    });
    expect(running(marker)).toBe(false);
  });

  it('kills what a cancelled call started (nothing keeps running for a caller that is gone)', async () => {
    const marker = `gck8s-test-${randomBytes(4).toString('hex')}`;
    const cancel = new AbortController();
    const call = exec(`sh -c 'sleep 30 # ${marker}' & wait`, { signal: cancel.signal });
    for (let i = 0; i < 100 && !running(marker); i++) await new Promise((r) => setTimeout(r, 20));
    expect(running(marker)).toBe(true);
    cancel.abort();
    await expect(call).rejects.toMatchObject({ code: 'ABORTED' });
    expect(running(marker)).toBe(false);
  });
});
