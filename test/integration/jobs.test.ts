// Sessions as batch/v1 Jobs on the real local cluster (its kube-controller-manager runs the job
// and TTL controllers): gc 1.x one_shot tasks report exit status 0 and 3 through peek and
// `gc-k8s sessions`; stop deletes the Job and its pod; job_ttl lets Kubernetes clean up by itself
// (the credentials Secret, owned by the Job, with them); workload = "job" runs an interactive
// session in a Job's pod that every op (and kubectl exec … tmux) reaches; job_deadline ends it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, until } from './harness.js';

const h = new Harness();
const oneShot = (command: string, env: Record<string, string> = {}) => JSON.stringify({ command, lifecycle: 'one_shot', env });

const ok = (argv: string[], stdin = '', extra: Record<string, string> = {}): Promise<string> => h.sessionOk(argv, stdin, extra);
const exists = async (kind: string, name: string) => (await h.k(['get', kind, name, '--ignore-not-found', '-o', 'name'])).out.trim() !== '';
const podsOfJob = async (job: string) =>
  (await h.k(['get', 'pods', '-l', `batch.kubernetes.io/job-name=${job}`, '-o', 'name'])).out
    .trim()
    .split('\n')
    .filter((l) => l !== '');
const jobConditions = async (job: string) => (await h.k(['get', 'job', job, '-o', 'jsonpath={.status.conditions[*].type}'])).out;

interface Row {
  session: string;
  state: string;
  job: string;
  exitCode: number | null;
}
async function sessionRow(name: string, extra: Record<string, string> = {}): Promise<Row | undefined> {
  const r = await h.script('gc-k8s', ['sessions', '--json'], '', extra);
  expect(r, r.err).toMatchObject({ code: 0 });
  return (JSON.parse(r.out) as { sessions: Row[] }).sessions.find((s) => s.session === name);
}

beforeAll(async () => {
  await h.setup();
});
afterAll(async () => {
  await h.teardown();
});

describe('one_shot sessions run as Jobs', () => {
  it('exit status 3 and 0 are both reported (peek, gc-k8s sessions, the Job), and stop deletes the Job and its pod', async () => {
    await ok(['start', 'three'], oneShot("sh -c 'echo result-three; exit 3'"));
    await ok(['start', 'zero'], oneShot("sh -c 'echo result-zero'"));
    expect(await exists('job', 'three')).toBe(true);
    await until(async () => (await jobConditions('three')).includes('Failed'), 'job three failed', 600);
    await until(async () => (await jobConditions('zero')).includes('Complete'), 'job zero complete', 600);
    // backoffLimit 0: the failed task was not run again
    expect(await podsOfJob('three')).toHaveLength(1);
    expect((await h.session(['is-running', 'three'])).out.trim()).toBe('false');
    const three = await ok(['peek', 'three', '20']);
    expect(three).toContain('result-three');
    expect(three).toContain('[one-shot session ended: exit status 3]');
    expect(await ok(['peek', 'zero', '20'])).toContain('[one-shot session ended: exit status 0]');
    expect(await sessionRow('three')).toMatchObject({ state: 'ended', job: 'three', exitCode: 3 });
    expect(await sessionRow('zero')).toMatchObject({ state: 'ended', job: 'zero', exitCode: 0 });
    // the Job's own events record its end
    const events = (
      await h.k([
        'get',
        'events',
        '--field-selector',
        'involvedObject.kind=Job,involvedObject.name=three',
        '-o',
        'jsonpath={.items[*].reason}',
      ])
    ).out;
    expect(events).toMatch(/BackoffLimitExceeded/);

    await ok(['stop', 'three']);
    expect(await exists('job', 'three')).toBe(false);
    expect(await podsOfJob('three')).toEqual([]);
    await ok(['stop', 'zero']);
    expect(await exists('job', 'zero')).toBe(false);
    expect(await podsOfJob('zero')).toEqual([]);
    // and the same name starts again
    await ok(['start', 'three'], oneShot("sh -c 'exit 3'"));
    await ok(['stop', 'three']);
  });

  it('a Job the quota gives no pod: start exits 75 naming the quota, within its deadline, and deletes the Job', async () => {
    const quota = { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'no-pods' }, spec: { hard: { pods: '0' } } };
    const made = await h.run(h.kubectl, ['-n', h.namespace, 'create', '-f', '-'], JSON.stringify(quota));
    expect(made, made.err).toMatchObject({ code: 0 });
    try {
      // the quota admission plugin may take a moment to see a new quota: until it refuses pods
      await until(
        async () => (await h.k(['run', 'probe', '--image=x', '--restart=Never', '--dry-run=server'])).err.includes('exceeded quota'),
        'the quota in force',
        300,
      );
      const r = await h.session(['start', 'squeezed'], oneShot("sh -c 'exit 0'"));
      expect(r.code, r.err).toBe(75);
      expect(r.err).toMatch(/quota has no room for the pod of job squeezed: .*exceeded quota: no-pods/);
      expect(await exists('job', 'squeezed')).toBe(false);
    } finally {
      await h.k(['delete', 'resourcequota', 'no-pods']);
    }
  });

  it('job_ttl: Kubernetes deletes an ended Job, its pod and its credentials Secret by itself', async () => {
    const ttl = { GC_K8S_JOB_TTL: '1s' };
    await ok(['start', 'brief'], oneShot("sh -c 'echo brief'", { ANTHROPIC_API_KEY: 'sk-ant-JOBSECRET' }), ttl);
    const secret = JSON.parse((await h.k(['get', 'secret', 'brief-credentials', '-o', 'json'])).out) as {
      metadata: { ownerReferences: { kind: string; name: string }[] };
    };
    expect(secret.metadata.ownerReferences).toMatchObject([{ kind: 'Job', name: 'brief' }]);
    expect((await h.k(['get', 'job', 'brief', '-o', 'json'])).out).not.toContain('JOBSECRET');
    await until(async () => !(await exists('job', 'brief')), 'ttl removes the job', 900);
    await until(async () => (await podsOfJob('brief')).length === 0, 'its pod goes with it', 600);
    await until(async () => !(await exists('secret', 'brief-credentials')), 'its Secret goes with it', 600);
    expect(await sessionRow('brief', ttl)).toBeUndefined();
    await ok(['stop', 'brief'], '', ttl); // stop of a session whose Job is gone: nothing to do, no error
  });
});

