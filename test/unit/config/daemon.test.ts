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
      metricsAddr: undefined,
      metricsAllowRemote: false,
      metricsSessionLabels: false,
      leaderLease: '',
      leaderNamespace: '',
      drainTimeoutMs: 20_000,
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

  it('leader election and drain: a Lease name, its namespace, the drain timeout', () => {
    expect(loadDaemonSettings({ GC_K8S_LEADER_LEASE: 'gc-k8s', GC_K8S_LEADER_NAMESPACE: 'gc', GC_K8S_DRAIN_TIMEOUT: '5s' })).toMatchObject({
      leaderLease: 'gc-k8s',
      leaderNamespace: 'gc',
      drainTimeoutMs: 5_000,
    });
    expect(() => loadDaemonSettings({ GC_K8S_LEADER_LEASE: 'Not A Name' })).toThrow(
      /invalid GC_K8S_LEADER_LEASE: expected a Kubernetes object name/,
    );
    expect(() => loadDaemonSettings({ GC_K8S_DRAIN_TIMEOUT: 'later' })).toThrow(/invalid GC_K8S_DRAIN_TIMEOUT/);
  });

  it("takes the 1.x native provider's names for the rate limit, ours first when both are set", () => {
    expect(loadDaemonSettings({ GC_K8S_CLIENT_QPS: '50', GC_K8S_CLIENT_BURST: '100' })).toMatchObject({ qps: 50, burst: 100 });
    expect(loadDaemonSettings({ GC_K8S_QPS: '70', GC_K8S_CLIENT_QPS: '50' })).toMatchObject({ qps: 70 });
    expect(() => loadDaemonSettings({ GC_K8S_CLIENT_BURST: '0' })).toThrow(/invalid GC_K8S_CLIENT_BURST/);
    expect(daemonTableMarkdown()).toContain('`GC_K8S_QPS` or `GC_K8S_CLIENT_QPS`');
  });

  it('metrics_addr: loopback by default, a remote address only when allowed, bad ones named', () => {
    expect(loadDaemonSettings({ GC_K8S_METRICS_ADDR: '127.0.0.1:9464' }).metricsAddr).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(loadDaemonSettings({ GC_K8S_METRICS_ADDR: '[::1]:9464' }).metricsAddr).toEqual({ host: '::1', port: 9464 });
    expect(loadDaemonSettings({ GC_K8S_METRICS_ADDR: 'localhost:80' }).metricsAddr).toEqual({ host: 'localhost', port: 80 });
    expect(() => loadDaemonSettings({ GC_K8S_METRICS_ADDR: '0.0.0.0:9464' })).toThrow(
      'invalid GC_K8S_METRICS_ADDR: 0.0.0.0 is not a loopback address, and metrics and readiness would be served beyond this host; set GC_K8S_METRICS_ALLOW_REMOTE=true to mean it',
    );
    expect(loadDaemonSettings({ GC_K8S_METRICS_ADDR: '0.0.0.0:9464', GC_K8S_METRICS_ALLOW_REMOTE: 'true' }).metricsAddr).toEqual({
      host: '0.0.0.0',
      port: 9464,
    });
    for (const [bad, why] of [
      ['9464', /expected host:port/],
      ['metrics.example.com:9464', /expected an IP address or localhost; got "metrics.example.com"/],
      ['127.0.0.1:70000', /expected a port from 1 to 65535; got 70000/],
      ['127.0.0.1:0', /expected a port from 1 to 65535; got 0/],
      ['::1:9464', /expected host:port/],
    ] as const) {
      expect(() => loadDaemonSettings({ GC_K8S_METRICS_ADDR: bad }), bad).toThrow(why);
    }
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
