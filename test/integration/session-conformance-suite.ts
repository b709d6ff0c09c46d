// Gas City's session provider conformance suite (internal/runtime/runtimetest, as run by
// test/integration TestK8sSessionConformance at v0.15.1), ported test for test to TypeScript and
// run through gc-session-k8s with the semantics of gc's exec provider adapter. The Go original
// cannot be built here (the module proxy refuses the gascity module), so this keeps its
// assertions, names and configuration: Config{Command: "sleep 300", WorkDir: "/tmp"}.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, until } from './harness.js';
//
// The suite runs twice: as is (session-conformance.test.ts) and with every start taking a warm
// pod (session-conformance-warm.test.ts): `extra` is the environment of every call, and `more`
// adds checks that run while the suite's sessions still exist.

export function sessionConformance(extra: Record<string, string> = {}, more?: (h: Harness) => void): void {
  const h = new Harness();

  class ExecError extends Error {}

  /** gc's internal/runtime/exec adapter: exit 2 = success with empty output, stdout right-trimmed. */
  const exec = {
    async call(args: string[], stdin = ''): Promise<string> {
      const r = await h.session(args, stdin, extra);
      if (r.code === 0 || r.code === 2) return r.code === 2 ? '' : r.out.replace(/\n+$/, '');
      throw new ExecError(`exec provider gc-session-k8s ${args.join(' ')}: ${r.err.trim()}`);
    },
    start: (name: string) => exec.call(['start', name], JSON.stringify({ command: 'sleep 300', work_dir: '/tmp' })),
    stop: (name: string) => exec.call(['stop', name]),
    interrupt: (name: string) => exec.call(['interrupt', name]),
    async isRunning(name: string): Promise<boolean> {
      try {
        return (await exec.call(['is-running', name])) === 'true';
      } catch {
        return false;
      }
    },
    async listRunning(prefix: string): Promise<string[]> {
      const out = await exec.call(['list-running', prefix]);
      return out === '' ? [] : out.split('\n');
    },
    async processAlive(name: string, names: string[]): Promise<boolean> {
      if (names.length === 0) return true;
      try {
        return (await exec.call(['process-alive', name], names.join('\n'))) === 'true';
      } catch {
        return false;
      }
    },
    setMeta: (name: string, k: string, v: string) => exec.call(['set-meta', name, k], v),
    getMeta: (name: string, k: string) => exec.call(['get-meta', name, k]),
    removeMeta: (name: string, k: string) => exec.call(['remove-meta', name, k]),
    peek: (name: string, lines: number) => exec.call(['peek', name, String(lines)]),
    getLastActivity: (name: string) => exec.call(['get-last-activity', name]),
    clearScrollback: (name: string) => exec.call(['clear-scrollback', name]),
    copyTo: (name: string, src: string, dst: string) => exec.call(['copy-to', name, src, dst]),
    sendKeys: (name: string, ...keys: string[]) => exec.call(['send-keys', name, ...keys]),
    nudge: (name: string, text: string) => (text === '' ? Promise.resolve('') : exec.call(['nudge', name], text)),
  };

  let counter = 0;
  const fresh = (): string => `gc-k8s-conform-${++counter}`;
  const cleanups: string[] = [];
  const session = async (): Promise<string> => {
    const name = fresh();
    cleanups.push(name);
    await exec.start(name);
    return name;
  };

  beforeAll(async () => {
    await h.setup();
    const pool = Number(extra['GC_K8S_WARM_POOL'] ?? '0');
    if (pool > 0) {
      // any call of the city starts its pool; the suite's starts then find it full
      await h.session(['list-running', ''], '', extra);
      await until(async () => {
        const phases = (await h.k(['get', 'pods', '-l', 'gc-k8s.io/warm=idle', '-o', 'jsonpath={.items[*].status.phase}'])).out;
        return phases.split(' ').filter((p) => p === 'Running').length >= pool;
      }, 'the warm pool is full');
    }
  });
  afterAll(async () => {
    await Promise.all(cleanups.map((n) => exec.stop(n).catch(() => undefined)));
    await h.teardown();
  });

  describe('RunLifecycleTests', () => {
    it('Start_CreatesRunningSession', async () => {
      const name = await session();
      expect(await exec.isRunning(name)).toBe(true);
    });

    it('Start_DuplicateReturnsError', async () => {
      const name = await session();
      await expect(exec.start(name)).rejects.toThrow(/already exists/);
    });

    it('Start_ConcurrentDistinctSessions', async () => {
      const names = [fresh(), fresh(), fresh()];
      cleanups.push(...names);
      await Promise.all(names.map((n) => exec.start(n)));
      for (const n of names) expect(await exec.isRunning(n)).toBe(true);
    });

    it('Stop_MakesSessionNotRunning', async () => {
      const name = await session();
      await exec.stop(name);
      expect(await exec.isRunning(name)).toBe(false);
    });

    it('Stop_Idempotent_NotRunning', async () => {
      await expect(exec.stop('never-started-conformance-session')).resolves.toBe('');
    });

    it('Stop_Idempotent_AlreadyStopped', async () => {
      const name = await session();
      await exec.stop(name);
      await expect(exec.stop(name)).resolves.toBe('');
    });

    it('Stop_ConcurrentDistinctSessions', async () => {
      const names = [await session(), await session(), await session()];
      await Promise.all(names.map((n) => exec.stop(n)));
      for (const n of names) expect(await exec.isRunning(n)).toBe(false);
    });

    it('Interrupt_ConcurrentDistinctSessions', async () => {
      const names = [await session(), await session(), await session()];
      await expect(Promise.all(names.map((n) => exec.interrupt(n)))).resolves.toHaveLength(3);
    });

    it('IsRunning_UnknownSession', async () => {
      expect(await exec.isRunning('nonexistent-session-xyz')).toBe(false);
    });

    it('IsRunning_ConcurrentDistinctSessions', async () => {
      const names = [await session(), await session(), await session()];
      expect(await Promise.all(names.map((n) => exec.isRunning(n)))).toEqual([true, true, true]);
    });

    it('ListRunning_FindsSessions', async () => {
      const [a, b] = [await session(), await session()];
      const names = await exec.listRunning('');
      expect(names).toContain(a);
      expect(names).toContain(b);
    });

    it('ListRunning_PrefixFiltering', async () => {
      const [a, b] = [await session(), await session()];
      const names = await exec.listRunning(a);
      expect(names).toContain(a);
      expect(names).not.toContain(b);
    });

    it('ListRunning_ExcludesStopped', async () => {
      const name = await session();
      await exec.stop(name);
      expect(await exec.listRunning('')).not.toContain(name);
    });

    it('ListRunning_EmptyPrefix', async () => {
      const name = await session();
      expect(await exec.listRunning('')).toContain(name);
    });

    it('ListRunning_ConcurrentDistinctPrefixes', async () => {
      const names = [await session(), await session(), await session()];
      const results = await Promise.all(names.map((n) => exec.listRunning(n)));
      names.forEach((n, i) => {
        expect(results[i]).toContain(n);
      });
    });

    it('ProcessAlive_EmptyNamesReturnsTrue', async () => {
      const name = await session();
      expect(await exec.processAlive(name, [])).toBe(true);
    });

    it('ProcessAlive_FalseAfterStop', async () => {
      const name = await session();
      await exec.stop(name);
      expect(await exec.processAlive(name, ['some-process'])).toBe(false);
    });

    it('ProcessAlive_ConcurrentDistinctSessions', async () => {
      const names = [await session(), await session(), await session()];
      expect(await Promise.all(names.map((n) => exec.processAlive(n, [])))).toEqual([true, true, true]);
    });
  });

  describe('SharedSession (RunSessionTests)', () => {
    const name = 'gc-k8s-shared';
    beforeAll(async () => {
      cleanups.push(name);
      await exec.start(name);
    });

    it('SetGetMeta_RoundTrip', async () => {
      await exec.setMeta(name, 'test-key', 'test-value');
      expect(await exec.getMeta(name, 'test-key')).toBe('test-value');
    });
    it('GetMeta_UnsetKey', async () => {
      expect(await exec.getMeta(name, 'nonexistent-key')).toBe('');
    });
    it('RemoveMeta_ThenGetReturnsEmpty', async () => {
      await exec.setMeta(name, 'remove-me', 'value');
      await exec.removeMeta(name, 'remove-me');
      expect(await exec.getMeta(name, 'remove-me')).toBe('');
    });
    it('SetMeta_OverwritesPrevious', async () => {
      await exec.setMeta(name, 'overwrite', 'v1');
      await exec.setMeta(name, 'overwrite', 'v2');
      expect(await exec.getMeta(name, 'overwrite')).toBe('v2');
    });
    it('Meta_MultipleKeys', async () => {
      await exec.setMeta(name, 'key1', 'val1');
      await exec.setMeta(name, 'key2', 'val2');
      expect([await exec.getMeta(name, 'key1'), await exec.getMeta(name, 'key2')]).toEqual(['val1', 'val2']);
    });
    it('Peek_NoError', async () => {
      await expect(exec.peek(name, 10)).resolves.toBeTypeOf('string');
    });
    it('GetLastActivity_NoError', async () => {
      expect(await exec.getLastActivity(name)).toMatch(/^(|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$/);
    });
    it('ClearScrollback_NoError', async () => {
      await expect(exec.clearScrollback(name)).resolves.toBe('');
    });
    it('CopyTo_NoError', async () => {
      await expect(exec.copyTo(name, '/nonexistent-path-for-conformance', '')).resolves.toBe('');
    });
    it('SendKeys_RunningSession', async () => {
      await expect(exec.sendKeys(name, 'Enter')).resolves.toBe('');
    });
    it('SendKeys_MissingSession', async () => {
      await expect(exec.sendKeys('nonexistent-session-xyz', 'Enter')).resolves.toBe('');
    });
    it('Interrupt_RunningSession', async () => {
      await expect(exec.interrupt(name)).resolves.toBe('');
    });
    it('Interrupt_MissingSession', async () => {
      await expect(exec.interrupt('nonexistent-session-xyz')).resolves.toBe('');
    });
    it('Nudge_RunningSession', async () => {
      await expect(exec.nudge(name, 'hello')).resolves.toBe('');
    });
    it('Nudge_MissingSession', async () => {
      await expect(exec.nudge('nonexistent-session-xyz', 'hello')).resolves.toBe('');
    });
  });
  more?.(h);
}
