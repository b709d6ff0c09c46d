import { describe, expect, it } from 'vitest';
import { phaseCounts, phaseOf, sessionPhases } from '../../../src/session/phases.js';
import { agentStatus, sessionPod } from '../../fakes/session-pods.js';

const agent = agentStatus;
const pod = sessionPod;

describe('session phases (the daemon metrics gc_k8s_sessions)', () => {
  const pods = [
    pod('a'),
    pod('b', { phase: 'Pending', containers: [agent('waiting', { reason: 'ContainerCreating' })] }),
    pod('c', { phase: 'Succeeded', containers: [agent('terminated', { reason: 'Completed', exitCode: 0 })] }),
    pod('d', { phase: 'Failed', containers: [agent('terminated', { reason: 'OOMKilled', exitCode: 137 })] }),
    pod('e', { deletionTimestamp: '2026-01-01T00:01:00Z' }),
    pod('w', { labels: { 'gc-k8s.io/warm': 'idle' }, annotations: {} }),
  ];

  it('puts each pod in one phase: starting, running, ended (exit 0), failed, stopping, warm', () => {
    expect(pods.map(phaseOf)).toEqual(['running', 'starting', 'ended', 'failed', 'stopping', 'warm']);
  });

  it('counts every phase, zeros included', () => {
    expect(phaseCounts(pods)).toEqual({ starting: 1, running: 1, ended: 1, failed: 1, stopping: 1, warm: 1 });
    expect(phaseCounts([])).toEqual({ starting: 0, running: 0, ended: 0, failed: 0, stopping: 0, warm: 0 });
  });

  it('names sessions (not idle warm pods) for per-session series', () => {
    expect(sessionPhases(pods).map((s) => `${s.session}=${s.phase}`)).toEqual([
      'a=running',
      'b=starting',
      'c=ended',
      'd=failed',
      'e=stopping',
    ]);
  });
});
