import { describe, expect, it } from 'vitest';
import type { PodUsage } from '../../../src/kube/types.js';
import { topRows } from '../../../src/session/top.js';
import { agentStatus, sessionPod } from '../../fakes/session-pods.js';

// restarted once: the row shows the agent container's restarts
const pod = (name: string, over: Record<string, unknown> = {}) =>
  sessionPod(name, { containers: [agentStatus('running', { restartCount: 1 })], ...over });

describe('topRows', () => {
  const usage: PodUsage[] = [
    {
      name: 'b',
      containers: [
        { name: 'agent', cpuCores: 0.25, memoryBytes: 100 * 2 ** 20 },
        { name: 'sidecar', cpuCores: 0.05, memoryBytes: 28 * 2 ** 20 },
      ],
    },
    { name: 'warm-1', containers: [{ name: 'agent', cpuCores: 0.01, memoryBytes: 1 }] },
  ];

  it('one row per session, sorted, with the pod summed over its containers, restarts and activity', () => {
    const pods = [
      pod('b'),
      pod('a', { phase: 'Pending', containers: [{ name: 'agent', state: 'waiting', ready: false, restartCount: 0 }] }),
    ];
    const rows = topRows(pods, usage, new Map([['b', '2026-01-01T00:05:00Z']]));
    expect(rows).toEqual([
      {
        session: 'a',
        phase: 'starting',
        pod: 'a',
        node: 'node-a',
        cpuCores: null,
        memoryBytes: null,
        restarts: 0,
        created: '2026-01-01T00:00:00Z',
        lastActivity: '',
      },
      {
        session: 'b',
        phase: 'running',
        pod: 'b',
        node: 'node-a',
        cpuCores: 0.3,
        memoryBytes: 128 * 2 ** 20,
        restarts: 1,
        created: '2026-01-01T00:00:00Z',
        lastActivity: '2026-01-01T00:05:00Z',
      },
    ]);
  });

  it('leaves out idle warm pods, and shows no figures at all without a metrics API', () => {
    const warm = pod('warm-1', { labels: { 'gc-k8s.io/warm': 'idle' }, annotations: {} });
    const rows = topRows([pod('b'), warm], undefined, new Map());
    expect(rows.map((r) => [r.session, r.cpuCores, r.memoryBytes])).toEqual([['b', null, null]]);
  });
});