describe('workload = "job"', () => {
  const JOB = { GC_K8S_WORKLOAD: 'job' };

  it('an interactive session in a Job pod: every op and kubectl exec … tmux reach it; stop deletes the Job', async () => {
    await ok(['start', 'desk'], JSON.stringify({ command: 'bash' }), JOB);
    const [pod] = await podsOfJob('desk');
    expect(pod).toMatch(/^pod\/desk-/);
    expect((await h.session(['is-running', 'desk'], '', JOB)).out.trim()).toBe('true');
    await ok(['nudge', 'desk'], 'echo job-pod-ok', JOB);
    await until(async () => (await h.session(['peek', 'desk', '20'], '', JOB)).out.includes('job-pod-ok\n'), 'nudge seen in peek', 300);
    const attach = await h.k(['exec', pod!.slice(4), '-c', 'agent', '--', 'tmux', 'has-session', '-t', 'main']);
    expect(attach, attach.err).toMatchObject({ code: 0 });
    expect((await ok(['list-running', ''], '', JOB)).split('\n')).toContain('desk');
    // a second start of a running session is refused, as for a pod
    const again = await h.session(['start', 'desk'], JSON.stringify({ command: 'bash' }), JOB);
    expect(again.code).not.toBe(0);
    expect(again.err).toMatch(/already exists/);
    await ok(['stop', 'desk'], '', JOB);
    expect(await exists('job', 'desk')).toBe(false);
    expect(await podsOfJob('desk')).toEqual([]);
    expect((await h.session(['is-running', 'desk'], '', JOB)).out.trim()).toBe('false');
  });

  it('job_deadline ends a session that runs too long (DeadlineExceeded)', async () => {
    const env = { ...JOB, GC_K8S_JOB_DEADLINE: '4s' };
    await ok(['start', 'late'], JSON.stringify({ command: 'bash' }), env);
    await until(
      async () => (await h.k(['get', 'job', 'late', '-o', 'jsonpath={.status.conditions[*].reason}'])).out.includes('DeadlineExceeded'),
      'deadline',
      60_000,
    );
    await until(async () => (await h.session(['is-running', 'late'], '', env)).out.trim() === 'false', 'session ended', 600);
    await ok(['stop', 'late'], '', env);
    expect(await exists('job', 'late')).toBe(false);
  });

  it('a bad job setting is a config error naming the key, and nothing is made', async () => {
    for (const [key, value] of [
      ['GC_K8S_WORKLOAD', 'cronjob'],
      ['GC_K8S_JOB_TTL', 'soon'],
      ['GC_K8S_JOB_DEADLINE', '0s'],
    ] as const) {
      const r = await h.session(['start', 'bad'], JSON.stringify({ command: 'bash' }), { [key]: value });
      expect(r.code, key).not.toBe(0);
      expect(r.err, key).toMatch(new RegExp(key.replace('GC_K8S_', '').toLowerCase() + '|' + key));
    }
    expect(await exists('job', 'bad')).toBe(false);
    expect(await exists('pod', 'bad')).toBe(false);
  });
});
