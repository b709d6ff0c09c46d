import { describe, expect, it } from 'vitest';
import { daemonTableMarkdown, loadDaemonSettings } from '../../../src/config/daemon.js';

describe('daemon settings', () => {
  it('defaults, overrides, and a clear error naming the variable', () => {
    expect(loadDaemonSettings({})).toEqual({
      logLevel: 'info',
      qps: 500,
      burst: 1000,
      watchIdleTimeoutMs: 105_000,
      cacheVerifyAfterMs: 20_000,
      abandonedStartAgeMs: 300_000,
    });
    expect(loadDaemonSettings({ GC_K8S_QPS: '0', GC_K8S_CACHE_VERIFY_AFTER: '2s', GC_K8S_WATCH_IDLE_TIMEOUT: '1m' })).toMatchObject({
      qps: 0,
      cacheVerifyAfterMs: 2_000,
      watchIdleTimeoutMs: 60_000,
    });
    expect(() => loadDaemonSettings({ GC_K8S_QPS: 'fast' })).toThrow(/invalid GC_K8S_QPS: expected an integer/);
    expect(() => loadDaemonSettings({ GC_K8S_CACHE_VERIFY_AFTER: '10ms' })).toThrow(
      /invalid GC_K8S_CACHE_VERIFY_AFTER: expected at least 100 ms/,
    );
    expect(() => loadDaemonSettings({ GC_K8S_LOG_LEVEL: 'loud' })).toThrow(/GC_K8S_LOG_LEVEL/);
  });

  it("takes the 1.x native provider's names for the rate limit, ours first when both are set", () => {
    expect(loadDaemonSettings({ GC_K8S_CLIENT_QPS: '50', GC_K8S_CLIENT_BURST: '100' })).toMatchObject({ qps: 50, burst: 100 });
    expect(loadDaemonSettings({ GC_K8S_QPS: '70', GC_K8S_CLIENT_QPS: '50' })).toMatchObject({ qps: 70 });
    expect(() => loadDaemonSettings({ GC_K8S_CLIENT_BURST: '0' })).toThrow(/invalid GC_K8S_CLIENT_BURST/);
    expect(daemonTableMarkdown()).toContain('`GC_K8S_QPS` or `GC_K8S_CLIENT_QPS`');
  });

  it('documents every variable it reads', () => {
    const table = daemonTableMarkdown();
    for (const v of [
      'GC_K8S_LOG_LEVEL',
      'GC_K8S_QPS',
      'GC_K8S_BURST',
      'GC_K8S_WATCH_IDLE_TIMEOUT',
      'GC_K8S_CACHE_VERIFY_AFTER',
      'GC_K8S_ABANDONED_START_AGE',
    ])
      expect(table).toContain(`\`${v}\``);
  });
});
