// Agent pods as the watch cache holds them, for unit tests of what reads session state from pods
// (phases, top): a running session by default, every field overridable.

import type { Pod } from '../../src/kube/types.js';

/** The agent container's status in a given state. */
export const agentStatus = (state: 'running' | 'waiting' | 'terminated', more: Record<string, unknown> = {}) => ({
  name: 'agent',
  state,
  ready: state === 'running',
  restartCount: 0,
  ...more,
});

/** A session pod named after its session, running on node-a. */
export function sessionPod(name: string, over: Record<string, unknown> = {}): Pod {
  return {
    name,
    uid: name,
    resourceVersion: '1',
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: {},
    annotations: { 'gc-session-name': name },
    phase: 'Running',
    nodeName: 'node-a',
    conditions: [],
    initContainers: [],
    containers: [agentStatus('running')],
    ...over,
  } as unknown as Pod;
}
