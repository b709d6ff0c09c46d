// Sessions that run as a batch/v1 Job (one_shot, workload = "job"): the pure builder, and the
// start/stop paths over the fake cluster, whose job controller makes the pod from the template.
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_POD_SETTINGS, type PodSettings } from '../../../src/session/settings.js';
import { DEFAULT_SESSION_OPTIONS } from '../../../src/session/options.js';
import { SessionProvider } from '../../../src/session/provider.js';
import { parseStartRequest } from '../../../src/session/request.js';
import { buildAgentSession } from '../../../src/session/manifest.js';
import { buildJob, runsAsJob } from '../../../src/session/job.js';
import { silentLogger } from '../../../src/log/logger.js';
import { systemClock } from '../../../src/util/clock.js';
import { KeyedMutex } from '../../../src/util/keyed-mutex.js';
import { DirectRunner } from '../../../src/exec/runner.js';
import { FakeCluster } from '../../fakes/fake-cluster.js';

let fake: FakeCluster;
let provider: SessionProvider;
const signal = () => AbortSignal.timeout(5_000);
const settings: PodSettings = { ...DEFAULT_POD_SETTINGS, image: 'gc-agent:test', workload: 'job' };

function make(over: Partial<PodSettings> = {}) {
  provider = new SessionProvider({
    client: fake,
    settings: { ...settings, ...over },
    options: { ...DEFAULT_SESSION_OPTIONS, settleMs: 0, containerExitWaitMs: 150, diedReportWaitMs: 250, startTimeoutMs: 4_000 },
    clock: systemClock,
    log: silentLogger(),
    locks: new KeyedMutex(),
    runner: new DirectRunner(fake.exec),
  });
}
const start = (name: string, json: object = { command: 'agent' }) =>
  provider.start(name, parseStartRequest(JSON.stringify(json)), signal());

beforeEach(() => {
  fake = new FakeCluster();
  make();
});

describe('buildJob', () => {
  it('wraps the session pod: never retried, deleted job_ttl after it ended, ended at job_deadline, same labels and annotations', () => {
    const { pod } = buildAgentSession('mayor', parseStartRequest('{"command":"agent"}'), settings);
    const job = buildJob(pod, { ...settings, jobTtlSeconds: 60, jobDeadlineSeconds: 600 });
    expect(job.metadata.name).toBe(pod.metadata.name);
    expect(job.spec).toMatchObject({ backoffLimit: 0, ttlSecondsAfterFinished: 60, activeDeadlineSeconds: 600 });
    expect(job.spec.template.spec).toEqual({ ...pod.spec, restartPolicy: 'Never' });
    expect(job.spec.template.metadata.labels).toEqual(pod.metadata.labels);
    expect(job.spec.template.metadata.annotations).toMatchObject({ ...pod.metadata.annotations, 'gc-k8s.io/workload': 'job' });
    const kept = buildJob(pod, { ...settings, jobTtlSeconds: undefined, jobDeadlineSeconds: undefined });
    expect(kept.spec).not.toHaveProperty('ttlSecondsAfterFinished');
    expect(kept.spec).not.toHaveProperty('activeDeadlineSeconds');
  });

  it('one_shot starts run as Jobs in any city; provision only with workload = "job"', () => {
    const oneShot = parseStartRequest('{"command":"make","lifecycle":"one_shot"}');
    const persistent = parseStartRequest('{"command":"agent"}');
    const pods = { ...settings, workload: 'pod' as const };
    expect(runsAsJob(oneShot, pods, 'start')).toBe(true);
    expect(runsAsJob(persistent, pods, 'start')).toBe(false);
    expect(runsAsJob(oneShot, pods, 'provision')).toBe(false);
    expect(runsAsJob(persistent, settings, 'start')).toBe(true);
    expect(runsAsJob(persistent, settings, 'provision')).toBe(true);
  });
});

