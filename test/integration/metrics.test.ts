// The daemon's metrics listener (GC_K8S_METRICS_ADDR) serving real ops on the real cluster:
// /metrics has the ops it served (by provider, op and outcome, an error by its code), the API
// requests they made and the watch cache of the namespace, and never a session name; /healthz and
// /readyz answer; an address in use or not on loopback stops `gc-k8s serve` at start, saying why.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, ROOT } from './harness.js';

const h = new Harness();
let addr = '';
let env: Record<string, string> = {};

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  await h.setup();
  addr = `127.0.0.1:${await freePort()}`;
  env = { GC_K8S_METRICS_ADDR: addr };
});
afterAll(async () => {
  await h.session(['stop', 'metered'], '', env);
  await h.teardown();
});

describe('the daemon metrics listener', () => {
  it('counts the ops it served, their API requests and the watch cache, with no session name as a label', async () => {
    // the first op starts this harness's daemon with the listener
    await h.sessionOk(['start', 'metered'], JSON.stringify({ command: 'bash' }), env);
    expect((await h.sessionOk(['is-running', 'metered'], '', env)).trim()).toBe('true');
    await h.sessionOk(['peek', 'metered', '5'], '', env);
    const bad = await h.session(['start', 'metered'], JSON.stringify({ command: 'bash' }), env);
    expect(bad.code).not.toBe(0);
    const ev = JSON.stringify({ type: 'test.metered', actor: 'metrics-test' });
    expect((await h.script('gc-events-k8s', ['record'], ev, env)).code).toBe(0);
    expect((await h.script('gc-events-k8s', ['record'], ev, env)).code).toBe(0);
    const res = await fetch(`http://${addr}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('gc_k8s_op_duration_seconds_count{provider="session",op="start",outcome="ok"} 1');
    expect(text).toContain('gc_k8s_op_duration_seconds_count{provider="session",op="is-running",outcome="ok"} 1');
    expect(text).toContain('gc_k8s_op_duration_seconds_count{provider="session",op="peek",outcome="ok"} 1');
    expect(text).toContain('gc_k8s_op_errors_total{provider="session",op="start",code="SESSION_EXISTS"} 1');
    expect(text).toMatch(/gc_k8s_api_requests_total\{context="",verb="create",resource="pods"\} [1-9]/);
    expect(text).toMatch(/gc_k8s_api_responses_total\{context="",verb="create",resource="pods",status="201"\} [1-9]/);
    expect(text).toMatch(new RegExp(`gc_k8s_watch_cache_age_seconds\\{context="",namespace="${h.namespace}"\\} \\d`));
    expect(text).toContain(`gc_k8s_watch_cache_synced{context="",namespace="${h.namespace}"} 1`);
    expect(text).toMatch(new RegExp(`gc_k8s_watch_cache_objects\\{context="",namespace="${h.namespace}"\\} 1`));
    expect(text).toContain('gc_k8s_process_resident_memory_bytes');
    // sessions by phase from the watch cache, the start timed to ready, the failed one by reason
    const ns = `context="",namespace="${h.namespace}"`;
    expect(text).toContain(`gc_k8s_sessions{${ns},phase="running"} 1`);
    expect(text).toContain(`gc_k8s_sessions{${ns},phase="starting"} 0`);
    expect(text).toContain('gc_k8s_session_start_duration_seconds_count 1');
    expect(text).toContain('gc_k8s_session_start_failures_total{reason="Exists"} 1');
    // peek and is-running went over a persistent exec channel
    expect(text).toMatch(new RegExp(`gc_k8s_exec_channels_opened_total\\{${ns}\\} [1-9]`));
    expect(text).toMatch(new RegExp(`gc_k8s_exec_channels_open\\{${ns}\\} [1-9]`));
    expect(text).toContain(`gc_k8s_events_written_total{${ns}} 2`);
    expect(text).toContain(`gc_k8s_event_watchers{${ns}} 0`);
    expect(text).not.toContain('metered');
  });

  it('/healthz and /readyz answer ok once the namespace watch is synced', async () => {
    expect(await (await fetch(`http://${addr}/healthz`)).text()).toBe('ok\n');
    const ready = await fetch(`http://${addr}/readyz`);
    expect([ready.status, await ready.text()]).toEqual([200, 'ok\n']);
    // gc-k8s status gives the same answer
    const status = JSON.parse((await h.script('gc-k8s', ['status'], '', env)).out) as { ready: boolean; notReady: string[] };
    expect(status).toMatchObject({ ready: true, notReady: [] });
  });

  it('an address in use, or one beyond loopback without the opt-in, stops the daemon at start, saying why', async () => {
    const serve = (extra: Record<string, string>) =>
      h.run(process.execPath, [join(ROOT, 'bin', 'gc-k8s.js'), 'serve', '--socket', join(h.dir, 'second.sock')], '', h.env(extra));
    const inUse = await serve({ GC_K8S_METRICS_ADDR: addr });
    expect(inUse.code).not.toBe(0);
    expect(inUse.err).toContain(`GC_K8S_METRICS_ADDR ${addr} is in use`);
    const remote = await serve({ GC_K8S_METRICS_ADDR: '0.0.0.0:9464' });
    expect(remote.code).not.toBe(0);
    expect(remote.err).toContain('0.0.0.0 is not a loopback address');
  });
});
