// The persistent exec channel, running its real bash loop on this machine.
import { afterEach, describe, expect, it } from 'vitest';
import { encodeCall, fitsChannel, openExecChannel } from '../../../src/exec/channel.js';
import type { FramedChannel } from '../../../src/exec/framed-channel.js';
import { FrameParser } from '../../../src/exec/framing.js';
import type { ExecResult, PodExec } from '../../../src/kube/ports.js';
import { ChannelRunner } from '../../../src/exec/runner.js';
import type { Pod } from '../../../src/kube/types.js';
import { silentLogger } from '../../../src/log/logger.js';
import { LocalExec } from '../../fakes/local-exec.js';
import { MemoryCache } from '../../fakes/memory-cache.js';

const sig = () => AbortSignal.timeout(5000);
let channel: FramedChannel | undefined;
const open = (exec: PodExec): FramedChannel => openExecChannel(exec, 'p', 'c', silentLogger());
const run = (ch: FramedChannel, command: string[], stdin: Buffer | undefined, signal: AbortSignal): Promise<ExecResult> =>
  ch.call(encodeCall(command, stdin), command.join(' '), signal);
afterEach(() => {
  channel?.close();
});

describe('the session exec channel', () => {
  it('runs argv exactly as given (no shell parsing), with exit codes, stdout and stderr', async () => {
    const exec = new LocalExec();
    channel = open(exec);
    const tricky = 'a "b" $HOME `id` \\ * ; | & \n newline\ttab ünï';
    const r1 = await run(channel, ['printf', '%s', tricky], undefined, sig());
    expect(r1).toMatchObject({ exitCode: 0 });
    expect(r1.stdout.toString()).toBe(tricky);
    const r2 = await run(channel, ['sh', '-c', 'echo out; echo err >&2; exit 7'], undefined, sig());
    expect(r2.exitCode).toBe(7);
    expect(r2.stdout.toString()).toBe('out\n');
    expect(r2.stderr.toString()).toBe('err\n');
    const r3 = await run(channel, ['printf', ''], undefined, sig());
    expect(r3).toMatchObject({ exitCode: 0 });
    expect(r3.stdout.length).toBe(0);
    // one long-lived process served all three
    expect(exec.calls).toHaveLength(1);
  });

  it('carries output with NUL bytes intact (binary output takes the wc/cat path)', async () => {
    channel = open(new LocalExec());
    const r = await run(channel, ['printf', 'a\\0b\\0\\n'], undefined, sig());
    expect(r.stdout).toEqual(Buffer.from('a\0b\0\n', 'latin1'));
    const both = await run(channel, ['sh', '-c', 'printf "x\\0y"; printf "e\\0r" >&2; exit 3'], undefined, sig());
    expect([both.exitCode, both.stdout.toString('latin1'), both.stderr.toString('latin1')]).toEqual([3, 'x\0y', 'e\0r']);
    // and the next plain call is back on the fast path, framed right
    expect((await run(channel, ['echo', 'plain'], undefined, sig())).stdout.toString()).toBe('plain\n');
  });

  it('feeds stdin to the command and keeps trailing newlines of output', async () => {
    channel = open(new LocalExec());
    const r = await run(channel, ['cat'], Buffer.from('line1\nline2\n\n'), sig());
    expect(r.stdout.toString()).toBe('line1\nline2\n\n');
  });

  it('serializes concurrent calls and keeps replies matched to callers', async () => {
    channel = open(new LocalExec());
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => run(channel!, ['echo', `n${i}`], undefined, sig())));
    expect(results.map((r) => r.stdout.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `n${i}\n`));
  });

  it('a command not found is a result (127), not a broken channel', async () => {
    channel = open(new LocalExec());
    const r = await run(channel, ['no-such-command-gck8s'], undefined, sig());
    expect(r.exitCode).toBe(127);
    expect((await run(channel, ['echo', 'still'], undefined, sig())).stdout.toString()).toBe('still\n');
  });

  it('a timed-out call abandons the channel and reports TIMEOUT', async () => {
    channel = open(new LocalExec());
    await expect(run(channel, ['sleep', '5'], undefined, AbortSignal.timeout(50))).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(channel.alive).toBe(false);
    await expect(run(channel, ['echo'], undefined, sig())).rejects.toMatchObject({ code: 'EXEC_FAILED' });
  });

  it('parses replies split at any byte', () => {
    const reply = Buffer.concat([Buffer.from('\x1egc 3 5 2\nhelloer'), Buffer.from('\x1egc 0 0 0\n')]);
    for (let cut = 0; cut <= reply.length; cut++) {
      const p = new FrameParser('gc');
      const out = [...p.push(reply.subarray(0, cut)), ...p.push(reply.subarray(cut))];
      expect(out.map((r) => [r.exitCode, r.stdout.toString(), r.stderr.toString()])).toEqual([
        [3, 'hello', 'er'],
        [0, '', ''],
      ]);
    }
  });

  it('refuses garbage and calls it cannot carry', () => {
    expect(() => new FrameParser('gc').push(Buffer.from('bash: warning\n'))).toThrow(/unexpected output/);
    expect(fitsChannel(['a\0b'], undefined)).toBe(false);
    expect(fitsChannel(['x'], Buffer.alloc(1 << 20))).toBe(false);
    expect(fitsChannel(['tmux', 'has-session'], undefined)).toBe(true);
    expect(encodeCall(['a', 'b'], Buffer.from('in')).toString()).toBe('2\0a\0b\x001\0in\0');
  });
});