describe('a session that runs as a Job', () => {
  it('is the pod its Job made, for every op; stop deletes the Job and its pod', async () => {
    await start('mayor');
    expect(fake.calls.slice(0, 1)).toEqual(['create job mayor']);
    const [pod] = fake.agentPods.list();
    expect(pod?.controller).toMatchObject({ kind: 'Job', name: 'mayor', uid: fake.jobObjects.get('mayor')?.uid });
    expect(await provider.isRunning('mayor', signal())).toBe(true);
    expect(await provider.listRunning('', signal())).toEqual(['mayor']);
    await provider.nudge('mayor', 'hello', signal());
    await provider.stop('mayor', signal());
    expect(fake.calls).toContain('delete job mayor');
    expect(fake.jobObjects.size).toBe(0);
    expect(fake.agentPods.list()).toEqual([]);
    expect(await provider.isRunning('mayor', signal())).toBe(false);
  });

  it('a second start is refused while the first runs; an ended Job of the session gives way to the next start', async () => {
    await start('mayor');
    await expect(start('mayor')).rejects.toMatchObject({ code: 'SESSION_EXISTS' });
    // the pod deleted out of band: the Job stays (failed) until its ttl; the next start replaces it
    const first = fake.jobObjects.get('mayor')!;
    const [pod] = fake.agentPods.list();
    await fake.delete(pod!.name, { signal: signal() });
    await new Promise((r) => setTimeout(r, 20));
    await start('mayor');
    expect(fake.jobObjects.get('mayor')?.uid).not.toBe(first.uid);
    expect(await provider.isRunning('mayor', signal())).toBe(true);
  });

  it('stop removes a Job whose pod is already gone, and never a Job of another session', async () => {
    await start('mayor');
    const [pod] = fake.agentPods.list();
    await fake.delete(pod!.name, { signal: signal() });
    await new Promise((r) => setTimeout(r, 20));
    await provider.stop('mayor', signal());
    expect(fake.jobObjects.size).toBe(0);
    await fake.jobs.create(
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'other', annotations: { 'gc-session-name': 'someone' } },
        spec: { backoffLimit: 0, template: { metadata: {}, spec: { containers: [] } } },
      },
      { signal: signal() },
    );
    fake.jobController = 'none';
    await provider.stop('other', signal());
    expect(fake.jobObjects.has('other')).toBe(true);
    await expect(start('other')).rejects.toThrow(/job name other is taken by session "someone"/);
  });

  it('a Job that cannot make its pod fails the start with the reason, CAPACITY for quota, and is deleted', async () => {
    fake.jobController = 'none';
    const failedCreate = (message: string) => [
      { type: 'Warning', reason: 'FailedCreate', message, count: 1, lastSeen: new Date().toISOString() },
    ];
    fake.jobEvents.set(
      'q',
      failedCreate('Error creating: pods "q-x1" is forbidden: exceeded quota: compute, requested: cpu=1, used: cpu=2, limited: cpu=2'),
    );
    await expect(start('q')).rejects.toMatchObject({
      code: 'CAPACITY',
      message: expect.stringMatching(/quota has no room for the pod of job q: .*exceeded quota: compute/) as unknown,
    });
    expect(fake.jobObjects.has('q')).toBe(false);
    fake.jobEvents.set('v', failedCreate('Error creating: pods "v-x1" is forbidden: violates PodSecurity "restricted:latest"'));
    await expect(start('v')).rejects.toMatchObject({
      code: 'START_FAILED',
      message: expect.stringMatching(/job v made no pod: .*violates PodSecurity/) as unknown,
    });
    expect(fake.jobObjects.size).toBe(0);
  });

  it("credentials: the Secret is owned by the Job (it lives as long as the Job's result), and the pod is released once it exists", async () => {
    await start('cred', { command: 'agent', env: { ANTHROPIC_API_KEY: 'sk-test' } });
    const secret = fake.createdSecrets.get('cred-credentials');
    expect(secret?.metadata.ownerReferences).toEqual([
      { apiVersion: 'batch/v1', kind: 'Job', name: 'cred', uid: fake.jobObjects.get('cred')?.uid, blockOwnerDeletion: false },
    ]);
    expect(JSON.stringify(fake.jobManifests.get('cred'))).not.toContain('sk-test');
    expect(fake.calls.filter((c) => c.startsWith('ungate'))).toHaveLength(1);
    expect(await provider.isRunning('cred', signal())).toBe(true);
  });
});
