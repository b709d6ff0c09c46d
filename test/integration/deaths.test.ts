// Sessions that Kubernetes ends, on the real local cluster: an agent killed for memory and one
// preempted for a higher-priority session on a full node. The session's next op says why it went
// away (OOMKilled, PreemptionByScheduler) rather than only "not running", and the daemon records
// a session.died event with the reason, once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, until } from './harness.js';

const h = new Harness();
const classes = ['gct-death-low', 'gct-death-high'];

const ok = (argv: string[], stdin = '', extra: Record<string, string> = {}): Promise<string> => h.sessionOk(argv, stdin, extra);
async function died(session: string): Promise<{ message: string; payload: { reason: string } }[]> {
  const r = await h.script('gc-events-k8s', ['list'], JSON.stringify({ Type: 'session.died' }));
  expect(r, r.err).toMatchObject({ code: 0 });
  return ((JSON.parse(r.out || '[]') ?? []) as { subject: string; message: string; payload: { reason: string } }[]).filter(
    (e) => e.subject === session,
  );
}

beforeAll(async () => {
  await h.setup();
  for (const [i, pc] of classes.entries()) {
    const made = await h.run(
      h.kubectl,
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: pc }, value: 100 + i * 1000 }),
    );
    expect(made, made.err).toMatchObject({ code: 0 });
  }
  // the daemon records events once the city's event store is in use (gc calls ensure-running first)
  expect((await h.script('gc-events-k8s', ['ensure-running'])).code).toBe(0);
});
afterAll(async () => {
  await h.k(['delete', 'priorityclass', ...classes, '--ignore-not-found']);
  await h.teardown();
});

describe('a session Kubernetes ended', () => {
  it('OOMKilled: the next exec says so, and session.died records it once', async () => {
    const env = { GC_K8S_MEM_LIMIT: '48Mi', GC_K8S_MEM_REQUEST: '16Mi' };
    // the agent itself outgrows the limit (a child of it killed alone would not end the session)
    await ok(['start', 'hog'], JSON.stringify({ command: "sh -c 'sleep 3; tail /dev/zero'" }), env);
    await until(async () => (await h.session(['is-running', 'hog'], '', env)).out.trim() === 'false', 'the agent killed', 600);
    const r = await h.session(['exec', 'hog'], 'true', env);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/session "hog" is not running: the agent in pod hog died: killed for exceeding its memory limit \(OOMKilled\)/);
    await until(async () => (await died('hog')).length > 0, 'session.died recorded', 300);
    const events = await died('hog');
    expect(events).toHaveLength(1);
    expect(events[0]!.payload.reason).toBe('OOMKilled');
    // and gc-k8s sessions shows why it ended
    const listed = await h.script('gc-k8s', ['sessions'], '', env);
    expect(listed.out).toMatch(/hog\s+ended \(OOMKilled, exit 137\)/);
    await ok(['stop', 'hog'], '', env);
  });

  it('preempted by a higher-priority session on a full node: the low one says it was preempted', async () => {
    // both on one node, each asking 60 % of the CPU its pods leave free: one fits, two do not
    const node = (await h.k(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])).out.trim();
    const millis = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000);
    const allocatable = millis((await h.k(['get', 'node', node, '-o', 'jsonpath={.status.allocatable.cpu}'])).out.trim());
    const requested = (
      await h.k([
        'get',
        'pods',
        '-A',
        '--field-selector',
        `spec.nodeName=${node}`,
        '-o',
        'jsonpath={.items[*].spec.containers[*].resources.requests.cpu}',
      ])
    ).out
      .split(/\s+/)
      .filter((q) => q !== '')
      .reduce((sum, q) => sum + millis(q), 0);
    const each = Math.floor((allocatable - requested) * 0.6);
    expect(each).toBeGreaterThan(100);
    const big = {
      GC_K8S_CPU_REQUEST: `${each}m`,
      GC_K8S_CPU_LIMIT: 'none',
      GC_K8S_NODE_SELECTOR: JSON.stringify({ 'kubernetes.io/hostname': node }),
    };
    const low = { ...big, GC_K8S_PRIORITY_CLASS_NAME: 'gct-death-low' };
    const high = { ...big, GC_K8S_PRIORITY_CLASS_NAME: 'gct-death-high' };
    await ok(['start', 'low'], JSON.stringify({ command: 'bash' }), low);
    await ok(['start', 'high'], JSON.stringify({ command: 'bash' }), high);
    expect((await h.session(['is-running', 'high'], '', high)).out.trim()).toBe('true');
    await until(async () => (await h.session(['is-running', 'low'], '', low)).out.trim() === 'false', 'low gone', 300);
    const r = await h.session(['exec', 'low'], 'true', low);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/session "low" is not running: pod low was removed by Kubernetes: PreemptionByScheduler/);
    await until(async () => (await died('low')).length > 0, 'session.died recorded', 300);
    expect((await died('low'))[0]!.payload.reason).toBe('PreemptionByScheduler');
    await ok(['stop', 'high'], '', high);
    await ok(['stop', 'low'], '', low);
  });
});
