import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/kube/types.js';
import { abandonedStarts } from '../../../src/session/sweep.js';

const now = Date.parse('2026-12-02T12:00:00Z');
function pod(name: string, minutesOld: number, pending: string | undefined, phase: 'Pending' | 'Running' = 'Pending'): Pod {
  return {
    name,
    namespace: 'gc',
    uid: name,
    resourceVersion: '1',
    labels: { app: 'gc-agent' },
    annotations: { 'gc-session-name': name, ...(pending === undefined ? {} : { 'gc-k8s.io/start-pending': pending }) },
    phase,
    containers:
      phase === 'Running'
        ? [{ name: 'agent', ready: true, restartCount: 0, state: 'running' }]
        : [{ name: 'agent', ready: false, restartCount: 0, state: 'waiting', reason: 'ContainerCreating' }],
    initContainers: [],
    conditions: [],
    creationTimestamp: new Date(now - minutesOld * 60_000).toISOString(),
  } as unknown as Pod;
}

describe('abandonedStarts', () => {
  it('picks old pods whose bring-up never finished and that no start works on', () => {
    const pods = [
      pod('old-stuck', 10, 'start,nudge'), // a start died before tmux came up: removed
      pod('young', 2, 'start'), // may still be starting
      pod('finished', 10, undefined), // start finished
      pod('busy', 10, 'start'), // a start of it runs right now
      pod('running', 10, 'start', 'Running'), // a candidate: the sweeper asks tmux whether it is live
      pod('nudge-only', 10, 'nudge'), // up and running, only the nudge was lost
    ];
    expect(abandonedStarts(pods, now, (s) => s === 'busy').map((p) => p.name)).toEqual(['old-stuck', 'running']);
  });
});