describe('ChannelRunner', () => {
  const pod = { name: 'p', uid: 'u1' } as Pod;

  it('uses one channel per container and falls back to a one-shot exec when it cannot start', async () => {
    const exec = new LocalExec();
    const runner = new ChannelRunner(exec, new MemoryCache<Pod>(), silentLogger());
    try {
      await runner.run(pod, 'c', ['true'], { signal: sig() });
      await runner.run(pod, 'c', ['true'], { signal: sig() });
      expect(exec.calls.filter((c) => c.command[0] === 'bash')).toHaveLength(1);
      // big stdin never goes through the channel
      const big = await runner.run(pod, 'c', ['wc', '-c'], { stdin: Buffer.alloc(100_000, 97), signal: sig() });
      expect(big.stdout.toString().trim()).toBe('100000');
      expect(exec.calls.at(-1)?.command).toEqual(['wc', '-c']);
      // what the daemon's metrics read: one channel opened and open, one one-shot exec, nothing broken
      expect(runner.stats()).toEqual({ open: 1, opened: 1, broken: 0, oneShot: 1 });
    } finally {
      runner.close();
    }
  });

  it('closes a channel after a while without calls, never one with a call in flight', async () => {
    const exec = new LocalExec();
    const runner = new ChannelRunner(exec, new MemoryCache<Pod>(), silentLogger(), 60_000);
    try {
      await runner.run(pod, 'c', ['true'], { signal: sig() });
      expect(runner.openChannels).toBe(1);
      const slow = runner.run(pod, 'c', ['sleep', '0.3'], { signal: sig() });
      runner.closeIdle(Date.now() + 1); // everything counts as old: only the busy channel stays
      expect(runner.openChannels).toBe(1);
      expect((await slow).exitCode).toBe(0);
      runner.closeIdle(Date.now() - 60_000); // used just now: stays
      expect(runner.openChannels).toBe(1);
      runner.closeIdle(Date.now() + 1);
      expect(runner.openChannels).toBe(0);
      // the next call opens a fresh channel
      await runner.run(pod, 'c', ['true'], { signal: sig() });
      expect(exec.calls.filter((c) => c.command[0] === 'bash')).toHaveLength(2);
    } finally {
      runner.close();
    }
  });

  it('the reaper closes idle channels on its own', async () => {
    const runner = new ChannelRunner(new LocalExec(), new MemoryCache<Pod>(), silentLogger(), 100);
    try {
      await runner.run(pod, 'c', ['true'], { signal: sig() });
      expect(runner.openChannels).toBe(1);
      for (let i = 0; i < 250 && runner.openChannels > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(runner.openChannels).toBe(0);
    } finally {
      runner.close();
    }
  });

  it('closes the channel when the pod is deleted', async () => {
    const exec = new LocalExec();
    const cache = new MemoryCache<Pod>();
    cache.put(pod);
    const runner = new ChannelRunner(exec, cache, silentLogger());
    try {
      await runner.run(pod, 'c', ['true'], { signal: sig() });
      cache.remove('p');
      await runner.run(pod, 'c', ['true'], { signal: sig() });
      expect(exec.calls.filter((c) => c.command[0] === 'bash')).toHaveLength(2);
    } finally {
      runner.close();
    }
  });
});
