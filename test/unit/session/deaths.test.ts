// Deaths seen in the pods' watch: which changes are deaths (OOMKilled, exit, eviction, preemption)
// and which are not (a stop, a failed start, a warm pod, a pod of another provider), each
// reported once, and the session's next op saying why it is gone.
import { describe, expect, it } from 'vitest';
import { deathOf, DeathLog, type Death } from '../../../src/session/deaths.js';
import { DEFAULT_POD_SETTINGS } from '../../../src/session/settings.js';
import { DEFAULT_SESSION_OPTIONS } from '../../../src/session/options.js';
import { SessionProvider } from '../../../src/session/provider.js';
import { silentLogger } from '../../../src/log/logger.js';
import { systemClock } from '../../../src/util/clock.js';
import { KeyedMutex } from '../../../src/util/keyed-mutex.js';
import { DirectRunner } from '../../../src/exec/runner.js';
import { FakeCluster, running } from '../../fakes/fake-cluster.js';
import type { Pod } from '../../../src/kube/types.js';

const fake = new FakeCluster();
const ours = { 'gc-session-name': 'mayor', 'gc-k8s.io/entrypoint': '3' };
const alive = fake.makePod({ name: 'mayor', annotations: ours, phase: 'Running', containers: [running()] });
const terminated = (reason: string, exitCode: number): Pod => ({
  ...alive,
  phase: exitCode === 0 ? 'Succeeded' : 'Failed',
  containers: [{ name: 'agent', ready: false, restartCount: 0, state: 'terminated', reason, exitCode }],
});

describe('deathOf', () => {
  it('OOMKilled, an exit, an eviction and a preemption are deaths, with their reason', () => {
    expect(deathOf(alive, terminated('OOMKilled', 137))).toMatchObject({
      session: 'mayor',
      reason: 'OOMKilled',
      exitCode: 137,
      ended: false,
      message: expect.stringMatching(/died: killed for exceeding its memory limit \(OOMKilled\)/) as unknown,
    });
    expect(deathOf(alive, terminated('Error', 3))?.message).toMatch(/died: exit status 3$/);
    expect(deathOf(alive, { ...alive, phase: 'Failed', reason: 'Evicted', containers: [] })).toMatchObject({ reason: 'Evicted' });
    const preempted: Pod = {
      ...alive,
      deletionTimestamp: new Date().toISOString(),
      conditions: [
        {
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'PreemptionByScheduler',
          message: 'default-scheduler: preempting to accommodate a higher priority pod',
        },
      ],
    };
    expect(deathOf(alive, preempted)).toMatchObject({
      reason: 'PreemptionByScheduler',
      message: expect.stringMatching(/removed by Kubernetes: PreemptionByScheduler \(.*higher priority/) as unknown,
    });
    // a one_shot task that ran to its end is an end, not a death
    const task = { ...terminated('Completed', 0), annotations: { ...ours, 'gc-k8s.io/lifecycle': 'one_shot' } };
    expect(deathOf({ ...alive, annotations: task.annotations }, task)).toMatchObject({ ended: true, exitCode: 0 });
  });

  it('a stop, a failed start, a warm pod, a pod of another provider and an unchanged end are not', () => {
    expect(deathOf(alive, { ...terminated('Error', 143), deletionTimestamp: new Date().toISOString() })).toBeUndefined();
    expect(deathOf(alive, { ...terminated('Error', 1), annotations: { ...ours, 'gc-k8s.io/start-pending': 'start' } })).toBeUndefined();
    expect(deathOf(alive, { ...terminated('Error', 1), labels: { app: 'gc-agent', 'gc-k8s.io/warm': 'idle' } })).toBeUndefined();
    expect(deathOf(alive, { ...terminated('Error', 1), annotations: { 'gc-session-name': 'mayor' } })).toBeUndefined();
    expect(deathOf(terminated('Error', 1), terminated('Error', 1))).toBeUndefined();
    expect(deathOf(alive, alive)).toBeUndefined();
  });
});

describe('DeathLog', () => {
  it('reports each death once, keeps the last per session, and the next exec says why the session is gone', async () => {
    const cluster = new FakeCluster();
    const log = new DeathLog(cluster.agentPods);
    const seen: Death[] = [];
    log.onDeath((d) => seen.push(d));
    const provider = new SessionProvider({
      client: cluster,
      settings: { ...DEFAULT_POD_SETTINGS, image: 'gc-agent:test' },
      options: { ...DEFAULT_SESSION_OPTIONS, settleMs: 0 },
      clock: systemClock,
      log: silentLogger(),
      locks: new KeyedMutex(),
      runner: new DirectRunner(cluster.exec),
      deaths: log,
    });
    cluster.agentPods.put(alive);
    cluster.agentPods.put(terminated('OOMKilled', 137));
    cluster.agentPods.put({ ...terminated('OOMKilled', 137), resourceVersion: '9' });
    expect(seen.map((d) => d.reason)).toEqual(['OOMKilled']);
    expect(log.lastDeath('mayor')?.reason).toBe('OOMKilled');
    await expect(
      provider.exec('mayor', 'true', { deadlineMs: 1000, maxOutputBytes: 1024, signal: AbortSignal.timeout(2000) }),
    ).rejects.toMatchObject({
      code: 'SESSION_NOT_FOUND',
      message: expect.stringMatching(
        /session "mayor" is not running: the agent in pod mayor died: killed for exceeding its memory limit \(OOMKilled\)/,
      ) as unknown,
    });
    // a stop (or a new start) makes it history
    await provider.stop('mayor', AbortSignal.timeout(2000));
    expect(log.lastDeath('mayor')).toBeUndefined();
    log.close();
  });
});
